"""Appended rows (timeline events): written in one statement with the transaction's others, before
the first statement that involves their table, or at the commit; gone with a rollback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select, text

from bot.db.engine import Database
from bot.db.models import Deadline, Event
from bot.timeline import events_about, record_event

AT = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    """The first word and table of every statement sent from now on (``INSERT events``; SQL
    text without a table: its last word)."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        verb = sql.split()[0]
        if verb in ("INSERT", "SELECT", "UPDATE", "DELETE"):
            table = re.search(r"(?:FROM|INTO|UPDATE)\s+(\w+)|(\w+)\s*$", sql)
            assert table is not None
            seen.append(f"{verb} {table.group(1) or table.group(2)}")

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


async def test_a_statement_on_another_table_leaves_them_for_the_commit(
    database: Database, statements: list[str]
) -> None:
    async with database.transaction() as session:
        record_event(session, at=AT, kind="first", subject="s")
        await session.scalar(select(func.count()).select_from(Deadline))
        record_event(session, at=AT, kind="second", subject="s")
    assert statements == ["SELECT deadlines", "INSERT events"]  # both events, one statement
    async with database.sessions() as session:
        assert [e.kind for e in await events_about(session, "s")] == ["first", "second"]


async def test_the_transaction_reads_what_it_appended(
    database: Database, statements: list[str]
) -> None:
    async with database.transaction() as session:
        record_event(session, at=AT, kind="first", subject="s")
        assert [e.kind for e in await events_about(session, "s")] == ["first"]
        # in a subquery too
        in_subquery = select(Deadline.id).where(
            Deadline.id.in_(select(Event.id).where(Event.subject == "t"))
        )
        record_event(session, at=AT, kind="second", subject="t")
        assert (await session.scalars(in_subquery)).all() == []
        record_event(session, at=AT, kind="third", subject="u")
        await session.execute(text("SELECT 1"))  # SQL text: it might involve any table
        assert statements == [
            "INSERT events",
            "SELECT events",
            "INSERT events",
            "SELECT deadlines",
            "INSERT events",
            "SELECT 1",
        ]


async def test_a_rollback_takes_them_away(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            record_event(session, at=AT, kind="lost", subject="s")
            await session.scalar(select(func.count()).select_from(Deadline))
            raise RuntimeError("the change failed")
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_statement_built_once_is_walked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.db import appends

    walks: list[object] = []
    real = appends.find_tables

    def counting(statement: object, **options: bool) -> object:
        walks.append(statement)
        return real(statement, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(appends, "find_tables", counting)
    built_once = select(Deadline.id).where(Deadline.id.in_(select(Event.id)))
    assert appends.involves(built_once, {"events"})
    assert appends.involves(built_once, {"deadlines"})
    assert not appends.involves(built_once, {"incidents"})
    assert walks == [built_once]
    assert appends.involves(select(Event.id), {"events"})  # another statement: walked anew
    assert len(walks) == 2
