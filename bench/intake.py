"""Benchmark: report in → alert out, against a bare python-telegram-bot handler that only replies.

Both run in this process against the same stand-in Bot API over loopback HTTP, polling the same
way. For the bare bot the latency is from the user's message entering the stand-in to the reply
reaching it; for dutybot, from the ``/report`` message to the first alert card reaching an
officer on duty (the report stored, routed, a duplicate check, alert cards and receipt written to
the outbox in one transaction, then delivered). Pacing is opened up here (it is measured by
``bench/delivery.py``) so that what is measured is the work per report. The goal (SPEC §9) is at
most 2× the bare handler.

Run: ``.venv/bin/python bench/intake.py`` (or ``make bench``).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from scheduling.clock import FakeClock
from tests.botapi import TOKEN, StandInBotApi
from tests.conftest import START
from tests.harness import LI, QIAN, WANG, XU, BotHarness, write_config

SAMPLES = 100
WARMUP = 10


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
        before = len(server.messages_to(target_chat))
        start = time.perf_counter()
        await reporter.send(f"/report pipe burst number {n} at the pumping station")
        await server.wait_until(lambda b=before: len(server.messages_to(target_chat)) > b, 30)
        latencies.append(time.perf_counter() - start)
        receipts = before_receipts + n + 1
        await server.wait_until(lambda r=receipts: len(server.messages_to(XU)) >= r, 30)
    return latencies


async def bare(latency: float = 0.0) -> list[float]:
    """A python-telegram-bot Application whose only handler replies."""
    server = StandInBotApi()
    server.latency = latency
    await server.start()

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("received")

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


async def dutybot(latency: float = 0.0) -> list[float]:
    """dutybot itself, SQLite database, officers Wang Fang and Li Lei on duty, Qian their leader."""
    server = StandInBotApi()
    server.latency = latency
    await server.start()
    server.started_chats.update({WANG, LI, QIAN})  # the leader on duty is told too
    with tempfile.TemporaryDirectory() as directory:
        config = write_config(
            Path(directory),
            base_url=server.base_url,
            database_url=f"sqlite+aiosqlite:///{directory}/bench.db",
            private_per_second=1000.0,
            # one reporter sends a report a second here: lift the per-person flood limits
            extra="overall_per_second = 100000\n\n[flood]\nupdates_per_minute = 100000\n"
            "reports_per_minute = 100000\n",
        )
        harness = BotHarness(config, server, FakeClock(START))
        await harness.start()
        await measure(server, WANG, WARMUP)
        result = await measure(server, WANG, SAMPLES)
        await harness.stop()
    await server.stop()
    return result


def row(name: str, values: list[float], baseline: list[float] | None) -> str:
    """One line of the table."""
    p50, p99 = statistics.median(values) * 1000, percentile(values, 0.99) * 1000
    if baseline is None:
        return f"{name} | {p50:.1f} | {p99:.1f} | 1.00× | 1.00×"
    b50, b99 = statistics.median(baseline) * 1000, percentile(baseline, 0.99) * 1000
    return f"{name} | {p50:.1f} | {p99:.1f} | {p50 / b50:.2f}× | {p99 / b99:.2f}×"


async def main() -> None:
    """Per network: bare, dutybot, bare again; the baseline is the better of the two bare runs."""
    print(f"Intake latency, {SAMPLES} reports each, same stand-in Bot API (loopback HTTP)")
    print("network | handler | p50 ms | p99 ms | p50 vs bare | p99 vs bare")
    print("--- | --- | --- | --- | --- | ---")
    for name, latency in (("loopback", 0.0), ("+25 ms per Bot API answer", 0.025)):
        first = await bare(latency)
        ours = await dutybot(latency)
        second = await bare(latency)
        baseline: list[Any] = min((first, second), key=statistics.median)
        print(f"{name} | " + row("bare PTB reply", baseline, None))
        print(f"{name} | " + row("dutybot report → alert", ours, baseline))


if __name__ == "__main__":
    asyncio.run(main())
