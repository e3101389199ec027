"""Benchmark: ``/status`` and "Next page" over many open incidents (issue 17).

The supervisor Gao Yan asks ``/status`` and presses "Next page" ten times, over 1,000 (the
baseline, in the same run), 10,000 and 50,000 open incidents of the water authority, each with
a pending deadline, levels I to IV and unassessed mixed. Measured from the message (or press)
entering the stand-in Bot API to the page reaching it (pacing opened up, as in
``bench/intake.py``), and the peak of Python memory allocated while the pages are made
(``tracemalloc``, a second pass: it slows the first). Keyset pagination reads one page per
press, and the first page's counts (open, 🔴, 🟡, 🔵) read at most 1,000 index entries each
("1000+" beyond), so time and memory should stay flat as the number of incidents grows: the
last two columns compare a next page and the first page with those over 1,000 incidents.

Target: ≤ 100 ms per page, flat in the number of incidents.

Run: ``.venv/bin/python bench/status_pages.py`` (or ``make bench``).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bot.db.models import Deadline, IncidentRow
from scheduling.clock import FakeClock
from tests.botapi import StandInBotApi
from tests.conftest import START
from tests.harness import GAO, BotHarness, write_config

SIZES = (1_000, 10_000, 50_000)
PRESSES = 10
LEVELS = ("I", "II", "III", "IV", "unassessed")


async def seed(harness: BotHarness, count: int) -> None:
    """``count`` open incidents, each with a pending acceptance deadline."""
    assert harness.runtime is not None
    now = harness.clock.now()
    async with harness.runtime.database.transaction() as session:
        for start in range(0, count, 10_000):
            chunk = range(start, min(count, start + 10_000))
            await session.execute(
                insert(IncidentRow),
                [
                    {
                        "unit_id": "water",
                        "level": LEVELS[n % len(LEVELS)],
                        "sensitive": False,
                        "summary": f"Seeded incident {n}: burst pipe on a residential street",
                        "description": "A long enough description of what happened. " * 5,
                        "reported_at": now,
                        "reporter_id": "xu.tao",
                        "attachments": [],
                        "drill": False,
                        "state": "reported",
                        "version": 1,
                    }
                    for n in chunk
                ],
            )
            await session.execute(
                insert(Deadline),
                [
                    {
                        "incident_id": n + 1,
                        "kind": "accept",
                        "due_at": now + timedelta(minutes=1 + n % 90),
                        "state": "pending",
                        "late": False,
                        "data": {},
                    }
                    for n in chunk
                ],
            )


async def pages(server: StandInBotApi) -> list[float]:
    """/status, then Next page ``PRESSES`` times: the time of each page."""
    gao = server.user(GAO, "Gao")
    times = []
    before = len(gao.inbox())
    start = time.perf_counter()
    await gao.send("/status")
    await server.wait_until(lambda: len(gao.inbox()) > before, 60)
    times.append(time.perf_counter() - start)
    for _ in range(PRESSES):
        page = gao.inbox()[-1]
        before = len(gao.inbox())
        start = time.perf_counter()
        await gao.press(page, "Next page")
        await server.wait_until(lambda b=before: len(gao.inbox()) > b, 60)
        times.append(time.perf_counter() - start)
    return times


async def measure(count: int) -> tuple[list[float], float]:
    """(time per page, peak MB allocated while making pages) over ``count`` open incidents."""
    server = StandInBotApi()
    await server.start()
    server.started_chats.add(GAO)
    with tempfile.TemporaryDirectory() as directory:
        config = write_config(
            Path(directory),
            base_url=server.base_url,
            database_url=f"sqlite+aiosqlite:///{directory}/pages.db",
            private_per_second=1000.0,
            extra="overall_per_second = 100000\n",
        )
        harness = BotHarness(config, server, FakeClock(START))
        await harness.start()
        await seed(harness, count)
        await pages(server)  # warm up
        times = await pages(server)
        tracemalloc.start()
        await pages(server)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        await harness.stop()
    await server.stop()
    return times, peak / 2**20


async def main() -> None:
    """Each size, and the table against the smallest."""
    results = {size: await measure(size) for size in SIZES}
    print(f"/status and {PRESSES} × Next page (SQLite, loopback stand-in)")
    print(
        "open incidents | first page ms | next page p50 ms | next page max ms | peak MB "
        "| p50 vs 1,000 | first page vs 1,000"
    )
    print("--- | --- | --- | --- | --- | --- | ---")
    base = statistics.median(results[SIZES[0]][0][1:])
    first = results[SIZES[0]][0][0]
    for size, (times, peak) in results.items():
        p50 = statistics.median(times[1:])
        print(
            f"{size:,} | {times[0] * 1000:.1f} | {p50 * 1000:.1f} | {max(times[1:]) * 1000:.1f} "
            f"| {peak:.1f} | {p50 / base:.2f}× | {times[0] / first:.2f}×"
        )
    print("target: ≤ 100 ms per page, flat in the number of incidents")


if __name__ == "__main__":
    asyncio.run(main())
