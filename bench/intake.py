"""Benchmark: report in → alert out, against a bare python-telegram-bot handler that only replies.

Both run in this process against the same stand-in Bot API over loopback HTTP, polling the same
way. For the bare bot the latency is from the user's message entering the stand-in to the reply
reaching it; for dutybot, from the ``/report`` message to the first alert card reaching an
officer on duty (the report stored, routed, a duplicate check, alert cards and receipt written to
the outbox in one transaction, then delivered). Pacing is opened up here (it is measured by
``bench/delivery.py``) so that what is measured is the work per report. The goal (SPEC §9) is at
most 2× the bare handler. A second baseline, the durable floor, is the bare handler that first
writes the update to a SQLite table and commits: what never losing a report costs at the least.

Run: ``.venv/bin/python bench/intake.py`` (or ``make bench``); ``bench/intake.py ab CHANGE
[report|official]`` measures before and after one change (``BEFORE``), interleaved, on the report
(the default) or the official report's path. ``SAMPLES=300`` in the environment takes 300
samples per run instead of 100 (a p99 of 100 samples is their second worst).

``bench/intake.py ceiling`` measures both paths once more with every SQLite call run on the event
loop's own thread instead of the connection's (``on_the_loop``): no thread switch, no wake-up.
It is not a way to run the bot — a statement waiting for SQLite's write lock would hold the event
loop, and with it the transaction holding the lock: a deadlock until the busy timeout — but it
shows how far the path could come down were every round trip to the database free of cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import aiosqlite

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, text, update
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from bot import app, collector
from bot.db import engine as db_engine
from bot.db import sqlite_one_trip
from bot.db.engine import create_engine
from bot.db.models import Deadline, IncidentRow
from bot.db.sqlite_one_trip import OneTripConnection
from bot.inbox import polling
from bot.inbox.dispatch import Dispatcher
from bot.incidents import deadlines as incident_deadlines
from bot.incidents import service as incidents_service
from bot.reports import service as reports_service
from bot.updates import SeenMessages, handled_before
from scheduling.clock import FakeClock
from scheduling.engine import CHANGE_DELAY, Engine
from scheduling.rows import CANCELLED, MET, PENDING, open_for
from tests.botapi import TOKEN, StandInBotApi
from tests.conftest import START
from tests.harness import (
    CHEN,
    LI,
    QIAN,
    SUN,
    WANG,
    XU,
    ZHOU,
    BotHarness,
    alert_for,
    file_report,
    official_report_card,
    quick_report,
    write_config,
)

SAMPLES = int(os.environ.get("SAMPLES", "100"))
WARMUP = 10
# Seconds between one report's receipt and the next report (issue 14: spaced reports), so that
# what is measured is one report's path, not the previous report's trailing work (marking
# messages sent and updates handled) competing with it. ``SPACING=0`` sends them back to back.
SPACING = float(os.environ.get("SPACING", "0.25"))


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(server: StandInBotApi, target_chat: int, count: int) -> list[float]:
    """Send ``/report`` ``count`` times, one at a time; time until a message reaches the target."""
    reporter = server.user(XU, "Xu")
    latencies = []
    before_receipts = len(server.messages_to(XU)) if target_chat != XU else 0
    for n in range(count):
        await asyncio.sleep(SPACING)
        before = len(server.messages_to(target_chat))
        start = time.time()
        await reporter.send(f"/report pipe burst number {n} at the pumping station")
        await server.wait_until(lambda b=before: len(server.messages_to(target_chat)) > b, 30)
        # timed when the stand-in Bot API received the message, not when this waiter woke up
        # (in this one process, the bot's own trailing work would delay the waiter)
        latencies.append(server.messages_to(target_chat)[before].at - start)
        receipts = before_receipts + n + 1
        await server.wait_until(lambda r=receipts: len(server.messages_to(XU)) >= r, 30)
    return latencies


Reply = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


async def plain_bot(latency: float, reply: Reply) -> list[float]:
    """A python-telegram-bot Application whose only handler is ``reply``, polling a new stand-in
    Bot API with ``latency`` added to its answers; the latencies of ``SAMPLES`` reports."""
    server = StandInBotApi()
    server.latency = latency
    await server.start()
    app = Application.builder().token(TOKEN).base_url(server.base_url).build()
    app.add_handler(CommandHandler("report", reply))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        await measure(server, XU, WARMUP)
        result = await measure(server, XU, SAMPLES)
        await app.updater.stop()
        await app.stop()
    await server.stop()
    return result


async def bare(latency: float = 0.0) -> list[float]:
    """A python-telegram-bot Application whose only handler replies."""

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("received")

    return await plain_bot(latency, reply)


async def durable(latency: float = 0.0) -> list[float]:
    """The bare handler plus the least a bot that never loses a report must do: the update
    written to a SQLite table (the engine dutybot uses: WAL, one trip per statement) and
    committed before the reply is sent. The floor under any durable design on this stack."""
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite+aiosqlite:///{directory}/floor.db")
        async with engine.begin() as connection:
            await connection.execute(
                text("CREATE TABLE updates (update_id INTEGER PRIMARY KEY, payload TEXT)")
            )
        insert = text("INSERT INTO updates (update_id, payload) VALUES (:update_id, :payload)")

        async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.effective_message is not None
            async with engine.begin() as connection:
                await connection.execute(
                    insert, {"update_id": update.update_id, "payload": update.to_json()}
                )
            await update.effective_message.reply_text("received")

        try:
            return await plain_bot(latency, reply)
        finally:
            await engine.dispose()


def bench_harness(directory: Path, server: StandInBotApi) -> BotHarness:
    """dutybot on SQLite in ``directory``, pacing and the per-person flood limits lifted (one
    reporter sends a report every fraction of a second here)."""
    config = write_config(
        directory,
        base_url=server.base_url,
        database_url=f"sqlite+aiosqlite:///{directory}/bench.db",
        private_per_second=1000.0,
        extra="overall_per_second = 100000\n\n[flood]\nupdates_per_minute = 100000\n"
        "reports_per_minute = 100000\n",
    )
    return BotHarness(config, server, FakeClock(START))


async def dutybot(latency: float = 0.0) -> list[float]:
    """dutybot itself, SQLite database, officers Wang Fang and Li Lei on duty, Qian their leader."""
    server = StandInBotApi()
    server.latency = latency
    await server.start()
    server.started_chats.update({WANG, LI, QIAN})  # the leader on duty is told too
    with tempfile.TemporaryDirectory() as directory:
        harness = bench_harness(Path(directory), server)
        await harness.start()
        await measure(server, WANG, WARMUP)
        result = await measure(server, WANG, SAMPLES)
        await harness.stop()
    await server.stop()
    return result


async def official(latency: float = 0.0, count: int = 0) -> list[float]:
    """dutybot, an official report going upward: Li Lei (water officer) has accepted a report
    and filed its 首报; each sample walks ``/followup`` up to the finished report, then times
    File → the first copy reaching anyone but Li (the leader on duty or the unit above)."""
    count = count or SAMPLES
    server = StandInBotApi()
    server.latency = latency
    await server.start()
    server.started_chats.update({WANG, LI, QIAN, CHEN, SUN, ZHOU})
    with tempfile.TemporaryDirectory() as directory:
        harness = bench_harness(Path(directory), server)
        await harness.start()
        li = server.user(LI, "Li")
        number = await quick_report(harness, server.user(XU, "Xu"), "pipe burst at the station")
        card = await alert_for(li)
        await li.press(card, "Accept")
        await harness.quiet()
        li._read = len(li.inbox())
        await file_report(li, f"/initial {number}")
        latencies = []
        for n in range(WARMUP + count):
            await harness.quiet()
            await asyncio.sleep(SPACING)
            li._read = len(li.inbox())
            finished = await official_report_card(li, f"/followup {number}", {4: f"step {n}"})
            await harness.quiet()
            # a person reads the finished report before pressing File: what the form's last step
            # left behind (the deadline engine's look 20 ms after a commit, marking updates
            # handled) is not timed as part of the filing
            await asyncio.sleep(SPACING)
            before = len(server.sent)
            start = time.time()
            await li.press(finished, data="1:ofy:file")
            await server.wait_until(
                lambda b=before: any(s.chat_id != LI for s in server.sent[b:]), 30
            )
            if n >= WARMUP:
                upward = next(s for s in server.sent[before:] if s.chat_id != LI)
                latencies.append(upward.at - start)
        await harness.stop()
    await server.stop()
    return latencies


def row(name: str, values: list[float], baseline: list[float] | None) -> str:
    """One line of the table."""
    p50, p99 = statistics.median(values) * 1000, percentile(values, 0.99) * 1000
    if baseline is None:
        return f"{name} | {p50:.1f} | {p99:.1f} | 1.00× | 1.00×"
    b50, b99 = statistics.median(baseline) * 1000, percentile(baseline, 0.99) * 1000
    return f"{name} | {p50:.1f} | {p99:.1f} | {p50 / b50:.2f}× | {p99 / b99:.2f}×"


def _changed_by_job(engine: Engine) -> None:
    """``Engine.changed`` as it was: adding the look's job at once, inside the commit."""
    if engine._job_queue is None or engine._change_looming:
        return
    engine._change_looming = True
    engine._job_queue.run_once(engine._look_at_change, when=CHANGE_DELAY)


