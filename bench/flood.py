"""Benchmark: one user floods the bot while another works (issue 17).

Xu Tao (field staff) sends 200 ``/report`` in 5 seconds. Meanwhile Gao Yan (the water
authority's supervisor) asks ``/status`` ten times, then files a genuine report. Measured: the
time from each ``/status`` to its answer (p50, max), and from the genuine report to the moment
the water authority's officer Wang Fang has it in her chat (a card, or a line of a digest). The
baseline is the same run without the flood, in the same process against the same kind of
stand-in. Telegram's real pacing is kept (1 message per second per private chat): the flood's
alerts pile up in the officers' chats, which is what the digest is for.

Targets: ``/status`` answered within 1 s, the genuine alert within 5 s.

Run: ``.venv/bin/python bench/flood.py`` (or ``make bench``).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.db.models import IncidentRow
from scheduling.clock import FakeClock
from tests.botapi import StandInBotApi
from tests.conftest import START
from tests.harness import GAO, LI, QIAN, WANG, XU, BotHarness, write_config

FLOOD = 200
FLOOD_SECONDS = 5.0
STATUS_ASKS = 8


async def run(flood: bool) -> tuple[list[float], float, int]:
    """(the /status answer times, the genuine alert's delay, flood reports stored)."""
    server = StandInBotApi()
    await server.start()
    server.started_chats.update({WANG, LI, QIAN, XU, GAO})
    with tempfile.TemporaryDirectory() as directory:
        config = write_config(
            Path(directory),
            base_url=server.base_url,
            database_url=f"sqlite+aiosqlite:///{directory}/flood.db",
            private_per_second=1.0,
        )
        harness = BotHarness(config, server, FakeClock(START))
        await harness.start()
        xu, gao = server.user(XU, "Xu"), server.user(GAO, "Gao")

        async def flooder() -> None:
            for n in range(FLOOD):
                await xu.send(f"/report flood {n}: nothing happened at all")
                await asyncio.sleep(FLOOD_SECONDS / FLOOD)

        def answers() -> int:
            return sum(1 for m in gao.inbox() if m.text.startswith("Open incidents"))

        task = asyncio.create_task(flooder()) if flood else None
        await asyncio.sleep(0.3)
        times = []
        for _ in range(STATUS_ASKS):
            before = answers()
            start = time.perf_counter()
            await gao.send("/status")
            await server.wait_until(lambda b=before: answers() > b, 120)
            times.append(time.perf_counter() - start)
            await asyncio.sleep(1.05)  # past the 1 message/s pacing of a private chat
        if task is not None:
            await task
        receipts = len(gao.inbox())
        start = time.perf_counter()
        await gao.send("/report Crack in the spillway of the reservoir dam")
        await server.wait_until(
            lambda: any(m.text.startswith("Received as #") for m in gao.inbox()[receipts:]), 120
        )
        receipt = next(m for m in gao.inbox()[receipts:] if m.text.startswith("Received as #"))
        match = re.match(r"Received as #(\d+)", receipt.text)
        assert match is not None
        number = match.group(1)
        mark = re.compile(rf"#{number}\b")
        await server.wait_until(
            lambda: any(mark.search(m.text) for m in server.messages_to(WANG)), 300
        )
        delay = time.perf_counter() - start
        stored = len(await harness.rows(IncidentRow))
        await harness.stop()
    await server.stop()
    return times, delay, stored


async def main() -> None:
    """Baseline, then the flood, in the same run."""
    base_times, base_delay, _ = await run(flood=False)
    times, delay, stored = await run(flood=True)
    print(
        f"One user sends {FLOOD} reports in {FLOOD_SECONDS:.0f} s; another asks /status "
        f"{STATUS_ASKS} times, then files a genuine report (SQLite, pacing 1 msg/s per chat)"
    )
    print("run | /status p50 s | /status max s | genuine alert s | vs no flood (p50 / alert)")
    print("--- | --- | --- | --- | ---")
    b50 = statistics.median(base_times)
    print(f"no flood | {b50:.3f} | {max(base_times):.3f} | {base_delay:.2f} | 1.0× / 1.0×")
    p50 = statistics.median(times)
    print(
        f"flood | {p50:.3f} | {max(times):.3f} | {delay:.2f} | "
        f"{p50 / b50:.1f}× / {delay / base_delay:.1f}×"
    )
    print(f"flood reports stored: {stored - 1} of {FLOOD} (the rest refused by the rate limit)")
    print("targets: /status within 1 s, the genuine alert within 5 s")


if __name__ == "__main__":
    asyncio.run(main())
