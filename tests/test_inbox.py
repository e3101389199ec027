"""Nothing a user sent is lost: updates are stored before Telegram is told they arrived, form
answers are saved with the update that gave them, a failed button answer is no failure, a
rejected token ends the process, and SQLite refuses a second process."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update
from telegram.ext import TypeHandler

from bot import callback_data
from bot.db.engine import Database
from bot.db.models import InboxUpdate, IncidentRow, ProcessedUpdate
from bot.inbox import dispatch
from bot.inbox.dispatch import Dispatcher
from bot.inbox.store import Received
from tests.botapi import TOKEN, StandInBotApi, User
from tests.conftest import POSTGRES_URL, START
from tests.harness import (
    GAO,
    LI,
    MA,
    WANG,
    XU,
    BotHarness,
    alert_for,
    eventually,
    quick_report,
    settle,
    start_bot,
    write_config,
)

REPORTS_EACH = 15


async def stop_process(process: asyncio.subprocess.Process) -> bytes:
    """SIGTERM, wait, and return what it wrote to stderr."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    return stderr


def kill_on(
    process: asyncio.subprocess.Process, when: Any
) -> Any:  # a stand-in call hook: SIGKILL the bot the moment ``when(method, params)`` holds
    def hook(method: str, params: dict[str, Any]) -> None:
        if process.returncode is None and when(method, params):
            process.send_signal(signal.SIGKILL)

    return hook


async def handled(database: Database, ids: set[int]) -> int:
    async with database.sessions() as session:
        done = set(await session.scalars(select(ProcessedUpdate.update_id)))
    return len(ids & done)


def reports_batch(botapi: StandInBotApi) -> tuple[list[str], list[dict[str, Any]]]:
    """``REPORTS_EACH`` reports by each of four reporters, as one batch: handling it takes well
    over the poller's wait for it (``NEXT_FETCH_WAITS``) before the confirming fetch."""
    botapi.started_chats.update({MA, XU, GAO, LI})
    reporters = [botapi.user(MA, "Ma"), botapi.user(XU, "Xu"), botapi.user(GAO, "Gao")]
    reporters.append(botapi.user(LI, "Li"))
    texts = [
        f"Flooded underpass {n} by {u.first_name}" for n in range(REPORTS_EACH) for u in reporters
    ]
    users = [u for _ in range(REPORTS_EACH) for u in reporters]
    batch = [{"message": u.message(f"/report {t}")} for u, t in zip(users, texts, strict=True)]
    return texts, batch


async def killed_and_restarted(
    config: Path, botapi: StandInBotApi, database_url: str, *, settled: bool, when: Any
) -> tuple[int, list[str], list[str], set[int]]:
    """Start the bot (and let its first fetch return if ``settled``), push a batch of reports,
    SIGKILL the bot the moment ``when(method, params, batch ids)`` holds, start it again and
    wait until every report is handled. Returns how many were handled before the kill, the
    reports' texts, the reports stored, and the batch's update ids found in the inbox at the
    kill."""
    first = await start_bot(config)
    await botapi.wait_until(lambda: any(m == "getupdates" for m, _ in botapi.calls), timeout=30)
    if settled:
        await settle(botapi)
    texts, batch = reports_batch(botapi)
    before = set(botapi.pushed_ids)
    ids: set[int] = set()
    botapi.call_hooks.append(kill_on(first, lambda m, p: bool(ids) and when(m, p, ids)))
    await botapi.push_all(batch)
    ids.update(botapi.pushed_ids - before)
    await asyncio.wait_for(first.wait(), timeout=30)
    botapi.call_hooks.clear()
    assert first.returncode == -signal.SIGKILL
    database = Database(database_url)
    try:
        before_kill = await handled(database, ids)
        async with database.sessions() as session:
            kept = set(await session.scalars(select(InboxUpdate.update_id)))
        second = await start_bot(config)
        try:

            async def all_handled() -> bool:
                return await handled(database, ids) == len(ids)

            await eventually(all_handled, timeout=60)
        finally:
            await stop_process(second)
        async with database.sessions() as session:
            stored = list(await session.scalars(select(IncidentRow.description)))
    finally:
        await database.close()
    return before_kill, texts, stored, kept & ids


