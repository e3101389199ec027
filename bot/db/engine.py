"""The async engine and session factory, with SQLite set up for a 24-hour service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from bot.db import sqlite_one_trip

SQLITE_BUSY_TIMEOUT_MS = 10_000
FIRST = "dutybot.db.first"


# WAL with synchronous=NORMAL: a commit writes the WAL without waiting for the disk. A crash
# of the process loses no committed transaction; an operating-system crash or power loss can
# lose the last ones. ``?synchronous=full`` in the URL waits for the disk at every commit.
SQLITE_SYNCHRONOUS = ("normal", "full")


def _sqlite_setup(synchronous: str) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.close()

    return on_connect


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout, foreign keys and ``synchronous``
    (``normal`` unless the URL says ``?synchronous=full``) on every connection, and one trip to
    the connection's thread per statement (``bot.db.sqlite_one_trip``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        synchronous = str(parsed.query.get("synchronous", "normal")).lower()
        if synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"synchronous={synchronous!r} in the SQLite URL: normal or full")
        parsed = parsed.difference_update_query(["synchronous"])
        engine = create_async_engine(
            parsed,
            async_creator=sqlite_one_trip.opener(parsed, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_setup(synchronous))
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def first_after_commit(session: Session, work: asyncio.Future[Any], at_most: float) -> None:
    """After this session's commit (in ``Database.transaction``), its caller waits for ``work``
    (``at_most`` seconds) before going on with its own trailing work, which would otherwise
    take turns with ``work`` on the processor and delay it: an alert's send goes first."""
    session.info[FIRST] = (work, at_most)


class Database:
    """The engine and a session factory; one per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgresql(self) -> bool:
        """Tell whether row locks (``FOR UPDATE SKIP LOCKED``) are available."""
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error. What
        the commit started and asked to go first (``first_after_commit``) is waited for."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            first = session.info.pop(FIRST, None)
            if first is not None:
                await asyncio.wait({first[0]}, timeout=first[1])

    async def close(self) -> None:
        """Release every connection."""
        await self.engine.dispose()
