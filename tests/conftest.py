"""Shared fixtures: a database per test (SQLite, or PostgreSQL when asked; migrated, or empty),
the stand-in Bot API,
a fake clock, and a harness that runs dutybot's real Application against them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.engine import Database
from bot.db.migrate import upgrade
from scheduling.clock import FakeClock
from tests.botapi import StandInBotApi
from tests.harness import BotHarness, write_config

POSTGRES_URL = os.environ.get("DUTYBOT_TEST_DATABASE_URL")
# 2026-11-27 14:00 in Asia/Shanghai
START = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """A fresh, empty database for this test."""
    if POSTGRES_URL:
        await _reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'dutybot.db'}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The test's database, migrated to the head revision, closed after the test."""
    db = Database(database_url)
    await upgrade(db)
    yield db
    await db.close()


@pytest.fixture
async def botapi() -> AsyncIterator[StandInBotApi]:
    """The stand-in Bot API server, listening on loopback."""
    server = StandInBotApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def clock() -> FakeClock:
    """A clock that stands at 2026-11-27 14:00 Shanghai time until a test moves it."""
    return FakeClock(START)


@pytest.fixture
def config_path(tmp_path: Path, botapi: StandInBotApi, database_url: str) -> Path:
    """Config and roster of the test city, pointing at the stand-in server and test database."""
    return write_config(tmp_path, base_url=botapi.base_url, database_url=database_url)


@pytest.fixture
async def harness(
    config_path: Path, botapi: StandInBotApi, clock: FakeClock
) -> AsyncIterator[BotHarness]:
    """dutybot's Application, polling the stand-in server."""
    bot = BotHarness(config_path, botapi, clock)
    await bot.start()
    yield bot
    await bot.stop()