def confirming(method: str, params: dict[str, Any], ids: set[int]) -> bool:
    """The next ``getUpdates`` confirms the batch: its offset is past it."""
    return method == "getupdates" and int(params.get("offset", 0)) > max(ids)


@pytest.mark.parametrize("settled", [False, True], ids=["first-batch", "later-batch"])
async def test_sigkill_right_after_a_batch_is_fetched_loses_none_of_it(
    tmp_path: Path, botapi: StandInBotApi, database_url: str, settled: bool
) -> None:
    """Killed the moment the batch is confirmed: the first batch of a run was stored before its
    handling; a later one was handled at once, and what was still being handled was stored
    before the confirmation. Either way the restarted bot handles the rest, each report once."""
    config = write_config(tmp_path, base_url=botapi.base_url, database_url=database_url)
    before_kill, texts, stored, kept = await killed_and_restarted(
        config, botapi, database_url, settled=settled, when=confirming
    )
    assert before_kill < len(texts), f"killed too late to prove anything ({before_kill})"
    assert len(kept) >= len(texts) - before_kill  # what was not handled was stored
    assert sorted(stored) == sorted(texts)  # every report of the batch, each once


async def test_sigkill_while_a_later_batch_is_handled_unstored_loses_none_of_it(
    tmp_path: Path, botapi: StandInBotApi, database_url: str
) -> None:
    """A later batch is handled before it is stored. Killed at its first alert, before the
    confirmation, nothing of it is stored and nothing confirmed: Telegram gives the batch again
    to the restarted bot, which stores it, skips what was handled and handles the rest."""
    config = write_config(tmp_path, base_url=botapi.base_url, database_url=database_url)

    def first_send(method: str, params: dict[str, Any], ids: set[int]) -> bool:
        return method == "sendmessage"

    before_kill, texts, stored, kept = await killed_and_restarted(
        config, botapi, database_url, settled=True, when=first_send
    )
    assert 0 < before_kill < len(texts), before_kill
    assert not kept  # handled before being stored: no row
    assert sorted(stored) == sorted(texts)  # every report of the batch, each once


async def test_batches_are_stored_until_what_was_waiting_is_drained(
    tmp_path: Path, botapi: StandInBotApi, database_url: str
) -> None:
    """Behind a full batch (Telegram's limit of 100) may wait an update that the webhook stored
    (its acknowledgement lost) or an earlier process handled, so every batch is stored before
    its handling until a shorter one comes; only after that is a batch handled without a
    row."""
    config = write_config(
        tmp_path,
        base_url=botapi.base_url,
        database_url=database_url,
        extra="[flood]\nupdates_per_minute = 100000\n",
    )
    botapi.started_chats.update({XU, MA, GAO})
    xu, ma, gao = botapi.user(XU, "Xu"), botapi.user(MA, "Ma"), botapi.user(GAO, "Gao")
    full = [{"message": (xu, ma)[n % 2].message("/help")} for n in range(100)]
    await botapi.push_all([*full, {"message": gao.message("/help")}])
    # fetched as a batch of 100, then one of Gao's alone, handled at once beside the others
    waiting = set(botapi.pushed_ids)
    process = await start_bot(config)
    database = Database(database_url)
    try:
        await botapi.wait_until(lambda: any(m == "getupdates" for m, _ in botapi.calls), 30)

        async def all_handled() -> bool:
            return await handled(database, waiting) == len(waiting)

        await eventually(all_handled, timeout=60)
        async with database.sessions() as session:
            kept = set(await session.scalars(select(InboxUpdate.update_id)))
        assert waiting <= kept  # the one behind the full batch was stored first too
        later = int((await botapi.push({"message": xu.message("/help")}))["update_id"])

        async def later_handled() -> bool:
            return await handled(database, {later}) == 1

        await eventually(later_handled, timeout=30)
        async with database.sessions() as session:
            assert await session.get(InboxUpdate, later) is None  # drained: handled, no row
    finally:
        await stop_process(process)
        await database.close()


