"""Webhook mode: Telegram posts updates with the secret header; a forged post changes nothing,
a real one is handled once even when posted twice."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.models import InboxUpdate, IncidentRow, ProcessedUpdate
from scheduling.clock import FakeClock
from tests.botapi import StandInBotApi
from tests.harness import XU, BotHarness, eventually, write_config

SECRET = "s3cret-token_for-the-webhook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def webhook_bot(
    tmp_path: Path, botapi: StandInBotApi, database_url: str, clock: FakeClock
) -> AsyncIterator[BotHarness]:
    port = free_port()
    config = write_config(
        tmp_path,
        base_url=botapi.base_url,
        database_url=database_url,
        telegram_extra=(
            f'mode = "webhook"\n\n[telegram.webhook]\nurl = "http://127.0.0.1:{port}/telegram"\n'
            f'secret_token = "{SECRET}"\nlisten = "127.0.0.1"\nport = {port}\n'
        ),
    )
    bot = BotHarness(config, botapi, clock)
    await bot.start()
    yield bot
    await bot.stop()


async def count(bot: BotHarness, model: type) -> int:
    assert bot.runtime is not None
    async with bot.runtime.database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_webhook_is_set_with_its_secret_and_answers_users(
    webhook_bot: BotHarness, botapi: StandInBotApi
) -> None:
    assert botapi.webhook is not None
    assert botapi.webhook["secret_token"] == SECRET
    assert botapi.webhook["url"].endswith("/telegram")
    xu = webhook_bot.user(XU, "Xu")
    await xu.send("/start")
    assert "Xu Tao" in (await xu.next_message()).text
    assert not [c for c in botapi.calls if c[0] == "getupdates"]


async def test_a_forged_post_changes_nothing_and_a_real_one_counts_once(
    webhook_bot: BotHarness, botapi: StandInBotApi
) -> None:
    xu = webhook_bot.user(XU, "Xu")
    botapi.started_chats.add(XU)
    forged = {"update_id": 900, "message": xu.message("/report Forged: dam burst")}
    assert await botapi.post_update(forged, secret="") == 401
    assert await botapi.post_update(forged, secret="wrong-secret-of-the-same-size") == 401
    # the refusal is answered after nothing was stored
    assert await count(webhook_bot, InboxUpdate) == 0
    assert await count(webhook_bot, ProcessedUpdate) == 0

    real = {"update_id": 901, "message": xu.message("/report Pipe burst on Elm Street")}
    assert await botapi.post_update(real) == 200
    assert await botapi.post_update(real) == 200  # Telegram did not see the first 200

    async def handled() -> bool:
        return await count(webhook_bot, ProcessedUpdate) == 1

    await eventually(handled)
    receipt = await xu.next_message()
    assert receipt.text.startswith("Received as #1.")
    await webhook_bot.quiet()
    assert await count(webhook_bot, IncidentRow) == 1
    assert await count(webhook_bot, InboxUpdate) == 1
    assert [m.text for m in xu.inbox()] == [receipt.text]
