"""Benchmark: one Bot API call through python-telegram-bot's default HTTP client (httpx)
against dutybot's (``bot.telegram_http``, aiohttp), on loopback to the stand-in Bot API.

Each client sends ``ROUNDS`` × ``CALLS`` ``sendMessage`` calls one after another (a text and
a button, as an alert card has), the two clients taking turns per round so that a busy
machine's drift hits both alike; the first round warms up and is not counted. The time is the
whole round trip as the sender sees it, the stand-in's own work included (the same for both).

Run: ``.venv/bin/python bench/client.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram_http import AiohttpRequest
from tests.botapi import TOKEN, StandInBotApi

ROUNDS, CALLS, CHAT = 6, 300, 1001
TEXT = "【接报】城东泵站爆管，影响约两千户供水。请在 5 分钟内接报。" * 2
MARKUP = InlineKeyboardMarkup([[InlineKeyboardButton("接报", callback_data="1:acc:42")]])


async def timed_calls(bot: Bot, calls: int) -> list[float]:
    """``calls`` sends one after another, each timed (ms)."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await bot.send_message(CHAT, TEXT, reply_markup=MARKUP)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def main() -> None:
    """Both clients, interleaved by round; a table of p50, p99 and the ratio to httpx."""
    server = StandInBotApi()
    await server.start()
    server.started_chats.add(CHAT)
    clients: dict[str, BaseRequest] = {
        "python-telegram-bot default (httpx)": HTTPXRequest(connection_pool_size=256),
        "dutybot (aiohttp, bot.telegram_http)": AiohttpRequest(),
    }
    bots = {name: Bot(TOKEN, base_url=server.base_url, request=r) for name, r in clients.items()}
    for bot in bots.values():
        await bot.initialize()
    times: dict[str, list[float]] = {name: [] for name in bots}
    for round_ in range(ROUNDS):
        for name, bot in bots.items():
            measured = await timed_calls(bot, CALLS)
            if round_:
                times[name] += measured
    for bot in bots.values():
        await bot.shutdown()
    await server.stop()
    baseline = statistics.median(next(iter(times.values())))
    print(f"One sendMessage round trip on loopback, {(ROUNDS - 1) * CALLS} calls per client")
    print("client | p50 ms | p99 ms | p50 vs httpx")
    print("--- | --- | --- | ---")
    for name, values in times.items():
        ordered = sorted(values)
        p50, p99 = statistics.median(values), ordered[int(0.99 * len(ordered))]
        print(f"{name} | {p50:.2f} | {p99:.2f} | {p50 / baseline:.2f}×")


if __name__ == "__main__":
    asyncio.run(main())
