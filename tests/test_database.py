"""The database layer: migrations, UTC-only datetimes, SQLite set up for a 24-hour service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db import pings
from bot.db.engine import Checkpoints, Database
from bot.db.migrate import current_revision, upgrade
from bot.db.models import Deadline, Event
from bot.db.types import UTCDateTime
from bot.timeline import events_about, record_event
from tests.conftest import POSTGRES_URL
from tests.harness import BotHarness, head_revision


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


async def test_an_upgrade_remembers_the_warnings_already_fired(database_url: str) -> None:
    """Migration 0015: a deadline whose warning fired before the upgrade is warned after it
    (``/status`` reads "a warning was ignored" from the deadline itself)."""
    db = Database(database_url)
    await upgrade(db, "0012")
    fired = datetime(2026, 11, 27, 6, 50, tzinfo=UTC)
    at = bindparam("at", fired, type_=UTCDateTime())
    async with db.engine.begin() as connection:
        for statement in (
            "INSERT INTO units (id, name, in_roster) VALUES ('water', 'Water', true)",
            "INSERT INTO people (id, name, unit_id, roles, in_roster) "
            "VALUES ('xu.tao', 'Xu', 'water', 'reporter', true)",
            "INSERT INTO incidents (id, unit_id, level, sensitive, summary, description, "
            "reported_at, reporter_id, attachments, drill, state, version, source) VALUES "
            "(1, 'water', 'III', false, 'Leak', '', :at, 'xu.tao', '[]', false, 'accepted', 1, "
            "'field')",
            # 1: its warning (2) fired; 3: its warning (4) still pending
            "INSERT INTO deadlines (id, incident_id, kind, due_at, state, parent_id, late, "
            "fired_at, data) VALUES "
            "(1, 1, 'initial_report', :at, 'pending', NULL, false, NULL, '{}'), "
            "(2, 1, 'warning', :at, 'fired', 1, false, :at, '{}'), "
            "(3, 1, 'followup', :at, 'pending', NULL, false, NULL, '{}'), "
            "(4, 1, 'warning', :at, 'pending', 3, false, NULL, '{}')",
        ):
            query = text(statement)
            await connection.execute(query.bindparams(at) if ":at" in statement else query)
    await upgrade(db)
    async with db.sessions() as session:
        warned = dict((await session.execute(select(Deadline.id, Deadline.warned_at))).all())
    assert warned == {1: fired, 2: None, 3: None, 4: None}
    await db.close()


async def test_commits_leave_the_wal_to_the_background_checkpoints(tmp_path: Path) -> None:
    """A commit that takes the WAL past SQLite's default 1,000 pages does not copy them into the
    database file (on whatever path committed, a report's now and then); a passive checkpoint in
    the background does."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/wal.db")
    try:
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE blobs (data BLOB)")
            page = (await connection.exec_driver_sql("PRAGMA page_size")).scalar_one()
        for _ in range(1200):  # a page or more each
            async with db.engine.begin() as connection:
                await connection.exec_driver_sql("INSERT INTO blobs VALUES (?)", (bytes(3000),))
        assert (tmp_path / "wal.db-wal").stat().st_size > 1100 * page  # no commit checkpointed
        before = (tmp_path / "wal.db").stat().st_size
        pages, copied = await Checkpoints(db).once()
        assert pages > 1100
        assert copied == pages
        assert (tmp_path / "wal.db").stat().st_size > before + 1000 * page
    finally:
        await db.close()


async def test_a_running_bot_checkpoints_sqlite_in_the_background(harness: BotHarness) -> None:
    assert harness.process is not None and harness.runtime is not None
    assert harness.process.checkpoints.running != harness.runtime.database.is_postgresql
    process = harness.process
    await harness.stop()
    assert not process.checkpoints.running


class RestClock:
    """``bot.db.pings``' clock, moved by hand: a connection rests without the test waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def dropped(database: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[RestClock, int]:
    """The pool's only connection, used, put back to rest, then ended by the server (a restart,
    an idle timeout of a proxy): the rest's clock and that connection's server process id."""
    assert POSTGRES_URL is not None
    clock = RestClock()
    monkeypatch.setattr(pings, "monotonic", clock)
    await database.engine.dispose()
    async with database.engine.connect() as connection:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    admin = create_async_engine(POSTGRES_URL)
    async with admin.connect() as connection:
        assert await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await admin.dispose()
    return clock, pid


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's pooled connections")
async def test_a_postgresql_connection_that_died_while_resting_is_replaced_before_use(
    database: Database, dropped: tuple[RestClock, int]
) -> None:
    clock, pid = dropped
    clock.now += pings.REST_BEFORE_PING + 1  # the desk was quiet for a while
    async with database.transaction() as session:  # pinged, found gone, replaced: no error
        assert await session.scalar(text("SELECT pg_backend_pid()")) != pid


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's pooled connections")
async def test_a_postgresql_connection_back_from_a_short_rest_is_used_without_a_ping(
    database: Database, dropped: tuple[RestClock, int]
) -> None:
    clock, pid = dropped
    clock.now += pings.REST_BEFORE_PING / 2
    # no round trip before the statement: it finds the connection gone, as a disconnect
    with pytest.raises(DBAPIError) as failed:
        async with database.transaction() as session:
            await session.scalar(text("SELECT 1"))
    assert failed.value.connection_invalidated
    async with database.transaction() as session:  # the pool opened a fresh one meanwhile
        assert await session.scalar(text("SELECT pg_backend_pid()")) != pid
