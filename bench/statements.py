"""Benchmark: one outbox row marked sent, in a transaction of its own, as the sender does after
every send: the ORM update composed per call and run through the session (as it was) against
the Core statement built once (``bot.db.statements``, as it is).

The two take turns per round of ``CALLS`` on one SQLite database, so that a busy machine's drift
hits both alike; the first round warms up and is not counted. The time is the whole
transaction as the sender sees it: session, statement, commit.

Run: ``.venv/bin/python bench/statements.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.db.models import OutboxMessage
from bot.delivery import outbox

ROUNDS, CALLS = 6, 500


async def orm_mark_sent(session: AsyncSession, row_id: int, message_id: int, now: Any) -> None:
    """``outbox.mark_sent`` as it was: an ORM update composed for each call."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            state=outbox.SENT,
            sent_at=now,
            telegram_message_id=message_id,
            claimed_until=None,
            last_error=None,
        )
    )


Mark = Callable[[AsyncSession, int, int, Any], Awaitable[None]]


async def main() -> None:
    """Interleaved rounds; print the table."""
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite+aiosqlite:///{directory}/bench.db")
        await upgrade(database)
        async with database.transaction() as session:
            rows = [outbox.enqueue(session, 1001, f"message {n}")[0] for n in range(10)]
        row_ids = [row.id for row in rows]
        marks: dict[str, Mark] = {
            "ORM, composed per call": orm_mark_sent,
            "Core, built once": outbox.mark_sent,
        }
        times: dict[str, list[float]] = {name: [] for name in marks}
        for round_number in range(ROUNDS):
            for name, mark in marks.items():
                for n in range(CALLS):
                    start = time.perf_counter()
                    async with database.transaction() as session:
                        await mark(session, row_ids[n % len(row_ids)], n, datetime.now(UTC))
                    if round_number:
                        times[name].append(time.perf_counter() - start)
        await database.close()
    print(f"An outbox row marked sent, its own transaction, SQLite, {ROUNDS - 1} × {CALLS} each")
    print("statement | p50 ms | p99 ms | p50 vs ORM")
    print("--- | --- | --- | ---")
    base = statistics.median(times["ORM, composed per call"])
    for name, values in times.items():
        ordered = sorted(values)
        p50, p99 = statistics.median(values), ordered[int(0.99 * len(ordered))]
        print(f"{name} | {p50 * 1000:.2f} | {p99 * 1000:.2f} | {p50 / base:.2f}×")


if __name__ == "__main__":
    asyncio.run(main())
