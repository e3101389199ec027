"""SQLite connections that take one trip to their thread per statement.

aiosqlite runs every call on the connection's own thread and wakes the event loop with the
answer. Through SQLAlchemy's stock ``aiosqlite`` dialect a statement makes four such trips (open a
cursor, execute, fetch the rows, close the cursor), and each trip is a thread switch plus an
event-loop wake-up: on a report's path they cost more than SQLite itself.

``OneTripConnection`` is an ``aiosqlite.Connection`` whose cursors execute, fetch every row and
close in one function on the connection's thread, then answer ``fetch*`` and ``description``
from what that trip brought back; a commit or rollback with no transaction open takes no trip.
SQLAlchemy's dialect is used unchanged: ``bot.db.engine`` hands these connections to it through
``create_async_engine(async_creator=…)``, its public hook for a custom connection. Commits,
rollbacks and transactions are otherwise aiosqlite's own.

Every row is fetched with its statement, as SQLAlchemy's adapter already does for all but
server-side (streamed) results; dutybot streams none.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL

# (description, rows, rowcount, lastrowid) of one statement
Outcome = tuple[Any, list[Any], int, int | None]


def _execute_on_thread(
    connection: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> Outcome:
    """On the connection's thread: execute, fetch every row, close the cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor:
    """aiosqlite's cursor interface, one trip to the connection's thread per statement."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        """Run one statement and keep its rows."""
        return await self._run(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        """Run one statement once per set of parameters, in the same trip."""
        return await self._run(sql, list(parameters), many=True)

    async def _run(self, sql: str, parameters: Any, many: bool) -> OneTripCursor:
        connection = self._connection
        outcome: Outcome = await connection._execute(  # type: ignore[no-untyped-call]
            _execute_on_thread, connection._conn, sql, parameters, many
        )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)
        return self

    async def fetchone(self) -> Any:
        """The next row, or ``None``."""
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to ``size`` of the remaining rows."""
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    async def fetchall(self) -> list[Any]:
        """Every remaining row."""
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        """Forget unread rows (the SQLite cursor closed at the end of its trip)."""
        self._rows.clear()

    @property
    def description(self) -> Any:
        """The last statement's columns (``None`` when it returned no rows)."""
        return self._description

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        """The rowid of the last row inserted."""
        return self._lastrowid


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection handing out one-trip cursors."""

    def __init__(self, connector: Any) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # as SQLAlchemy does for aiosqlite: a connection never closed must not keep the process up
        self._thread.daemon = True

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        """A cursor; opening it costs no trip (the SQLite cursor lives within each statement)."""
        return OneTripCursor(self)

    async def commit(self) -> None:
        """Commit; no trip when no transaction is open (see ``rollback``)."""
        if self.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        """Roll back; no trip when no transaction is open. SQLAlchemy rolls back at the end of
        every use of a connection, and one that only read has none open: SQLite runs each of
        its reads alone (the cursor closed within its trip), and Python's driver begins a
        transaction only before a write. Read here, no statement is under way: the connection
        is used by one caller at a time, and each call of it is awaited."""
        if self.in_transaction:
            await super().rollback()


def opener(url: URL, **overrides: Any) -> Callable[[], Awaitable[OneTripConnection]]:
    """The ``async_creator`` for ``url``: opens it with the arguments SQLAlchemy's SQLite dialect
    derives from the URL (file name, ``uri``, ``timeout``, …), ``overrides`` on top."""
    arguments, options = SQLiteDialect_aiosqlite().create_connect_args(url)
    options = {**options, **overrides}

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(*arguments, **options)  # type: ignore[no-any-return,call-overload]

    async def open_connection() -> OneTripConnection:
        connection = OneTripConnection(connector)
        await connection
        return connection

    return open_connection
