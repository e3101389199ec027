"""Benchmark: the deadline engine on the real clock.

1. Lateness: 10,000 deadlines fall due over 20 seconds; the engine, armed through
   python-telegram-bot's JobQueue (APScheduler) as in production, fires them. Lateness = when it
   fired − when it was due (p50, p99, max). Baseline, in the same run: the same 10,000 moments
   as bare APScheduler one-off jobs (``JobQueue.run_once``), which is what firing from memory
   alone would achieve — without the database, and without surviving a restart.
2. Restart: 100,000 pending deadlines, of which some fell due while the bot was down; the time
   from the engine's start to "every overdue deadline fired" (SPEC §9: within 5 s).

The firer writes one timeline event per deadline (as a real firing writes at least one).
Run: ``.venv/bin/python bench/clock.py`` (or ``make bench``).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application

from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.db.models import Deadline
from bot.timeline import record_event
from scheduling.clock import SystemClock
from scheduling.engine import Engine
from tests.botapi import TOKEN, StandInBotApi

SPREAD = 20.0


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def firer(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
    """What every firing does at least: one timeline event."""
    record_event(session, at=now, kind="bench.fired", subject=f"deadline:{deadline.id}")


async def seed(database: Database, dues: list[datetime]) -> None:
    """Insert pending deadlines in bulk."""
    rows = [
        {"kind": "bench", "due_at": due, "state": "pending", "late": False, "data": {}}
        for due in dues
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


async def restart(pending: int, overdue: int) -> float:
    """Seconds from the engine's start to every overdue deadline fired."""
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite+aiosqlite:///{directory}/restart.db")
        await upgrade(database)
        now = datetime.now(UTC)
        dues = [now - timedelta(seconds=1 + i % 600) for i in range(overdue)]
        dues += [now + timedelta(minutes=10 + i % 10000) for i in range(pending - overdue)]
        await seed(database, dues)
        await database.close()
        database = Database(f"sqlite+aiosqlite:///{directory}/restart.db")
        started = time.perf_counter()
        engine = Engine(database, SystemClock(), {"bench": firer})
        await engine.tick()
        elapsed = time.perf_counter() - started
        async with database.sessions() as session:
            left = await session.scalar(
                select(func.count())
                .select_from(Deadline)
                .where(Deadline.state == "pending", Deadline.due_at <= now)
            )
        await database.close()
    assert left == 0
    return elapsed


async def main() -> None:
    """Run both measurements and print the tables."""
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
    print("Restart with 100,000 pending deadlines (SQLite)")
    print("overdue | seconds to fire all | per second | SPEC target")
    print("--- | --- | --- | ---")
    for overdue in (1_000, 10_000):
        seconds = await restart(100_000, overdue)
        print(f"{overdue:,} | {seconds:.2f} | {overdue / seconds:,.0f} | ≤ 5 s")


if __name__ == "__main__":
    asyncio.run(main())
