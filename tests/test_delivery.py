"""Delivery through the outbox: retries, ordering, priorities, 403s, edits, long texts, and
updates that arrive twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from bot.db.models import Event, InviteCode, OutboxMessage
from bot.delivery import birth
from bot.delivery.outbox import LEVEL_PRIORITY, ROUTINE, Claimed, backlog, enqueue, enqueue_edit
from bot.delivery.sender import Sender
from bot.runtime import Runtime
from scheduling.clock import FakeClock
from tests.botapi import StandInBotApi
from tests.harness import (
    CHEN,
    GAO,
    LI,
    QIAN,
    WANG,
    XU,
    ZHOU,
    BotHarness,
    eventually,
    settle,
    write_config,
)

RECIPIENTS = [CHEN, GAO, LI, QIAN, WANG, XU]


def runtime_of(harness: BotHarness) -> Runtime:
    assert harness.runtime is not None
    return harness.runtime


async def queue(harness: BotHarness, messages: list[tuple[int, str, int]]) -> None:
    """Commit messages (chat, text, priority) to the outbox as a domain transaction would."""
    runtime = runtime_of(harness)
    async with runtime.database.transaction() as session:
        for chat_id, text, priority in messages:
            enqueue(session, chat_id, text, priority=priority)


async def states_are(harness: BotHarness, expected: dict[str, int]) -> bool:
    return await outbox_states(harness) == expected


async def outbox_states(harness: BotHarness) -> dict[str, int]:
    async with runtime_of(harness).database.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        )
        return {state: count for state, count in rows}


async def test_every_message_arrives_once_in_order_despite_429_and_500(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    for chat in RECIPIENTS:
        botapi.started_chats.add(chat)
    botapi.fail_randomly(0.3, "sendMessage", seed=7)
    expected = {chat: [f"alert {chat}-{n}" for n in range(6)] for chat in RECIPIENTS}
    await queue(
        harness, [(c, t, ROUTINE) for n in range(6) for c in RECIPIENTS for t in [expected[c][n]]]
    )
    total = sum(len(v) for v in expected.values())
    await botapi.wait_until(lambda: len(botapi.sent) >= total, timeout=90)
    for chat, texts in expected.items():
        assert [m.text for m in botapi.messages_to(chat)] == texts
    refused = [c for c in botapi.calls if c[0] == "sendmessage"]
    assert len(refused) > total, "the fault injection did not fail any call"
    await eventually(lambda: states_are(harness, {"sent": total}))


async def test_higher_levels_go_first_when_there_is_a_queue(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    # 60 messages to 60 chats at once: more than the 30/s Telegram allows overall, so a queue
    # forms; the 10 level-I alerts, queued last, must all be in the first second's 30.
    chats = list(range(50001, 50061))
    botapi.started_chats.update(chats)
    routine = [(c, f"routine {c}", ROUTINE) for c in chats[:50]]
    urgent = [(c, f"level I {c}", LEVEL_PRIORITY["I"]) for c in chats[50:]]
    await queue(harness, routine + urgent)
    await botapi.wait_until(lambda: len(botapi.sent) >= 60, timeout=30)
    order = [m.text for m in botapi.sent]
    assert sum(t.startswith("level I") for t in order[:30]) == 10, order


async def test_a_blocked_person_is_marked_unreachable_and_shown_so(
    harness: BotHarness, botapi: StandInBotApi, config_path: Path
) -> None:
    # Qian Bo (water leader) never opened a chat with the bot: Telegram answers 403.
    await queue(harness, [(QIAN, "escalation for the leader", 0)])
    await botapi.wait_until(lambda: any(c[0] == "sendmessage" for c in botapi.calls))
    runtime = runtime_of(harness)

    async def unreachable_event() -> bool:
        async with runtime.database.sessions() as session:
            kinds = (await session.scalars(select(Event.kind))).all()
            return "person.unreachable" in kinds

    await eventually(unreachable_event)
    await eventually(lambda: states_are(harness, {"failed": 1}))

    gao = harness.user(GAO, "Gao")
    await gao.send("/oncall")
    assert "Qian Bo (unreachable" in (await gao.next_message()).text

    env = {k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")}
    check = subprocess.run(  # noqa: ASYNC221 - the CLI is what a user runs
        [sys.executable, "-m", "bot", "check-config", "--config", str(config_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert "Qian Bo (qian.bo) (unreachable" in check.stdout

    qian = harness.user(QIAN, "Qian")
    await qian.send("/whoami")  # writing to the bot makes the chat reachable again
    await qian.next_message()
    await gao.send("/oncall")
    assert "Qian Bo (unreachable" not in (await gao.next_message()).text


async def test_long_texts_are_split_on_line_boundaries(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    botapi.started_chats.add(LI)
    lines = [f"line {n:04d} " + "x" * 90 for n in range(100)]
    await queue(harness, [(LI, "\n".join(lines), ROUTINE)])
    await botapi.wait_until(lambda: len(botapi.messages_to(LI)) >= 3)
    parts = [m.text for m in botapi.messages_to(LI)]
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts).split("\n") == lines


async def test_an_unchanged_edit_counts_as_done(harness: BotHarness, botapi: StandInBotApi) -> None:
    botapi.started_chats.add(LI)
    runtime = runtime_of(harness)
    async with runtime.database.transaction() as session:
        [original] = enqueue(session, LI, "alert #1")
        await session.flush()
        enqueue_edit(session, LI, "alert #1", edit_of=original)  # Telegram: not modified
        enqueue_edit(session, LI, "alert #1 — accepted by Li Lei", edit_of=original)
    await botapi.wait_until(
        lambda: bool(botapi.messages_to(LI)) and botapi.messages_to(LI)[0].text.endswith("Li Lei")
    )
    await eventually(lambda: states_are(harness, {"sent": 3}))
    assert len(botapi.messages_to(LI)) == 1


async def test_messages_queued_last_in_a_transaction_go_out_at_its_commit(
    harness: BotHarness, botapi: StandInBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Queued with nothing flushed before the commit: claimed at birth all the same, handed to
    # the sender by the commit; the second to Li waits its second and the woken loop sends it.
    handed: list[str] = []
    deliver_born = Sender._deliver_born

    async def recording(self: Sender, item: Claimed) -> None:
        handed.append(item.text)
        await deliver_born(self, item)

    monkeypatch.setattr(Sender, "_deliver_born", recording)
    botapi.started_chats.update({LI, WANG})
    await queue(harness, [(LI, "first to Li", ROUTINE), (WANG, "to Wang", ROUTINE)])
    await queue(harness, [(LI, "second to Li", ROUTINE)])
    await botapi.wait_until(lambda: len(botapi.messages_to(LI)) == 2, timeout=10)
    assert sorted(handed) == ["first to Li", "to Wang"]
    assert [m.text for m in botapi.messages_to(LI)] == ["first to Li", "second to Li"]


@pytest.mark.parametrize("settled", [False, True], ids=["first-batch", "later-batch"])
async def test_the_same_update_twice_has_one_effect(
    harness: BotHarness, botapi: StandInBotApi, settled: bool
) -> None:
    """Twice in one batch, then under a new update id: one invite, and no error for anyone,
    whether the batch is the poller's first (stored, then handled) or a later one (handled
    before it is stored)."""
    if settled:
        await settle(botapi)
    admin = harness.user(ZHOU, "Zhou")
    botapi.started_chats.add(ZHOU)
    message = admin.message("/invite new.hire")
    await botapi.push_twice({"message": message})
    await admin.next_message()
    # The same message again under a new update id (a proxy or webhook retry).
    await botapi.push({"message": message})
    await admin.send("/whoami")
    assert "Zhou Hua" in (await admin.next_message()).text  # the next answer is to /whoami
    async with runtime_of(harness).database.sessions() as session:
        invites = await session.scalar(select(func.count()).select_from(InviteCode))
    assert invites == 1


async def test_a_person_s_later_messages_are_told_new_without_asking_the_database(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """Once a chat's highest handled message is known, the gate lets its next messages through
    from memory; the same message under a new update id is still caught (by the database)."""
    await settle(botapi)
    admin = harness.user(ZHOU, "Zhou")
    botapi.started_chats.add(ZHOU)
    asked: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        if sql.lstrip().startswith("SELECT") and "FROM processed_updates" in sql:
            asked.append(sql.split()[1])

    engine = runtime_of(harness).database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await admin.send("/whoami")
        await admin.next_message()
        assert asked == ["max(processed_updates.message_id)"]  # the chat's highest, read once
        invite = admin.message("/invite new.hire")
        await botapi.push({"message": invite})
        await admin.next_message()
        await admin.send("/whoami")
        await admin.next_message()
        assert len(asked) == 1  # neither asked about
        await botapi.push({"message": invite})  # the invite again, under a new update id
        await admin.send("/whoami")
        assert "Zhou Hua" in (await admin.next_message()).text  # no second invite answer
        assert asked[1:] == ["processed_updates.update_id"]  # that one was asked about
    finally:
        event.remove(engine, "before_cursor_execute", record)
    async with runtime_of(harness).database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InviteCode)) == 1


async def test_an_urgent_alert_overtakes_routine_messages_to_the_same_person(
    tmp_path: Path, botapi: StandInBotApi, database_url: str, clock: FakeClock
) -> None:
    config = write_config(
        tmp_path, base_url=botapi.base_url, database_url=database_url, private_per_second=2.0
    )
    harness = BotHarness(config, botapi, clock)
    await harness.start()
    try:
        botapi.started_chats.add(LI)
        await queue(harness, [(LI, f"routine {n}", ROUTINE) for n in range(6)])
        await botapi.wait_until(lambda: len(botapi.messages_to(LI)) >= 1)
        await queue(harness, [(LI, "LEVEL I alert", LEVEL_PRIORITY["I"])])
        await botapi.wait_until(lambda: len(botapi.messages_to(LI)) >= 7, timeout=30)
    finally:
        await harness.stop()
    texts = [m.text for m in botapi.messages_to(LI)]
    assert texts.index("LEVEL I alert") <= 2, texts
    assert [t for t in texts if t.startswith("routine")] == [f"routine {n}" for n in range(6)]


async def test_photos_go_out_with_their_caption(harness: BotHarness, botapi: StandInBotApi) -> None:
    from bot.delivery.outbox import enqueue_photo

    botapi.started_chats.add(LI)
    runtime = runtime_of(harness)
    async with runtime.database.transaction() as session:
        enqueue_photo(session, LI, "AgACAgIAAxkBAAIBphoto", "#17 flooded underpass")
    await botapi.wait_until(lambda: bool(botapi.messages_to(LI)))
    [photo] = botapi.messages_to(LI)
    assert photo.method == "sendPhoto"
    assert photo.payload["photo"] == "AgACAgIAAxkBAAIBphoto"
    assert photo.text == "#17 flooded underpass"


async def test_the_backlog_counts_the_transactions_own_messages_without_flushing_them(
    harness: BotHarness,
) -> None:
    # Digest or card is decided on what waits in each chat, this transaction's messages too;
    # asking must not flush what the transaction has pending (it is flushed once, at commit).
    async with runtime_of(harness).database.sessions() as session:
        enqueue(session, LI, "older alert", priority=LEVEL_PRIORITY["I"])
        await session.flush()
        enqueue(session, LI, "newer alert", priority=LEVEL_PRIORITY["II"])
        enqueue(session, LI, "routine note", priority=ROUTINE)
        enqueue(session, WANG, "alert to Wang", priority=LEVEL_PRIORITY["I"])
        unflushed = set(session.new)
        assert await backlog(session, [LI, WANG, GAO]) == {LI: 2, WANG: 1}
        assert set(session.new) == unflushed


async def test_the_committing_caller_lets_the_first_message_go_out_first(
    harness: BotHarness, botapi: StandInBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler's own trailing work after its commit waits for the first message's send
    # (at most HEAD_START), rather than taking turns with it on the processor.
    botapi.started_chats.update({LI, WANG})
    sent: list[str] = []
    release = asyncio.Event()

    async def slow_send(self: Sender, item: Claimed) -> None:
        await asyncio.sleep(0.05)
        sent.append(item.text)
        await release.wait()

    monkeypatch.setattr(Sender, "_deliver_born", slow_send)
    monkeypatch.setattr(birth, "HEAD_START", 5.0)
    database = runtime_of(harness).database

    async def commit(chat: int, text: str) -> None:
        async with database.transaction() as session:
            enqueue(session, chat, text, priority=ROUTINE)

    release.set()
    await commit(LI, "waited for")
    assert sent == ["waited for"]
    # a send that takes longer holds the caller no more than HEAD_START
    release.clear()
    monkeypatch.setattr(birth, "HEAD_START", 0.2)
    await asyncio.wait_for(commit(WANG, "not waited for"), timeout=5)
    assert sent == ["waited for", "not waited for"]
    release.set()
