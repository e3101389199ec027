"""Answering a button press: best effort, never an error for an action that already stands."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from telegram import CallbackQuery
from telegram.error import TelegramError
from telegram.ext import CallbackContext

log = logging.getLogger(__name__)
# a bare answer waits for the press's handling to return, at most this long (seconds)
ANSWER_WITHIN = 0.25
_handled: ContextVar[asyncio.Future[None] | None] = ContextVar("dutybot_handled", default=None)


async def answer_button(
    query: CallbackQuery, text: str | None = None, *, show_alert: bool = False
) -> bool:
    """Answer a button press; a failure is logged as one warning line. Tell whether it went."""
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramError as error:
        log.warning(
            "could not answer a button press (%s: %s); its action stands",
            type(error).__name__,
            error,
        )
        return False
    return True


def answer_soon(context: CallbackContext[Any, Any, Any, Any], query: CallbackQuery) -> None:
    """Answer a press without waiting for Telegram's reply: a bare answer only stops the
    button's spinner, so the work the press asks for (filing a report, signing it off) need
    not wait a round trip for it. Nor does it share the processor with that work: the answer
    is sent once the press's handling has returned (``answers_after_handling``), or after
    ``ANSWER_WITHIN`` seconds if the work takes longer. The Application keeps the task and
    awaits it at shutdown."""
    handled = _handled.get()
    context.application.create_task(_answer_after(query, handled), name="dutybot-answer-button")


async def _answer_after(query: CallbackQuery, handled: asyncio.Future[None] | None) -> None:
    if handled is not None and not handled.done():
        await asyncio.wait({handled}, timeout=ANSWER_WITHIN)
    await answer_button(query)


@contextmanager
def answers_after_handling() -> Iterator[None]:
    """Around one update's handling: a press answered with ``answer_soon`` in it is answered
    when the handling returns (at the latest ``ANSWER_WITHIN`` seconds after the press)."""
    handled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    token = _handled.set(handled)
    try:
        yield
    finally:
        _handled.reset(token)
        handled.set_result(None)
