"""Nothing committed is lost: ``dutybot run`` killed with SIGKILL mid-delivery, then restarted,
delivers every queued message (at least once, in order per chat)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.delivery.outbox import ROUTINE, enqueue
from tests.botapi import StandInBotApi
from tests.harness import start_bot, write_config

CHATS = [70001, 70002, 70003, 70004]
PER_CHAT = 10


async def test_sigkill_mid_delivery_loses_nothing(
    tmp_path: Path, botapi: StandInBotApi, database_url: str
) -> None:
    config = write_config(
        tmp_path,
        base_url=botapi.base_url,
        database_url=database_url,
        private_per_second=4.0,
        extra='claim_lease = "2s"\n',
    )
    botapi.started_chats.update(CHATS)
    botapi.send_delay = 0.1  # so that sends are in flight when the kill comes
    database = Database(database_url)
    await upgrade(database)
    expected = {chat: [f"#{n} for {chat}" for n in range(PER_CHAT)] for chat in CHATS}
    async with database.transaction() as session:
        for n in range(PER_CHAT):
            for chat in CHATS:
                enqueue(session, chat, expected[chat][n], priority=ROUTINE)
    await database.close()

    first = await start_bot(config)
    try:
        await botapi.wait_until(lambda: len(botapi.sent) >= 8, timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert first.returncode == -signal.SIGKILL
    delivered_before_kill = len(botapi.sent)
    assert delivered_before_kill < len(CHATS) * PER_CHAT, "killed too late to prove anything"

    second = await start_bot(config)
    try:
        await botapi.wait_until(
            lambda: all({m.text for m in botapi.messages_to(c)} >= set(expected[c]) for c in CHATS),
            timeout=60,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), timeout=30)

    for chat in CHATS:
        texts = [m.text for m in botapi.messages_to(chat)]
        first_seen = list(dict.fromkeys(texts))
        assert first_seen == expected[chat]  # in order per chat
        assert len(texts) - len(first_seen) <= 1  # a duplicate only for the send in flight
