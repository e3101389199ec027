"""Benchmark: the deadline engine on the real clock.

1. Lateness: 10,000 deadlines fall due over 20 seconds; the engine, armed through
   python-telegram-bot's JobQueue (APScheduler) as in production, fires them. Lateness = when it
   fired − when it was due (p50, p99, max). Baseline, in the same run: the same 10,000 moments
   as bare APScheduler one-off jobs (``JobQueue.run_once``), which is what firing from memory
   alone would achieve — without the database, and without surviving a restart.
2. Restart: 100,000 pending deadlines, of which some fell due while the bot was down; the time
   from the engine's start to "every overdue deadline fired" (SPEC §9: within 5 s; issue 14:
   2 s), on SQLite and, when ``DUTYBOT_BENCH_DATABASE_URL`` names one (it is emptied), on
   PostgreSQL. The overdue ones are of every incident deadline kind, mixed; the engine's
   urgency order must fire every missed accept and flash report before the first follow-up.

The firer writes one timeline event per deadline (as a real firing writes at least one).
Run: ``.venv/bin/python bench/clock.py`` (or ``make bench``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from telegram.ext import Application

from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.db.models import Deadline
from bot.escalation.scheduled import URGENCY
from bot.incidents.deadlines import ACCEPT, ESCALATION, FINAL, FLASH, FOLLOWUP, INITIAL, WARNING
from bot.timeline import record_event
from scheduling.clock import SystemClock
from scheduling.engine import Engine
from tests.botapi import TOKEN, StandInBotApi

SPREAD = 20.0
# the overdue deadlines of a restart, in the order they are seeded (least urgent first)
KINDS = (FOLLOWUP, FINAL, WARNING, INITIAL, ESCALATION, FLASH, ACCEPT)
POSTGRES_URL = os.environ.get("DUTYBOT_BENCH_DATABASE_URL")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
LAST_CPU = [0.0]  # CPU seconds this process spent in the last restart (others' load excluded)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def firer(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
    """What every firing does at least: one timeline event."""
    record_event(session, at=now, kind="bench.fired", subject=f"deadline:{deadline.id}")


async def seed(database: Database, dues: list[datetime], kinds: list[str] | None = None) -> None:
    """Insert pending deadlines in bulk (of ``kinds``, one each, else of kind ``bench``)."""
    rows = [
        {
            "kind": kinds[n] if kinds else "bench",
            "due_at": due,
            "state": "pending",
            "late": False,
            "data": {},
        }
        for n, due in enumerate(dues)
    ]
    async with database.transaction() as session:
        for start in range(0, len(rows), 5000):
            await session.execute(insert(Deadline), rows[start : start + 5000])


async def application(server: StandInBotApi) -> Application[Any, Any, Any, Any, Any, Any]:
    """A python-telegram-bot Application, for its JobQueue."""
    app = Application.builder().token(TOKEN).base_url(server.base_url).build()
    await app.initialize()
    await app.start()
    return app


async def lateness_engine(server: StandInBotApi, count: int) -> list[float]:
    """Fire ``count`` deadlines spread over ``SPREAD`` seconds through the armed engine."""
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite+aiosqlite:///{directory}/clock.db")
        await upgrade(database)
        start = datetime.now(UTC) + timedelta(seconds=2)
        await seed(database, [start + timedelta(seconds=SPREAD * i / count) for i in range(count)])
        app = await application(server)
        engine = Engine(database, SystemClock(), {"bench": firer})
        engine.arm(app.job_queue)
        await asyncio.sleep(2 + SPREAD + 2)
        async with database.sessions() as session:
            rows = (await session.execute(select(Deadline.due_at, Deadline.fired_at))).all()
        await app.stop()
        await app.shutdown()
        await database.close()
    assert all(fired is not None for _, fired in rows), "some deadlines did not fire"
    return [(fired - due).total_seconds() for due, fired in rows]


async def lateness_bare(server: StandInBotApi, count: int) -> list[float]:
    """The same moments as bare APScheduler one-off jobs."""
    app = await application(server)
    assert app.job_queue is not None
    start = time.time() + 2
    late: list[float] = []

    async def job(context: Any) -> None:
        late.append(time.time() - context.job.data)

    for i in range(count):
        due = start + SPREAD * i / count
        app.job_queue.run_once(job, when=due - time.time(), data=due)
    await asyncio.sleep(2 + SPREAD + 2)
    await app.stop()
    await app.shutdown()
    return late


async def fresh(url: str | None, directory: str) -> str:
    """An empty database: a SQLite file in ``directory``, or the PostgreSQL one emptied."""
    if url is None:
        return f"sqlite+aiosqlite:///{directory}/restart.db"
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return url


async def restart(url: str | None, pending: int, overdue: int) -> tuple[float, bool]:
    """Seconds from the engine's start to every overdue deadline fired, and whether every
    accept and flash report fired before the first follow-up."""
    order: list[str] = []

    async def ordered(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        order.append(deadline.kind)
        await firer(session, deadline, now)

    with tempfile.TemporaryDirectory() as directory:
        url = await fresh(url, directory)
        database = Database(url)
        await upgrade(database)
        now = datetime.now(UTC)
        dues = [now - timedelta(seconds=1 + i % 600) for i in range(overdue)]
        dues += [now + timedelta(minutes=10 + i % 10000) for i in range(pending - overdue)]
        kinds = [KINDS[i % len(KINDS)] for i in range(pending)]
        await seed(database, dues, kinds)
        await database.close()
        database = Database(url)
        started, cpu = time.perf_counter(), time.process_time()
        engine = Engine(database, SystemClock(), dict.fromkeys(KINDS, ordered), URGENCY)
        await engine.tick()
        elapsed = time.perf_counter() - started
        LAST_CPU[0] = time.process_time() - cpu
        async with database.sessions() as session:
            left = await session.scalar(
                select(func.count())
                .select_from(Deadline)
                .where(Deadline.state == "pending", Deadline.due_at <= now)
            )
        await database.close()
    assert left == 0
    urgent = [n for n, kind in enumerate(order) if kind in (ACCEPT, FLASH)]
    followups = [n for n, kind in enumerate(order) if kind in (FOLLOWUP, FINAL)]
    return elapsed, max(urgent) < min(followups)


@contextlib.contextmanager
def as_before() -> Iterator[None]:
    """The catch-up as it was before issue 14's second round: deadline ids claimed with an
    ``IN`` list of a thousand placeholders, timeline events through the ORM's bulk insert."""
    from sqlalchemy import update

    from bot.db import appends
    from scheduling import engine as scheduling_engine
    from scheduling.rows import FIRED, PENDING

    async def claim(_self: Any, session: AsyncSession, ids: list[int], now: datetime) -> Any:
        result = await session.scalars(
            update(Deadline)
            .where(Deadline.id.in_(ids), Deadline.state == PENDING)
            .values(state=FIRED, fired_at=now)
            .returning(Deadline),
            execution_options={"synchronize_session": False},
        )
        return list(result)

    def write_appended(session: Any) -> None:
        for model, rows in (session.info.pop(appends.KEY, None) or {}).items():
            session.execute(insert(model), rows)

    saved = scheduling_engine.Engine._claim, appends.write_appended
    scheduling_engine.Engine._claim = claim  # type: ignore[method-assign]
    appends.write_appended = write_appended
    try:
        yield
    finally:
        scheduling_engine.Engine._claim, appends.write_appended = saved  # type: ignore[method-assign]