_lazy_received = polling.received


async def _get_then_count(session: Any, number: int) -> Any:
    """``get_with_filed`` as it was: the incident, then its filed reports, two queries."""
    incident = await incidents_service.get(session, number)
    if incident is None:
        return None
    return incident, await incidents_service.filed_so_far(session, number)


_ORM_STOP_CHILDREN = (
    update(Deadline)
    .where(Deadline.parent_id.in_(bindparam("parents", expanding=True)), Deadline.state == PENDING)
    .values(state=CANCELLED)
)
_ORM_MOVE_ON = (
    update(IncidentRow)
    .where(IncidentRow.id == bindparam("incident_id"))
    .values(state=bindparam("new_state"), version=IncidentRow.version + 1)
    .returning(IncidentRow)
)


async def _meet_then_stop(
    session: Any, incident_id: int, kind: str, at: Any, *, known: Any = None
) -> list[Deadline]:
    """``scheduling.rows.meet`` as it was: the deadlines marked met as ORM changes (flushed by
    the next statement), then their children stopped by an ORM update: two statements."""
    rows = list(known) if known is not None else await open_for(session, incident_id, (kind,))
    for row in rows:
        row.late = row.late or row.due_at < at
        row.state, row.met_at = MET, at
    if rows:
        await session.execute(_ORM_STOP_CHILDREN, {"parents": [r.id for r in rows]})
    return rows