async def test_old_handled_updates_are_pruned_while_nothing_is_handled(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inbox forgets updates handled more than two days ago, in polling and webhook mode
    alike (the dispatcher prunes, not the poller), a chunk per transaction, and only while no
    update is being handled: on SQLite the delete waits for the write lock, and then it would
    hold up a report."""
    monkeypatch.setattr(dispatch, "PRUNE_CHUNK", 2)
    now = datetime.now(UTC)
    old = now - timedelta(days=3)
    async with database.transaction() as session:
        session.add_all(
            [
                InboxUpdate(update_id=1, chat_id=XU, payload={}, received_at=now, done_at=now),
                InboxUpdate(update_id=2, chat_id=XU, payload={}, received_at=now, done_at=None),
            ]
        )
        for update_id in (3, 4, 5):  # two chunks
            session.add(
                InboxUpdate(
                    update_id=update_id, chat_id=MA, payload={}, received_at=old, done_at=old
                )
            )
    release, handling = asyncio.Event(), asyncio.Event()

    async def handle(item: Received) -> None:
        handling.set()
        await release.wait()

    async def in_inbox() -> set[int]:
        async with database.sessions() as session:
            return set(await session.scalars(select(InboxUpdate.update_id)))

    dispatcher = Dispatcher(database, handle, sweep=0.01)
    dispatcher.start()
    try:
        await asyncio.wait_for(handling.wait(), timeout=10)
        for _ in range(30):  # thirty sweeps of the loader while update 2 is being handled
            await asyncio.sleep(0.01)
        assert await in_inbox() == {1, 2, 3, 4, 5}
        release.set()

        async def pruned() -> bool:
            return await in_inbox() == {1, 2}

        await eventually(pruned, timeout=10)
    finally:
        await dispatcher.stop()


@pytest.mark.parametrize(
    ("next_chat", "concurrency"),
    [(XU, 16), (MA, 1)],
    ids=["same-chat-next", "other-chat-waiting-for-a-slot"],
)
async def test_no_handling_starts_while_the_late_part_of_a_batch_is_stored(
    database: Database, monkeypatch: pytest.MonkeyPatch, next_chat: int, concurrency: int
) -> None:
    """Before the poller confirms a batch it handled unstored, it stores what is still being
    handled. Meanwhile no new handling starts, neither the chat's next update nor another
    chat's waiting for a slot: on SQLite new handlers would take the write lock in turn ahead
    of that store, and the confirmation, and everyone's next updates, would wait for the whole
    batch."""
    started: list[int] = []
    first_may_end, storing, stored = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def handle(item: Received) -> None:
        started.append(item.update_id)
        if item.update_id == 1:
            await first_may_end.wait()

    real_store = dispatch.store

    async def slow_store(db: Database, items: list[Received]) -> list[Received]:
        storing.set()
        await stored.wait()
        return await real_store(db, items)

    monkeypatch.setattr(dispatch, "store", slow_store)
    dispatcher = Dispatcher(database, handle, concurrency=concurrency, sweep=0.01)
    dispatcher.start()
    try:
        await eventually(async_true(lambda: dispatcher._can_take(2)), timeout=10)
        batch = [Received(1, XU, {"update_id": 1}), Received(2, next_chat, {"update_id": 2})]
        assert dispatcher.take(batch)
        await eventually(async_true(lambda: started == [1]), timeout=10)
        keeping = asyncio.create_task(dispatcher.keep(batch))
        await storing.wait()
        first_may_end.set()  # update 1 returns: its chat's next one or its slot is free
        for _ in range(10):
            await asyncio.sleep(0.01)
        assert started == [1]  # not while the store is under way
        stored.set()
        await keeping
        await eventually(async_true(lambda: started == [1, 2]), timeout=10)
        async with database.sessions() as session:
            kept = set(await session.scalars(select(InboxUpdate.update_id)))
        assert kept == {1, 2}
    finally:
        first_may_end.set()
        stored.set()
        await dispatcher.stop()


def async_true(check: Any) -> Any:
    """``check`` as the async condition ``eventually`` polls."""

    async def holds() -> bool:
        return bool(check())

    return holds


def form_updates(user: User, carrier: Any, category: str, level: str) -> list[dict[str, Any]]:
    """Every update of one guided /report, as the user would send them."""

    def press(data: str) -> dict[str, Any]:
        return user.press_update(carrier, data=data)

    location = user.message("")
    del location["text"]
    location["location"] = {"latitude": 31.2, "longitude": 121.4}
    return [
        press(callback_data.encode("rc", category)),
        press(callback_data.encode("rl", level)),
        {"message": location},
        {"message": user.message(f"{user.first_name}: a {category} emergency")},
        press(callback_data.encode("rw", "now")),  # when it happened
        press(callback_data.encode("rs", "no")),  # not sensitive
        {"message": user.message("0 1 0 0")},
        press(callback_data.encode("rp")),
        press(callback_data.encode("ry", "send")),
    ]


async def test_two_forms_interleaved_and_a_kill_after_one_answer_keep_every_answer(
    tmp_path: Path, botapi: StandInBotApi, database_url: str
) -> None:
    config = write_config(tmp_path, base_url=botapi.base_url, database_url=database_url)
    xu, ma = botapi.user(XU, "Xu"), botapi.user(MA, "Ma")
    botapi.started_chats.update({XU, MA})
    database = Database(database_url)
    process = await start_bot(config)
    await botapi.wait_until(lambda: any(m == "getupdates" for m, _ in botapi.calls), timeout=30)
    try:

        async def step(update: dict[str, Any]) -> int:
            pushed = await botapi.push(update)
            update_id = int(pushed["update_id"])

            async def done() -> bool:
                return await handled(database, {update_id}) == 1

            await eventually(done, timeout=30)
            return update_id

        await step({"message": xu.message("/report")})
        await step({"message": ma.message("/report")})
        xu_carrier, ma_carrier = await xu.next_message(30), await ma.next_message(30)
        xu_steps = form_updates(xu, xu_carrier, "natural", "II")
        ma_steps = form_updates(ma, ma_carrier, "accident", "III")
        await step(xu_steps[0])
        await step(ma_steps[0])
        # Xu presses Level II; the bot is killed the moment that press counts as handled
        pushed = await botapi.push(xu_steps[1])
        level_press = int(pushed["update_id"])
        while await handled(database, {level_press}) == 0:
            assert process.returncode is None
            await asyncio.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        process = await start_bot(config)
        for xu_step, ma_step in zip(xu_steps[2:], ma_steps[1:], strict=False):
            await step(xu_step)
            await step(ma_step)
        for ma_step in ma_steps[len(xu_steps) - 1 :]:
            await step(ma_step)
        async with database.sessions() as session:
            rows = list(await session.scalars(select(IncidentRow).order_by(IncidentRow.id)))
    finally:
        await stop_process(process)
        await database.close()
    by_reporter = {row.reporter_id: row for row in rows}
    assert len(rows) == 2
    xu_row, ma_row = by_reporter["xu.tao"], by_reporter["ma.lin"]
    assert (xu_row.category, xu_row.level, xu_row.injured) == ("natural", "II", 1)
    assert (ma_row.category, ma_row.level, ma_row.injured) == ("accident", "III", 1)
    assert xu_row.description == "Xu: a natural emergency"
    assert ma_row.latitude == 31.2


@pytest.mark.parametrize(
    ("code", "description"),
    [(429, "Too Many Requests: retry after 5"), (500, "Internal Server Error")],
)
async def test_a_failed_button_answer_after_accept_is_no_failure(
    harness: BotHarness,
    botapi: StandInBotApi,
    caplog: pytest.LogCaptureFixture,
    code: int,
    description: str,
) -> None:
    harness.open_chats(WANG, LI, XU)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Burst main on Elm Street")
    li = harness.user(LI, "Li")
    card = await alert_for(li)
    botapi.fail(
        "answerCallbackQuery",
        code=code,
        description=description,
        retry_after=5 if code == 429 else None,
    )
    caplog.clear()
    caplog.set_level(logging.WARNING)
    await li.press(card, "Accept")
    await harness.quiet()
    await botapi.wait_until(lambda: any(f.count == 0 for f in botapi.faults))
    row = await harness.incident(number)
    assert row.state == "accepted" and row.assignee_id == "li.lei"
    assert not [m.text for m in li.inbox() if "went wrong" in m.text]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].levelno == logging.WARNING and warnings[0].exc_info is None
    assert "button" in warnings[0].getMessage()


async def test_a_rejected_token_ends_the_process_with_one_line(
    config_path: Path, botapi: StandInBotApi
) -> None:
    botapi.fail("getUpdates", code=401, description="Unauthorized")
    process = await start_bot(config_path)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = stderr.decode()
    assert process.returncode not in (0, None), log
    last = log.strip().splitlines()[-1]
    assert last.startswith("error:") and "token" in last and "rejected" in last, log
    assert "Traceback" not in log and TOKEN not in log


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite only: PostgreSQL runs a standby")
async def test_a_second_process_on_sqlite_refuses_to_start(
    config_path: Path, botapi: StandInBotApi
) -> None:
    first = await start_bot(config_path)
    try:
        await botapi.wait_until(lambda: any(m == "getupdates" for m, _ in botapi.calls), 30)
        second = await start_bot(config_path)
        _, stderr = await asyncio.wait_for(second.communicate(), timeout=60)
        lines = stderr.decode().strip().splitlines()
        assert second.returncode not in (0, None)
        assert len(lines) == 1 and lines[0].startswith("error: another dutybot process"), lines
        assert first.returncode is None  # the first one keeps running
    finally:
        await stop_process(first)
    assert first.returncode == 0


async def test_the_store_says_which_updates_were_never_handled(harness: BotHarness) -> None:
    """Storing a batch tells, in the same transaction, which updates are new and unhandled: a
    row stored twice, an update id handled before (its inbox row long pruned) and the same
    message under a new update id are not; the handler asks the database again for those."""
    from bot.inbox.store import store

    assert harness.runtime is not None
    database = harness.runtime.database
    async with database.transaction() as session:
        session.add(ProcessedUpdate(update_id=900, chat_id=XU, message_id=5, processed_at=START))
        session.add(ProcessedUpdate(update_id=901, chat_id=XU, message_id=6, processed_at=START))
    new = Received(950, XU, {"update_id": 950}, message_id=7)
    handled_id = Received(900, XU, {"update_id": 900}, message_id=5)
    same_message = Received(951, XU, {"update_id": 951}, message_id=6)
    not_a_message = Received(952, WANG, {"update_id": 952})
    first = await store(database, [new, handled_id, same_message, not_a_message])
    assert {item.update_id: item.fresh for item in first} == {
        950: True,
        900: False,
        951: False,
        952: True,
    }
    again = await store(database, [new, not_a_message])
    assert [item.fresh for item in again] == [False, False]
    [alone_again] = await store(database, [Received(953, XU, {"update_id": 953}, message_id=5)])
    assert not alone_again.fresh  # one update alone: the same message as update 900
    [alone_new] = await store(database, [Received(954, XU, {"update_id": 954}, message_id=8)])
    assert alone_new.fresh
    [alone_press] = await store(database, [Received(955, WANG, {"update_id": 955})])
    assert alone_press.fresh  # not a message: a press in Wang's chat, kept in its order
    [stored_alone] = await store(database, [Received(955, WANG, {"update_id": 955})])
    assert not stored_alone.fresh  # stored already
    async with database.sessions() as session:
        rows = await session.execute(
            select(InboxUpdate.update_id, InboxUpdate.chat_id, InboxUpdate.payload).where(
                InboxUpdate.update_id >= 950
            )
        )
        assert {row.update_id: (row.chat_id, row.payload) for row in rows} == {
            950: (XU, {"update_id": 950}),
            951: (XU, {"update_id": 951}),
            952: (WANG, {"update_id": 952}),
            953: (XU, {"update_id": 953}),
            954: (XU, {"update_id": 954}),
            955: (WANG, {"update_id": 955}),
        }


async def test_a_polled_update_is_stored_as_telegram_sent_it(harness: BotHarness) -> None:
    """A polled update arrives parsed, and its JSON is made only if it is stored: alone or in a
    batch, the stored row reads back as the same update, which a restarted bot handles."""
    from bot.inbox.polling import received
    from bot.inbox.store import pending, store

    assert harness.runtime is not None
    database = harness.runtime.database
    assert harness.application is not None
    bot = harness.application.bot

    def message(update_id: int, text: str) -> Update:
        data = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_795_000_000,
                "chat": {"id": XU, "type": "private", "first_name": "Xu"},
                "from": {"id": XU, "is_bot": False, "first_name": "Xu", "language_code": "zh"},
                "text": text,
            },
        }
        update = Update.de_json(data, bot)
        assert update is not None
        return update

    alone, first, second = (
        message(960, "/report"),
        message(961, "山体滑坡"),
        message(962, "/cancel"),
    )
    items = [received(alone), received(first), received(second)]
    assert [item.payload for item in items] == [None, None, None]  # nothing serialised yet
    await store(database, items[:1])
    await store(database, items[1:])
    stored = {item.update_id: item for item in await pending(database, set(), 10)}
    for update in (alone, first, second):
        row = stored[update.update_id]
        assert row.parsed is None and row.chat_id == XU
        again = Update.de_json(row.raw, bot)
        assert again is not None and again.message is not None and update.message is not None
        assert (again.update_id, again.message.text) == (update.update_id, update.message.text)
        assert again.message.from_user is not None
        assert again.message.from_user.language_code == "zh"


async def test_the_next_fetch_waits_for_the_stored_report_to_be_handled(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """The poller confirms a stored batch with its next ``getUpdates`` only after the batch's
    handling returned, so that the fetch does not take turns with the report's transaction
    and alert: the first alert reaches the stand-in before that fetch does."""
    harness.open_chats(WANG, LI, XU)
    xu = harness.user(XU, "Xu")
    order: list[tuple[str, Any]] = []
    botapi.call_hooks.append(
        lambda method, params: order.append((method, params.get("offset", params.get("chat_id"))))
    )
    pushed = await xu.send("/report Burst main on Elm Street")
    await alert_for(harness.user(WANG, "Wang"))

    def confirms(call: tuple[str, Any]) -> bool:
        return call[0] == "getupdates" and int(call[1] or 0) > pushed["update_id"]

    async def confirmed() -> bool:
        return any(confirms(call) for call in order)

    await eventually(confirmed)
    confirming = next(i for i, call in enumerate(order) if confirms(call))
    sent_before = {int(o) for m, o in order[:confirming] if m == "sendmessage"}
    assert WANG in sent_before, order


def hold_updates_of(harness: BotHarness, telegram_id: int) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold the handling of this person's updates, before any handler, until ``release`` is set;
    ``held`` is set when one is being held."""
    assert harness.application is not None
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(update: Update, _context: Any) -> None:
        if update.effective_user is not None and update.effective_user.id == telegram_id:
            held.set()
            await release.wait()

    harness.application.add_handler(TypeHandler(Update, hold), group=-1000)
    return held, release


async def test_a_slow_update_does_not_hold_up_the_next_fetch(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """The next fetch waits for a batch's handling only briefly: while one person's update is
    still being handled, another person's report is fetched, handled and alerted."""
    harness.open_chats(WANG, LI, XU)
    held, release = hold_updates_of(harness, MA)
    ma, xu = harness.user(MA, "Ma"), harness.user(XU, "Xu")
    await ma.send("/help")
    await asyncio.wait_for(held.wait(), 10)  # fetched alone, and now being handled
    await quick_report(harness, xu, "Burst main on Elm Street")
    await alert_for(harness.user(WANG, "Wang"))
    assert not ma.inbox() and not release.is_set()  # Ma's update is still being handled
    release.set()
    assert await ma.next_message()


async def test_a_stop_lets_the_batch_being_stored_be_stored(
    harness: BotHarness, botapi: StandInBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop that comes while the poller stores a batch waits for the store to end, then stops
    the poller: cancelled inside the transaction, its connection's reset would be cancelled too
    (SQLAlchemy logs that with a traceback) and the batch would not be stored."""
    from bot.inbox import polling

    storing = asyncio.Event()
    real_store = polling.store

    async def slow_store(database: Database, batch: Any) -> Any:
        storing.set()
        await asyncio.sleep(0.2)  # the transaction under way when the stop comes
        return await real_store(database, batch)

    monkeypatch.setattr(polling, "store", slow_store)
    assert harness.runtime is not None
    database = harness.runtime.database
    pushed = await harness.user(XU, "Xu").send("/help")
    await asyncio.wait_for(storing.wait(), 10)
    await harness.stop()
    check = Database(database.url)
    try:
        async with check.sessions() as session:
            stored = await session.get(InboxUpdate, pushed["update_id"])
    finally:
        await check.close()
    assert stored is not None


async def test_a_later_report_handled_before_its_confirmation_leaves_no_inbox_row(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """Once the poller's first fetch has returned, a report is handled before it is stored:
    handled by the time the poller confirms it, it needs no inbox row (Telegram kept it until
    then), and its alert did not wait for the inbox's transaction."""
    harness.open_chats(WANG, LI, XU)
    await settle(botapi)
    pushed = await harness.user(XU, "Xu").send("/report Burst main on Elm Street")
    await alert_for(harness.user(WANG, "Wang"))
    await botapi.wait_until(
        lambda: any(confirming(m, p, {pushed["update_id"]}) for m, p in botapi.calls), 10
    )
    assert harness.runtime is not None
    async with harness.runtime.database.sessions() as session:
        row = await session.get(InboxUpdate, pushed["update_id"])
        recorded = await session.get(ProcessedUpdate, pushed["update_id"])
    assert row is None and recorded is not None


async def test_a_later_update_still_handled_at_its_confirmation_is_stored_first(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """An update taken before storing and still being handled when the poller confirms it is
    stored before that confirmation (the moment Telegram forgets it), then marked done when
    its handling returns; it is handled once."""
    harness.open_chats(WANG, LI, XU)
    assert harness.runtime is not None
    database = harness.runtime.database
    held, release = hold_updates_of(harness, MA)
    await settle(botapi)
    ma = harness.user(MA, "Ma")
    pushed = await ma.send("/help")
    await asyncio.wait_for(held.wait(), 10)
    await botapi.wait_until(
        lambda: any(confirming(m, p, {pushed["update_id"]}) for m, p in botapi.calls), 10
    )
    async with database.sessions() as session:
        row = await session.get(InboxUpdate, pushed["update_id"])
    assert row is not None and row.done_at is None  # stored by the confirmation
    release.set()
    assert await ma.next_message()

    async def marked_done() -> bool:
        async with database.sessions() as session:
            found = await session.get(InboxUpdate, pushed["update_id"])
        return found is not None and found.done_at is not None

    await eventually(marked_done)
    await asyncio.sleep(0.3)  # time for a second handling, were the row taken up again
    assert len(ma.inbox()) == 1
