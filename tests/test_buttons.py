"""A bare answer to a button press (it only stops the spinner) is sent once the work the press
asked for has been done, so that it does not share the processor with that work, and at the
latest ``ANSWER_WITHIN`` seconds after the press when the work takes longer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import handlers.official_form
from handlers.common import buttons
from tests.botapi import StandInBotApi
from tests.harness import (
    LI,
    QIAN,
    WANG,
    XU,
    BotHarness,
    alert_for,
    official_report_card,
    quick_report,
)


class Query:
    """A callback query that notes when it was answered."""

    def __init__(self) -> None:
        self.answered_at: float | None = None

    async def answer(self, text: str | None = None, show_alert: bool = False) -> None:
        self.answered_at = time.monotonic()


class Context:
    """What ``answer_soon`` needs of a python-telegram-bot context: ``application.create_task``."""

    def __init__(self) -> None:
        self.application = self
        self.tasks: list[asyncio.Task[Any]] = []

    def create_task(self, coroutine: Any, name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self.tasks.append(task)
        return task


async def test_a_press_is_answered_when_its_handling_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(buttons, "ANSWER_WITHIN", 30.0)  # the order, not the cap, is tested
    query, context = Query(), Context()
    with buttons.answers_after_handling():
        buttons.answer_soon(context, query)  # type: ignore[arg-type]
        await asyncio.sleep(0.05)  # the work the press asked for
        assert query.answered_at is None
        returned = time.monotonic()
    await asyncio.gather(*context.tasks)
    assert query.answered_at is not None and query.answered_at >= returned


async def test_long_work_does_not_keep_the_spinner_beyond_answer_within(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(buttons, "ANSWER_WITHIN", 0.05)
    query, context = Query(), Context()
    with buttons.answers_after_handling():
        buttons.answer_soon(context, query)  # type: ignore[arg-type]
        await asyncio.sleep(1.0)
        assert query.answered_at is not None  # while the work goes on


async def test_outside_an_update_s_handling_a_press_is_answered_at_once() -> None:
    query, context = Query(), Context()
    buttons.answer_soon(context, query)  # type: ignore[arg-type]
    await asyncio.gather(*context.tasks)
    assert query.answered_at is not None


async def test_the_file_press_is_answered_after_the_report_is_filed(
    harness: BotHarness, botapi: StandInBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the running bot: the answer to File reaches Telegram after the filing returned
    (the filing is slowed down here, so that an answer sent at the press would come first)."""
    harness.open_chats(WANG, LI, XU, QIAN)
    li = harness.user(LI, "Li")
    number = await quick_report(harness, harness.user(XU, "Xu"), "Burst main on Elm Street")
    await li.press(await alert_for(li), "Accept")
    await harness.quiet()
    card = await official_report_card(li, f"/initial {number}")
    file_report, filed_at, answered_at = handlers.official_form.flows.file_report, [], []

    async def slow_file_report(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.15)
        filed = await file_report(*args, **kwargs)
        filed_at.append(time.monotonic())
        return filed

    def note_answer(method: str, params: dict[str, Any]) -> None:
        if method == "answercallbackquery":
            answered_at.append(time.monotonic())

    monkeypatch.setattr(handlers.official_form.flows, "file_report", slow_file_report)
    monkeypatch.setattr(buttons, "ANSWER_WITHIN", 30.0)  # the order, not the cap, is tested
    await harness.quiet()
    botapi.call_hooks.append(note_answer)
    await li.press(card, data="1:ofy:file")
    assert "is filed" in (await li.next_message()).text
    await botapi.wait_until(lambda: bool(answered_at))
    assert len(filed_at) == 1 and answered_at[0] > filed_at[0]
