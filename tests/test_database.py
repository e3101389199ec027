"""The database layer: migrations, UTC-only datetimes, SQLite set up for a 24-hour service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from bot.db.engine import Database
from bot.db.migrate import current_revision, upgrade
from bot.db.models import Event
from bot.timeline import events_about, record_event
from tests.harness import head_revision


@pytest.fixture
async def database(database_url: str) -> Database:
    db = Database(database_url)
    await upgrade(db)
    yield db  # type: ignore[misc]
    await db.close()


async def test_migrations_reach_head_and_are_idempotent(database: Database) -> None:
    head = head_revision()
    assert head is not None
    assert await current_revision(database) == head
    await upgrade(database)
    assert await current_revision(database) == head


async def test_aware_datetimes_come_back_as_utc(database: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2026, 11, 27, 14, 0, tzinfo=beijing)
    async with database.transaction() as session:
        record_event(session, at=moment, kind="test", subject="s")
    async with database.sessions() as session:
        [event] = await events_about(session, "s")
    assert event.at == moment
    assert event.at.tzinfo == UTC
    assert event.at.hour == 6


async def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with database.transaction() as session:
            session.add(Event(at=datetime(2026, 11, 27, 14, 0), kind="test", data={}))


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(database: Database) -> None:
    if database.is_postgresql:
        pytest.skip("SQLite pragmas")
    async with database.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() >= 1000


async def test_sqlite_waits_for_the_disk_at_each_commit_only_when_asked(tmp_path) -> None:
    for query, expected in (("", 1), ("?synchronous=full", 2)):  # 1 NORMAL, 2 FULL
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/sync{len(query)}.db{query}")
        try:
            async with db.engine.connect() as connection:
                found = (await connection.execute(text("PRAGMA synchronous"))).scalar()
                assert found == expected, query
        finally:
            await db.close()
    with pytest.raises(ValueError, match="normal or full"):
        Database(f"sqlite+aiosqlite:///{tmp_path}/x.db?synchronous=off")


async def test_the_suite_runs_on_the_database_it_was_asked_for(database: Database) -> None:
    from tests.conftest import POSTGRES_URL

    assert database.is_postgresql == bool(POSTGRES_URL)
