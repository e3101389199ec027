"""Pacing within Telegram's limits, measured on the stand-in server's clock, and the pacer's
sliding windows checked with a hand-driven clock."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from bot.delivery.outbox import ROUTINE, enqueue
from bot.delivery.pacing import Limits, Pacer
from scheduling.clock import FakeClock
from tests.botapi import StandInBotApi
from tests.harness import BotHarness, write_config

GROUP = -1001234


async def test_private_chats_get_at_most_one_message_a_second_and_all_at_most_30(
    tmp_path: Path, botapi: StandInBotApi, database_url: str, clock: FakeClock
) -> None:
    config = write_config(
        tmp_path, base_url=botapi.base_url, database_url=database_url, private_per_second=1.0
    )
    harness = BotHarness(config, botapi, clock)
    await harness.start()
    try:
        chats = list(range(60001, 60041))
        botapi.started_chats.update(chats)
        assert harness.runtime is not None
        async with harness.runtime.database.transaction() as session:
            for n in range(3):
                for chat in chats:
                    enqueue(session, chat, f"message {n} to {chat}", priority=ROUTINE)
        await botapi.wait_until(lambda: len(botapi.sent) >= 120, timeout=60)
    finally:
        await harness.stop()

    times = sorted(m.at for m in botapi.sent)
    for chat in chats:
        arrivals = [m.at for m in botapi.messages_to(chat)]
        gaps = [b - a for a, b in pairwise(arrivals)]
        assert min(gaps) >= 1.0, (chat, gaps)  # one a second, never a burst
        assert [m.text for m in botapi.messages_to(chat)] == [
            f"message {n} to {chat}" for n in range(3)
        ]
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t - start < 1.0)
        assert in_window <= 30, f"{in_window} messages within one second"
    # Not a speed target (that is bench/delivery.py), a sanity check that pacing does not stall:
    # 120 messages at a ceiling of 30/s take 4 s; allow three times that.
    assert times[-1] - times[0] < 12.0


def test_group_gets_at_most_20_a_minute() -> None:
    pacer = Pacer(Limits(overall_per_second=30, private_interval=1.0, group_per_minute=20))
    now = 1000.0
    sent = []
    while len(sent) < 45:
        ready = pacer.ready_at(GROUP, now)
        now = max(now, ready)
        pacer.reserve(GROUP)
        pacer.done(GROUP, now)
        sent.append(now)
        now += 0.01
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t - start < 60.0) <= 20
    assert sent[20] - sent[0] >= 60.0


def test_retry_after_blocks_only_that_chat() -> None:
    pacer = Pacer()
    pacer.block(42, until=105.0)
    assert pacer.ready_at(42, 100.0) == 105.0
    assert pacer.ready_at(43, 100.0) == 100.0


def test_overall_window_holds_back_the_31st_message() -> None:
    pacer = Pacer()
    for chat in range(1, 31):
        assert pacer.ready_at(chat, 10.0) == 10.0
        pacer.reserve(chat)
        pacer.done(chat, 10.0)
    assert pacer.ready_at(31, 10.5) == 11.0


def test_a_message_in_flight_holds_its_chat_and_counts_overall() -> None:
    pacer = Pacer(Limits(overall_per_second=2))
    pacer.reserve(7)
    assert pacer.ready_at(7, 5.0) > 5.0  # one at a time per private chat
    pacer.reserve(8)
    assert pacer.ready_at(9, 5.0) > 5.0  # two in flight fill the overall window of 2
    pacer.done(7, 5.3)
    assert pacer.ready_at(7, 5.4) == 6.3  # a second after Telegram answered