async def _move_on_orm(session: Any, _statement: Any, parameters: Any) -> Any:
    """The incident moved on by an ORM update whose RETURNING refreshes it, as it was."""
    return await session.execute(
        _ORM_MOVE_ON,
        parameters,
        execution_options={"populate_existing": True, "synchronize_session": False},
    )


@contextlib.contextmanager
def _orm_dml() -> Iterator[None]:
    with (
        mock.patch.object(incident_deadlines, "meet", _meet_then_stop),
        mock.patch.object(reports_service, "execute", _move_on_orm),
        mock.patch.object(reports_service, "keep_in_step", lambda instance, row: None),
    ):
        yield


@contextlib.contextmanager
def _commit_checkpoints() -> Iterator[None]:
    with (
        mock.patch.object(db_engine, "WAL_BACKSTOP_PAGES", 1000),
        mock.patch.object(db_engine.Checkpoints, "start", lambda self: None),
    ):
        yield


async def _always_ask(self: Any, database: Any, key: Any, *, new_id: bool) -> bool:
    """The gate's duplicate check as it was: a question to the database for every update."""
    return await handled_before(database, key)


# name → a context manager that puts the code back as it was before a change (``ab`` runs)
BEFORE: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    # the deadline engine's look added as an APScheduler job inside the commit
    "look-by-timer": lambda: mock.patch.object(Engine, "changed", _changed_by_job),
    # the next getUpdates sent at once, not after the stored batch's handling
    "fetch-waits": lambda: mock.patch.object(polling, "NEXT_FETCH_WAITS", 0.0),
    # aiosqlite's own cursors: four trips to the connection's thread per statement
    "one-trip-sqlite": lambda: mock.patch.object(
        OneTripConnection, "cursor", aiosqlite.Connection.cursor
    ),
    # every batch stored before its handling, as batches still are until what was waiting at
    # the start has been drained
    "handle-first": lambda: mock.patch.object(Dispatcher, "take", lambda self, items: False),
    # every polled update serialised back to JSON on arrival, stored or not
    "eager-json": lambda: mock.patch.object(
        polling,
        "received",
        lambda update, payload=None: replace(
            _lazy_received(update), payload=payload or update.to_dict()
        ),
    ),
    # python-telegram-bot's default Bot API client (httpx), not bot.telegram_http's aiohttp
    "httpx": lambda: mock.patch.object(
        app,
        "AiohttpRequest",
        lambda connection_pool_size=256: HTTPXRequest(connection_pool_size=connection_pool_size),
    ),
    # a report's incident and what it has filed read in two queries, not one
    "filed-apart": lambda: mock.patch.object(incidents_service, "get_with_filed", _get_then_count),
    # a report filed: the deadlines met and the incident moved on by ORM updates, not Core ones
    # (``bot.db.statements``), the met deadlines' children stopped by a statement of their own
    "orm-dml": _orm_dml,
    # the collector walking every object the started bot holds (``bot.collector``)
    "gc-unfrozen": lambda: mock.patch.object(collector, "settle", lambda: None),
    # SQLite's WAL checkpointed by the commit that takes it past 1,000 pages, not in the
    # background (``bot.db.engine.Checkpoints``)
    "commit-checkpoints": _commit_checkpoints,
    # every new message asked of the database by the gate, not told new from its chat's
    # highest message id (``bot.updates.SeenMessages``)
    "gate-asks": lambda: mock.patch.object(SeenMessages, "handled_before", _always_ask),
    # a button press answered at once, alongside the work it asks for
    "answer-after": lambda: mock.patch.object(
        app, "answers_after_handling", contextlib.nullcontext
    ),
}
PATHS: dict[str, tuple[str, Callable[[float], Awaitable[list[float]]]]] = {
    "report": ("dutybot report → alert", dutybot),
    "official": ("dutybot 续报 filed → first upward copy", official),
}


