"""The async engine and session factory, with SQLite set up for a 24-hour service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
from bot.db.pings import ping_after_rest

SQLITE_BUSY_TIMEOUT_MS = 10_000
FIRST = "dutybot.db.first"
log = logging.getLogger(__name__)

# SQLite's default has the commit that takes the WAL past 1,000 pages copy them into the
# database file, about 4 ms here, on whatever path committed: a report's, now and then. A
# running bot checkpoints in the background instead (``Checkpoints``), every
# ``CHECKPOINT_EVERY`` seconds; a commit still checkpoints past ``WAL_BACKSTOP_PAGES`` (40 MB),
# should the background ones fall behind or not run (a command-line tool, a test).
CHECKPOINT_EVERY = 1.0
WAL_BACKSTOP_PAGES = 10_000


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
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
        cursor.close()

    return on_connect


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout, foreign keys and ``synchronous``
    (``normal`` unless the URL says ``?synchronous=full``) on every connection, and one trip to
    the connection's thread per statement (``bot.db.sqlite_one_trip``). PostgreSQL's pooled
    connections are pinged when they come back from a rest (``bot.db.pings``)."""
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
    engine = create_async_engine(url)
    ping_after_rest(engine.sync_engine)
    return engine


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


class Checkpoints:
    """SQLite: the WAL copied into the database file in the background, every ``every``
    seconds, on a connection of its own (its thread does the work; the event loop and the
    committing connections do not wait). A passive checkpoint: it never waits for a writer or
    a reader, and copies what it can. Nothing to do on PostgreSQL."""

    def __init__(self, database: Database, every: float = CHECKPOINT_EVERY) -> None:
        self.database = database
        self.every = every
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether checkpoints are being taken."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Begin checkpointing (SQLite only)."""
        if self.database.engine.dialect.name == "sqlite" and self._task is None:
            self._task = asyncio.create_task(self._run(), name="sqlite-checkpoints")

    async def stop(self) -> None:
        """Stop checkpointing (closing the database checkpoints what is left)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def once(self) -> tuple[int, int]:
        """One passive checkpoint: the WAL's pages, and how many of them are in the database
        file now."""
        async with self.database.engine.connect() as connection:
            result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            row: Any = result.one()
        return int(row[1]), int(row[2])  # (busy, pages in the WAL, pages copied)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.once()
            except Exception:  # a checkpoint is retried in a second; commits are the backstop
                log.warning("SQLite checkpoint failed", exc_info=True)
