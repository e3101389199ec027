"""Core statements in an ORM session's transaction, for the few statements on the hot paths (a
report filed, a deadline met, a send recorded) whose ORM execution costs more than the
statement itself.

``execute`` does first what the session does before any statement — flushes its pending
changes, writes the rows appended for the statement's tables (``bot.db.appends``), notes a write
to a remembered table (``bot.db.remembered``) — and then runs the statement on the session's
connection. What it leaves out is the ORM's work per statement: annotating the statement anew
(and so computing its cache key anew), evaluating an UPDATE's criteria against every object in
the session, loading returned rows as objects. The statements are built once, on tables, not
on mapped classes; objects in the session whose rows a statement changes are kept in step by
the caller (``keep_in_step``), as the ORM's ``synchronize_session`` would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, Delete, Executable, Insert, Row, Update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, attributes, object_mapper

from bot.db.appends import write_before
from bot.db.remembered import note_write


async def execute(
    session: AsyncSession, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> CursorResult[Any]:
    """Run ``statement`` (a Core statement on tables) in the session's transaction, after the
    session's pending changes and the rows appended for its tables."""
    await session.flush()
    sync = session.sync_session
    write_before(sync, statement)
    if isinstance(statement, Insert | Update | Delete):
        note_write(sync, statement)
    connection = await session.connection()
    return await connection.execute(statement, parameters)


def keep_in_step(instance: object, row: Row[Any]) -> None:
    """Set ``instance``'s attributes to what ``row`` (its columns, as a statement's RETURNING
    gave them) says the database now holds, as loaded, not as changes to write."""
    mapper: Mapper[Any] = object_mapper(instance)
    values = row._mapping
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column in values:
            attributes.set_committed_value(instance, prop.key, values[column])
