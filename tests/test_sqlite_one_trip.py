"""SQLite's one trip per statement (``bot.db.sqlite_one_trip``): a statement reaches the
connection's thread once, and SQLAlchemy sees the same rows, counts and errors as through
aiosqlite's own cursors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.db.engine import Database
from bot.db.sqlite_one_trip import OneTripConnection


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/trips.db")
    async with db.engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)")
        )
    yield db
    await db.close()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every function sent to a connection's thread from now on."""
    sent: list[Any] = []
    original = OneTripConnection._execute

    async def counted(self: OneTripConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(fn)
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneTripConnection, "_execute", counted)
    return sent


async def test_a_statement_with_rows_takes_one_trip(database: Database, trips: list[Any]) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the connection is open and set up
        trips.clear()
        rows = (await connection.execute(text("SELECT 1, 'two' UNION SELECT 3, 'four'"))).all()
        assert len(trips) == 1  # aiosqlite's own cursor: open, execute, fetch, close = 4
        assert [tuple(row) for row in rows] == [(1, "two"), (3, "four")]


async def test_a_transaction_is_its_statements_and_a_commit(
    database: Database, trips: list[Any]
) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        await connection.commit()
        trips.clear()
        await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        inserted = await connection.execute(
            text("INSERT INTO notes (body) VALUES ('b') RETURNING id")
        )
        assert inserted.scalar_one() == 2
        await connection.commit()
        assert len(trips) == 3


async def test_counts_ids_and_many_parameters_come_back(database: Database) -> None:
    async with database.engine.begin() as connection:
        many = await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": b} for b in "xyz"]
        )
        assert many.rowcount == 3
        one = await connection.execute(text("INSERT INTO notes (body) VALUES ('w')"))
        assert one.lastrowid == 4
        changed = await connection.execute(text("UPDATE notes SET body = body || '!'"))
        assert changed.rowcount == 4
        result = await connection.execute(text("SELECT body FROM notes ORDER BY id"))
        assert result.fetchone() == ("x!",)
        assert result.fetchmany(2) == [("y!",), ("z!",)]
        assert result.fetchall() == [("w!",)]
        assert (await connection.execute(text("DELETE FROM notes WHERE 0"))).rowcount == 0


async def test_an_error_is_sqlalchemys_and_the_connection_goes_on(database: Database) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('once')"))
        with pytest.raises(IntegrityError, match="UNIQUE"):
            await connection.execute(text("INSERT INTO notes (body) VALUES ('once')"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 0


async def test_a_rollback_after_only_reads_takes_no_trip_and_after_a_write_undoes_it(
    database: Database, trips: list[Any]
) -> None:
    """Every use of a connection ends with a rollback: after reads alone there is nothing to
    roll back (nor to commit) and no trip is taken; after a write the rollback still undoes
    it."""
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT body FROM notes"))
        trips.clear()
        await connection.rollback()
        await connection.commit()
        assert trips == []
        await connection.execute(text("INSERT INTO notes (body) VALUES ('undone')"))
        trips.clear()
        await connection.rollback()
        assert len(trips) == 1
        left = (await connection.execute(text("SELECT count(*) FROM notes"))).scalar()
    assert left == 0