async def ab(change: str, path: str = "report", rounds: int = 1) -> None:
    """Before and after one change on ``path`` (``PATHS``), interleaved (bare, before, after,
    per round), so that a busy machine's drift hits both alike."""
    label, measured = PATHS[path]
    print(
        f"Intake latency, before/after {change!r}, {rounds} round(s) of {SAMPLES} samples "
        f"{SPACING:g} s apart"
    )
    print("network | handler | p50 ms | p99 ms | p50 vs bare | p99 vs bare")
    print("--- | --- | --- | --- | --- | ---")
    for name, latency in (("loopback", 0.0), ("+25 ms per Bot API answer", 0.025)):
        bares: list[float] = []
        before: list[float] = []
        after: list[float] = []
        for _ in range(rounds):
            bares += await bare(latency)
            with BEFORE[change]():
                before += await measured(latency)
            after += await measured(latency)
        print(f"{name} | " + row("bare PTB reply", bares, None))
        print(f"{name} | " + row(f"{label}, before", before, bares))
        print(f"{name} | " + row(f"{label}, after", after, bares))


_OPEN = sqlite_one_trip.opener


def _opener_for_the_loop(url: Any, **overrides: Any) -> Any:
    return _OPEN(url, check_same_thread=False, **overrides)


async def _call_on_the_loop(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    if not self._running or not self._connection:
        raise ValueError("Connection closed")
    return fn(*args, **kwargs)


@contextlib.contextmanager
def on_the_loop() -> Iterator[None]:
    """Every call of a SQLite connection opened from now on runs on the event loop's thread
    (opened on its own thread as usual, then used from the loop's)."""
    with (
        mock.patch.object(sqlite_one_trip, "opener", _opener_for_the_loop),
        mock.patch.object(OneTripConnection, "_execute", _call_on_the_loop),
    ):
        yield


async def ceiling() -> None:
    """Per network: bare, both paths as they are, both paths with SQLite on the loop."""
    print(
        f"Intake latency, {SAMPLES} samples {SPACING:g} s apart, SQLite as it runs and on the loop"
    )
    print("network | handler | p50 ms | p99 ms | p50 vs bare | p99 vs bare")
    print("--- | --- | --- | --- | --- | ---")
    for name, latency in (("loopback", 0.0), ("+25 ms per Bot API answer", 0.025)):
        bares = await bare(latency)
        print(f"{name} | " + row("bare PTB reply", bares, None))
        for label, measured in PATHS.values():
            print(f"{name} | " + row(label, await measured(latency), bares))
            with on_the_loop():
                print(
                    f"{name} | "
                    + row(f"{label}, SQLite on the loop", await measured(latency), bares)
                )


async def main() -> None:
    """Per network: bare, dutybot, bare again; the baseline is the better of the two bare runs."""
    print(
        f"Intake latency, {SAMPLES} reports each, {SPACING:g} s apart, same stand-in Bot API "
        "(loopback HTTP)"
    )
    print("network | handler | p50 ms | p99 ms | p50 vs bare | p99 vs bare")
    print("--- | --- | --- | --- | --- | ---")
    for name, latency in (("loopback", 0.0), ("+25 ms per Bot API answer", 0.025)):
        first = await bare(latency)
        floor = await durable(latency)
        ours = await dutybot(latency)
        second = await bare(latency)
        baseline: list[Any] = min((first, second), key=statistics.median)
        print(f"{name} | " + row("bare PTB reply", baseline, None))
        print(f"{name} | " + row("bare PTB + one durable write", floor, baseline))
        print(f"{name} | " + row(PATHS["report"][0], ours, baseline))
        upward = await official(latency)
        print(f"{name} | " + row(PATHS["official"][0], upward, baseline))


if __name__ == "__main__":
    if sys.argv[1:2] == ["ab"]:
        asyncio.run(ab(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "report"))
    elif sys.argv[1:2] == ["ceiling"]:
        asyncio.run(ceiling())
    else:
        asyncio.run(main())
