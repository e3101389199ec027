"""Run dutybot's real Application against the stand-in Bot API, and the test city's roster."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import build_application, prepare_database
from bot.configuration import load_configuration
from bot.runtime import Runtime, runtime_from
from scheduling.clock import FakeClock
from tests.botapi import TOKEN, StandInBotApi, User

# Telegram ids of the test city's people
CHEN = 1001  # city officer
SUN = 1002  # city leader
ZHOU = 1003  # city supervisor and admin
WU = 2001  # emergency officer
ZHENG = 2002  # emergency officer (backup today)
HE = 2003  # emergency leader (by one-off shifts)
MA = 2010  # emergency field staff
WANG = 3001  # water officer, Chinese-speaking
LI = 3002  # water officer
QIAN = 3003  # water leader
XU = 3010  # water field staff
GAO = 3011  # water supervisor
STRANGER = 9999

ROSTER = f"""
[[units]]
id = "city"
name = "City Duty Office"

[[units]]
id = "emergency"
name = "Emergency Bureau"
parent = "city"

[[units]]
id = "water"
name = "Water Authority"
parent = "city"

[[people]]
id = "chen.jing"
name = "Chen Jing"
unit = "city"
roles = ["officer"]
telegram_id = {CHEN}

[[people]]
id = "sun.li"
name = "Sun Li"
unit = "city"
roles = ["leader"]
telegram_id = {SUN}

[[people]]
id = "zhou.hua"
name = "Zhou Hua"
unit = "city"
roles = ["supervisor", "admin"]
telegram_id = {ZHOU}

[[people]]
id = "wu.gang"
name = "Wu Gang"
unit = "emergency"
roles = ["officer"]
telegram_id = {WU}

[[people]]
id = "zheng.mei"
name = "Zheng Mei"
unit = "emergency"
roles = ["officer"]
telegram_id = {ZHENG}

[[people]]
id = "he.jun"
name = "He Jun"
unit = "emergency"
roles = ["leader"]
telegram_id = {HE}

[[people]]
id = "ma.lin"
name = "Ma Lin"
unit = "emergency"
roles = ["field"]
telegram_id = {MA}

[[people]]
id = "wang.fang"
name = "Wang Fang"
unit = "water"
roles = ["officer"]
telegram_id = {WANG}
language = "zh"

[[people]]
id = "li.lei"
name = "Li Lei"
unit = "water"
roles = ["officer"]
telegram_id = {LI}

[[people]]
id = "qian.bo"
name = "Qian Bo"
unit = "water"
roles = ["leader"]
telegram_id = {QIAN}

[[people]]
id = "xu.tao"
name = "Xu Tao"
unit = "water"
roles = ["field"]
telegram_id = {XU}

[[people]]
id = "gao.yan"
name = "Gao Yan"
unit = "water"
roles = ["supervisor"]
telegram_id = {GAO}

[[people]]
id = "new.hire"
name = "New Hire"
unit = "water"
roles = ["officer"]

[[rotations]]
unit = "city"
position = "officer"
people = ["chen.jing"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "city"
position = "leader"
people = ["sun.li"]
start = "2026-11-01T08:00"
length = "7d"

[[rotations]]
unit = "emergency"
position = "officer"
people = ["wu.gang", "zheng.mei"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "emergency"
position = "backup"
people = ["zheng.mei", "wu.gang"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "water"
position = "officer"
people = ["wang.fang", "li.lei"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "water"
position = "backup"
people = ["li.lei", "wang.fang"]
start = "2026-11-01T08:00"
length = "1d"

[[rotations]]
unit = "water"
position = "leader"
people = ["qian.bo"]
start = "2026-11-01T08:00"
length = "7d"

# The emergency bureau's leader works by one-off shifts; nobody leads it on 28 November: a gap.
[[shifts]]
unit = "emergency"
position = "leader"
person = "he.jun"
start = "2026-11-27T08:00"
end = "2026-11-28T08:00"

[[shifts]]
unit = "emergency"
position = "leader"
person = "he.jun"
start = "2026-11-29T08:00"
end = "2026-12-20T08:00"
"""


def write_config(
    directory: Path,
    *,
    base_url: str,
    database_url: str,
    roster: str = ROSTER,
    extra: str = "",
    language: str = "en",
    private_per_second: float = 100.0,
) -> Path:
    """Write ``config.toml`` and ``roster.toml`` into ``directory``; return the config path."""
    (directory / "roster.toml").write_text(roster)
    config = directory / "config.toml"
    config.write_text(
        f'timezone = "Asia/Shanghai"\nlanguage = "{language}"\n\n'
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{base_url}"\npoll_timeout = 1\n\n'
        f'[database]\nurl = "{database_url}"\n\n[roster]\nfile = "roster.toml"\n\n'
        f"[delivery]\nprivate_per_second = {private_per_second}\n{extra}"
    )
    return config


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll an async condition (e.g. a database state) until it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


class BotHarness:
    """Starts and stops dutybot's Application exactly as ``run_polling`` would, minus signals."""

    def __init__(self, config_path: Path, botapi: StandInBotApi, clock: FakeClock) -> None:
        self.config_path = config_path
        self.botapi = botapi
        self.clock = clock
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self.runtime: Runtime | None = None

    async def start(self) -> None:
        """Build the Application from the config files and start polling."""
        self.runtime = runtime_from(load_configuration(self.config_path), self.clock)
        await prepare_database(self.runtime)
        app = build_application(self.runtime)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
        )
        await app.start()
        self.application = app

    async def stop(self) -> None:
        """Stop polling and shut down in the order ``run_polling`` uses."""
        app = self.application
        if app is None:
            return
        self.application = None
        assert app.updater is not None
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)

    async def restart(self) -> None:
        """Stop and start again on the same database and files."""
        await self.stop()
        await self.start()

    async def advance(self, delta: timedelta) -> int:
        """Move the fake clock and let the deadline engine fire what fell due; return how many."""
        self.clock.advance(delta)
        assert self.runtime is not None and self.runtime.engine is not None
        fired = await self.runtime.engine.tick()
        self.runtime.outbox_committed()
        return fired

    def open_chats(self, *telegram_ids: int) -> None:
        """These people have pressed Start in their chat with the bot (so it may message them)."""
        self.botapi.started_chats.update(telegram_ids)

    def user(self, telegram_id: int, name: str = "User", language: str | None = "en") -> User:
        """An actor in a private chat with the bot."""
        return self.botapi.user(telegram_id, name, language)
