"""SQLite through aiosqlite, one thread hop per statement.

aiosqlite runs every call on the connection's own thread and wakes the event loop with the result.
SQLAlchemy's adapter makes four such calls per statement (open a cursor, execute, fetch the rows,
close the cursor); on a busy machine each hop costs a thread switch and a loop wake-up, which
made the hops, not SQLite, the largest part of a report's path. Here one function opens, executes,
fetches and closes on the connection's thread and hands back the rows with the description, row
count and last row id: one hop per statement. Transactions, commits and the SQLite settings are
unchanged (``bot.db.engine``). Registered as the ``sqlite+dutybot`` dialect; ``bot.db.engine``
uses it for ``sqlite+aiosqlite`` URLs.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from threading import Thread
from typing import Any

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "dutybot"
Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: Any, operation: str, parameters: Any, many: bool) -> Outcome:
    """On the connection's thread: execute, fetch everything, close the cursor."""
    raw: sqlite3.Connection = connection._connection
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_dbapi_cursor):
    """A DB-API cursor whose statements each take one trip to the connection's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")
    server_side = False
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: Any) -> None:  # no aiosqlite cursor: nothing to open
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        """The columns of the last statement's rows (``None`` for a statement without rows)."""
        return self._description

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        """The rowid of the last row inserted."""
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        """Rows per ``fetchmany`` when no size is given."""
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        """Forget unread rows (the SQLite cursor is closed already)."""
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        """Run one statement."""
        try:
            return await_(self._one_hop(operation, parameters, False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        """Run one statement for each set of parameters (in one hop)."""
        try:
            return await_(self._one_hop(operation, seq_of_parameters, True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _one_hop(self, operation: Any, parameters: Any, many: bool) -> None:
        connection = self._connection
        async with self._adapt_connection._execute_mutex:
            outcome: Outcome = await connection._execute(
                _run, connection, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """An aiosqlite connection handing out one-hop cursors."""

    __slots__ = ()
    _cursor_cls = OneHopCursor  # type: ignore[assignment]


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module: aiosqlite connections wrapped in ``OneHopConnection``."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        """Open a connection on its own (daemon) thread."""
        creator_fn = kw.pop("async_creator_fn", None)
        connection = creator_fn(*arg, **kw) if creator_fn else self.aiosqlite.connect(*arg, **kw)
        if isinstance(connection, Thread):  # aiosqlite before 0.22
            connection.daemon = True
        else:
            connection._thread.daemon = True
        return OneHopConnection(self, await_(connection))


class SQLiteDialect_dutybot(SQLiteDialect_aiosqlite):
    """``sqlite+aiosqlite`` with one thread hop per statement."""

    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        """The DB-API module."""
        return OneHopDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_dutybot")
