"""Benchmark: a burst of 1,000 alerts to 200 chats through the outbox and the paced sender.

The stand-in Bot API enforces Telegram's flood control (30/s overall, 1/s per private chat,
answering 429 with retry_after when exceeded), so the ceiling is 30 messages a second. Printed:
achieved throughput as a fraction of that ceiling, time from commit to delivery (p50, p99) overall
and per level (higher levels must come first), and flood-control refusals — once on a clean line
and once with 20% of calls answered 429 or 500.

Run: ``.venv/bin/python bench/delivery.py`` (or ``make bench``).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Bot

from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.delivery.outbox import LEVEL_PRIORITY, enqueue
from bot.delivery.sender import Sender
from bot.telegram_http import AiohttpRequest
from tests.botapi import TOKEN, StandInBotApi

ALERTS, CHATS, CEILING = 1000, 200, 30.0
LEVELS = ["I"] * 100 + ["II"] * 200 + ["III"] * 300 + ["IV"] * 400


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def burst(fault_rate: float) -> dict[str, object]:
    """Queue the burst, deliver it, and measure."""
    server = StandInBotApi()
    server.enforce_limits = True
    await server.start()
    chats = list(range(80001, 80001 + CHATS))
    server.started_chats.update(chats)
    if fault_rate:
        server.fail_randomly(fault_rate, "sendMessage", seed=1)
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite+aiosqlite:///{directory}/bench.db")
        await upgrade(database)
        bot = Bot(TOKEN, base_url=server.base_url, request=AiohttpRequest())
        await bot.initialize()
        sender = Sender(database, bot)
        levels = LEVELS[:]
        random.Random(3).shuffle(levels)
        level_of: dict[str, str] = {}
        async with database.transaction() as session:
            for n, level in enumerate(levels):
                text = f"alert {n} level {level}"
                level_of[text] = level
                enqueue(session, chats[n % CHATS], text, priority=LEVEL_PRIORITY[level])
        queued = time.time()
        sender.start()
        await server.wait_until(lambda: len(server.sent) >= ALERTS, timeout=600)
        elapsed = max(m.at for m in server.sent) - queued
        await sender.stop()
        await bot.shutdown()
        await database.close()
    await server.stop()
    latency = [m.at - queued for m in server.sent]
    by_level = {
        lv: [m.at - queued for m in server.sent if level_of[m.text] == lv]
        for lv in ("I", "II", "III", "IV")
    }
    return {
        "faults": f"{fault_rate:.0%}",
        "seconds": elapsed,
        "throughput": ALERTS / elapsed,
        "of_ceiling": ALERTS / elapsed / CEILING,
        "p50": statistics.median(latency),
        "p99": percentile(latency, 0.99),
        "level_p50": {lv: statistics.median(v) for lv, v in by_level.items()},
        "flood_429": server.rate_limited,
        "duplicates": len(server.sent) - len({m.text for m in server.sent}),
    }


async def main() -> None:
    """Run both bursts and print the table."""
    rows = [await burst(0.0), await burst(0.2)]
    print(
        f"Delivery: {ALERTS} alerts to {CHATS} chats; ceiling {CEILING:.0f} msg/s "
        "(Telegram's overall limit), enforced by the stand-in"
    )
    header = (
        "faults",
        "time s",
        "msg/s",
        "of ceiling",
        "p50 s",
        "p99 s",
        "p50 I/II/III/IV s",
        "flood 429s",
        "dupes",
    )
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for r in rows:
        levels = "/".join(f"{v:.1f}" for v in r["level_p50"].values())  # type: ignore[attr-defined]
        print(
            f"{r['faults']} | {r['seconds']:.1f} | {r['throughput']:.1f} | "
            f"{r['of_ceiling']:.0%} | {r['p50']:.1f} | {r['p99']:.1f} | {levels} | "
            f"{r['flood_429']} | {r['duplicates']}"
        )


if __name__ == "__main__":
    asyncio.run(main())
