"""Rows appended in bulk: an append-only row (a timeline event) is kept with the session and
inserted together with the others of its transaction — one statement, no key read back —
just before the session's next statement that involves its table, or at the commit, so that
the transaction still reads what it wrote and commits it with the rest. Dropped with the
transaction if it rolls back.

Inside a savepoint (``begin_nested``) a row is added to the session at once instead (a
savepoint that rolls back must take its rows with it).
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Executable, Table, TextClause, bindparam, event, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.util import find_tables

from bot.db.models import Base, table_of

KEY = "dutybot.appends"


def append(session: AsyncSession, model: type[Base], row: dict[str, Any]) -> None:
    """Queue ``row`` (column values) for insertion into ``model``'s table in this transaction."""
    sync = session.sync_session
    if sync.in_nested_transaction():
        session.add(model(**row))
        return
    pending: dict[type[Base], list[dict[str, Any]]] = sync.info.setdefault(KEY, {})
    pending.setdefault(model, []).append(row)


UNNEST_FROM = 50  # PostgreSQL: this many rows and more go as one INSERT … SELECT unnest(arrays)


def _unnest(table: Table, rows: list[dict[str, Any]]) -> Executable:
    """One statement with one array parameter per column (a catch-up's thousand events would
    otherwise be a thousand executions, or a statement with thousands of placeholders)."""
    columns = [table.c[key] for key in rows[0]]
    arrays = [
        func.unnest(
            bindparam(f"{column.key}_values", [row[column.key] for row in rows], ARRAY(column.type))
        )
        for column in columns
    ]
    return insert(table).from_select([c.key for c in columns], select(*arrays))


def write_appended(session: Session) -> None:
    """Insert what is queued (one statement per table: a Core insert into the table, not the
    ORM's bulk path, which inspects every row's keys and costs more than the insert)."""
    pending = session.info.pop(KEY, None)
    postgresql = session.get_bind().dialect.name == "postgresql"
    for model, rows in (pending or {}).items():
        table = table_of(model)
        # on the session's connection: a Core insert needs none of the session's execution
        connection = session.connection()
        if postgresql and len(rows) >= UNNEST_FROM:
            connection.execute(_unnest(table, rows))
        else:
            connection.execute(insert(table), rows)


# the tables each statement names, kept while the statement lives: the hot paths' statements
# are built once, and walking one (``find_tables``) costs more than the rest of a check
_NAMED: weakref.WeakKeyDictionary[ClauseElement, frozenset[str]] = weakref.WeakKeyDictionary()


def tables_named(statement: ClauseElement) -> frozenset[str]:
    """The names of the tables ``statement`` names anywhere (in a subquery too)."""
    named = _NAMED.get(statement)
    if named is None:
        found = find_tables(statement, include_crud=True, include_joins=True)
        named = _NAMED[statement] = frozenset(t.name for t in found if isinstance(t, Table))
    return named


def involves(statement: Any, tables: set[str]) -> bool:
    """Whether ``statement`` names one of ``tables`` anywhere (in a subquery too); SQL text is
    taken to involve every table."""
    if not isinstance(statement, ClauseElement) or isinstance(statement, TextClause):
        return True
    return not tables_named(statement).isdisjoint(tables)


def write_before(session: Session, statement: Any) -> None:
    """Insert what is queued if ``statement`` involves a table rows are queued for (it is
    about to run, and must see them)."""
    pending: dict[type[Base], list[dict[str, Any]]] | None = session.info.get(KEY)
    if pending and involves(statement, {m.__tablename__ for m in pending}):
        write_appended(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    write_before(state.session, state.statement)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if KEY in session.info:
        write_appended(session)


@event.listens_for(Session, "after_transaction_end")
def _after_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (written already) or rolled back: forget
        session.info.pop(KEY, None)
