"""Benchmark: a short PostgreSQL transaction (one statement, then the commit) with a ping at every
checkout (SQLAlchemy's ``pool_pre_ping``, as it was) against a ping only after a rest in the pool
(``bot.db.pings``, as it is).

The two take turns per round of ``CALLS`` so that a busy machine's drift hits both alike; the
first round warms up and is not counted. On loopback a ping is the cheapest round trip there is:
across a network each one costs the network's round trip, three times on a report's way to the
officer.

Run: ``DUTYBOT_BENCH_DATABASE_URL=postgresql+psycopg://user@host/db .venv/bin/python
bench/pings.py`` (or ``make bench``; ``DUTYBOT_TEST_DATABASE_URL`` is used when that is unset;
without either it prints why it did not run). It writes nothing.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.db.engine import create_engine

ROUNDS, CALLS = 6, 1000


async def main(url: str) -> None:
    """Interleaved rounds; print the table."""
    engines: dict[str, AsyncEngine] = {
        "ping at every checkout (pool_pre_ping)": create_async_engine(url, pool_pre_ping=True),
        "ping after a rest (bot.db.pings)": create_engine(url),
    }
    times: dict[str, list[float]] = {name: [] for name in engines}
    for round_number in range(ROUNDS):
        for name, engine in engines.items():
            for _ in range(CALLS):
                start = time.perf_counter()
                async with engine.begin() as connection:
                    await connection.execute(text("SELECT 1"))
                if round_number:
                    times[name].append(time.perf_counter() - start)
    for engine in engines.values():
        await engine.dispose()
    print(f"A one-statement transaction on PostgreSQL, {ROUNDS - 1} × {CALLS} each")
    print("checkout | p50 ms | p99 ms | p50 vs pre-ping")
    print("--- | --- | --- | ---")
    base = statistics.median(next(iter(times.values())))
    for name, values in times.items():
        ordered = sorted(values)
        p50, p99 = statistics.median(values), ordered[int(0.99 * len(ordered))]
        print(f"{name} | {p50 * 1000:.2f} | {p99 * 1000:.2f} | {p50 / base:.2f}×")


if __name__ == "__main__":
    target = os.environ.get("DUTYBOT_BENCH_DATABASE_URL") or os.environ.get(
        "DUTYBOT_TEST_DATABASE_URL"
    )
    if target:
        asyncio.run(main(target))
    else:
        print("pings: skipped (set DUTYBOT_BENCH_DATABASE_URL to a PostgreSQL database)")