async def restart_ab() -> None:
    """Restart with 10,000 overdue of 100,000, before and after issue 14's second round,
    interleaved, in the same run (SQLite, and PostgreSQL when configured)."""
    print("Restart, 100,000 pending, 10,000 overdue: before / after, two rounds")
    print("database | variant | seconds to fire all | CPU s (bot process) | accepts first")
    print("--- | --- | --- | --- | ---")
    databases: list[tuple[str, str | None]] = [("SQLite", None)]
    if POSTGRES_URL:
        databases.append(("PostgreSQL", POSTGRES_URL))
    for database, url in databases:
        for _ in range(ROUNDS):
            for name, before in (("before", True), ("after", False)):
                with as_before() if before else contextlib.nullcontext():
                    seconds, urgent_first = await restart(url, 100_000, 10_000)
                print(
                    f"{database} | {name} | {seconds:.2f} | {LAST_CPU[0]:.2f} | "
                    f"{'yes' if urgent_first else 'no'}"
                )


async def main() -> None:
    """Run both measurements and print the tables (``restart``: only the second;
    ``restart-ab``: before/after issue 14's second round)."""
    if sys.argv[1:] == ["restart"]:
        await restarts()
        return
    if sys.argv[1:] == ["restart-ab"]:
        await restart_ab()
        return
    server = StandInBotApi()
    await server.start()
    bare = await lateness_bare(server, 10_000)
    ours = await lateness_engine(server, 10_000)
    await server.stop()
    print("Lateness of firing, 10,000 deadlines due over 20 s, real clock (SQLite)")
    print("alarm | p50 ms | p99 ms | max ms | p99 vs bare")
    print("--- | --- | --- | --- | ---")
    b99 = percentile(bare, 0.99)
    for name, values in (
        ("bare APScheduler jobs (memory only)", bare),
        ("dutybot engine (database rows)", ours),
    ):
        p99 = percentile(values, 0.99)
        print(
            f"{name} | {statistics.median(values) * 1000:.1f} | {p99 * 1000:.1f} | "
            f"{max(values) * 1000:.1f} | {p99 / b99:.1f}×"
        )
    print()
    await restarts()


async def restarts() -> None:
    """The restart table."""
    print("Restart with 100,000 pending deadlines")
    print(
        "database | overdue | seconds to fire all | per second | accepts before follow-ups | goal"
    )
    print("--- | --- | --- | --- | --- | ---")
    databases: list[tuple[str, str | None]] = [("SQLite", None)]
    if POSTGRES_URL:
        databases.append(("PostgreSQL", POSTGRES_URL))
    for name, url in databases:
        for overdue in (1_000, 10_000):
            seconds, urgent_first = await restart(url, 100_000, overdue)
            print(
                f"{name} | {overdue:,} | {seconds:.2f} | {overdue / seconds:,.0f} | "
                f"{'yes' if urgent_first else 'no'} | ≤ 2 s"
            )


if __name__ == "__main__":
    asyncio.run(main())
