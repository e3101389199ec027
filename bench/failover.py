"""Benchmark: failover on PostgreSQL — from SIGKILL of the leading ``dutybot run`` to the first
message the standby sends, over several runs (target ≤ 10 s, aim ≤ 3 s; SPEC §9 "Available").

Each run: a fresh database, the stand-in Bot API, two processes (one leads, one stands by); the
leader is killed and a report is sent at once; the time until the stand-in receives the first
message (the receipt or an alert, necessarily from the standby) is the failover time.

Run: ``DUTYBOT_BENCH_DATABASE_URL=postgresql+psycopg://user@host/db .venv/bin/python
bench/failover.py`` (or ``make bench``; ``DUTYBOT_TEST_DATABASE_URL`` is used when that is
unset; without either it prints why it did not run). The database is emptied at every run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.botapi import StandInBotApi
from tests.conftest import _reset_postgres
from tests.harness import LI, QIAN, WANG, XU, start_bot, write_config

RUNS = 5


async def wait_for_line(process: asyncio.subprocess.Process, text: str) -> None:
    """Read the process's stderr until a line contains ``text`` (at most a minute)."""
    assert process.stderr is not None
    async with asyncio.timeout(60):
        async for line in process.stderr:
            if text in line.decode(errors="replace"):
                return
    raise RuntimeError(f"the process never said {text!r}")


async def drain(process: asyncio.subprocess.Process) -> None:
    """Keep reading stderr so the process never blocks on a full pipe."""
    assert process.stderr is not None
    async for _ in process.stderr:
        pass


async def one_run(url: str) -> float:
    """Seconds from SIGKILL of the leader to the standby's first message."""
    await _reset_postgres(url)
    botapi = StandInBotApi()
    await botapi.start()
    botapi.started_chats.update({WANG, LI, QIAN, XU})
    with tempfile.TemporaryDirectory() as directory:
        config = write_config(Path(directory), base_url=botapi.base_url, database_url=url)
        leader = await start_bot(config)
        await wait_for_line(leader, "leading")
        leader_drain = asyncio.create_task(drain(leader))
        standby = await start_bot(config)
        await wait_for_line(standby, "standing by")
        standby_drain = asyncio.create_task(drain(standby))
        try:
            sent_before = len(botapi.sent)
            leader.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            await leader.wait()
            await botapi.user(XU, "Xu").send("/report Failover drill")
            await botapi.wait_until(lambda: len(botapi.sent) > sent_before, timeout=60)
            elapsed = time.monotonic() - killed
        finally:
            standby.send_signal(signal.SIGTERM)
            await asyncio.wait_for(standby.wait(), 30)
            await asyncio.gather(leader_drain, standby_drain)
    await botapi.stop()
    return elapsed


async def main() -> int:
    """Run the failover several times and print p50 and max."""
    url = os.environ.get("DUTYBOT_BENCH_DATABASE_URL") or os.environ.get(
        "DUTYBOT_TEST_DATABASE_URL"
    )
    if not url or not url.startswith("postgresql"):
        print("failover: skipped (set DUTYBOT_BENCH_DATABASE_URL to a PostgreSQL database)")
        return 0
    times = [await one_run(url) for _ in range(RUNS)]
    print(f"{'failover (SIGKILL → first send by the standby)':<50} {'p50':>8} {'max':>8}")
    print(f"{f'{RUNS} runs':<50} {statistics.median(times):>7.2f}s {max(times):>7.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
