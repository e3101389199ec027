"""Who may act: only one process fetches updates, sends and fires at a time.

On PostgreSQL any number of processes run; the leader holds a session-level advisory lock on a
dedicated connection (TCP keepalives on both ends and a short ``tcp_user_timeout``, plus a check
every second), so the lock frees as soon as the leader's process or connection dies and a standby
takes it at its next check. On SQLite only one process may run at all: an exclusive lock on a
file next to the database, which the kernel releases when the holder dies (even by SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy.engine import URL, make_url

from scheduling.tasks import cancel_and_join

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

LOCK_KEY = 0x64757479626F74  # "dutybot"
CHECK_SECONDS = 1.0
QUERY_TIMEOUT = 3.0
Callback = Callable[[], Awaitable[None]]


class AlreadyRunning(Exception):
    """Another process runs this bot on the same SQLite database."""


class FileLock:
    """An exclusive ``flock`` on ``<database>.lock``; the kernel frees it when the holder dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``AlreadyRunning`` naming the file."""
        file = self.path.open("a+")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            raise AlreadyRunning(
                f"another dutybot process is running on this SQLite database (it holds "
                f"{self.path}); SQLite allows one process: use PostgreSQL for a standby"
            ) from None
        file.seek(0)
        file.truncate()
        file.write(f"{os.getpid()}\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        """Let go of the lock."""
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def conninfo(url: str | URL) -> str:
    """A libpq connection string for a SQLAlchemy PostgreSQL URL, with keepalives set so that a
    dead peer is noticed within seconds."""
    parsed = make_url(url)
    import psycopg  # only PostgreSQL deployments pay for the driver here

    return psycopg.conninfo.make_conninfo(
        host=parsed.host or "",
        port=str(parsed.port or ""),
        dbname=parsed.database or "",
        user=parsed.username or "",
        password=parsed.password or "",
        application_name="dutybot-leader",
        keepalives="1",
        keepalives_idle="2",
        keepalives_interval="1",
        keepalives_count="3",
        tcp_user_timeout="5000",
        connect_timeout="5",
    )


class Leadership:
    """Runs ``on_gain`` when this process becomes the leader and ``on_loss`` when it stops being
    it (lock lost or connection gone); ``stop()`` gives leadership up."""

    def __init__(self, on_gain: Callback, on_loss: Callback) -> None:
        self.on_gain = on_gain
        self.on_loss = on_loss
        self.leading = False

    async def start(self) -> None:
        """Begin (SQLite-style: lead at once)."""
        await self._gain()

    async def stop(self) -> None:
        """Give leadership up."""
        await self._lose()

    async def _gain(self) -> None:
        if not self.leading:
            self.leading = True
            log.info("leading: fetching updates, sending and firing deadlines")
            await self.on_gain()

    async def _lose(self) -> None:
        if self.leading:
            self.leading = False
            await self.on_loss()


class SoleProcess(Leadership):
    """SQLite: the only process (the file lock is taken before start) leads from the start."""


class AdvisoryLockLeadership(Leadership):
    """PostgreSQL: lead while holding ``pg_try_advisory_lock`` on a dedicated connection."""

    def __init__(
        self, url: str | URL, on_gain: Callback, on_loss: Callback, check: float = CHECK_SECONDS
    ) -> None:
        super().__init__(on_gain, on_loss)
        self.conninfo = conninfo(url)
        self.check = check
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._announced_standby = False

    async def start(self) -> None:
        """Start trying for the lock every ``check`` seconds."""
        self._task = asyncio.create_task(self._run(), name="dutybot-leadership")

    async def stop(self) -> None:
        """Stop, give up the duties, then the lock (closing its connection)."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_join(task)
        await self._lose()
        await self._close()

    async def _run(self) -> None:
        while True:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
                # lands just as the query completes, and stop() would then wait forever
                async with asyncio.timeout(QUERY_TIMEOUT):
                    taken = await self._check_once()
                if taken:
                    await self._gain()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.leading:
                    log.error("lost leadership: %s: %s", type(error).__name__, error)
                else:
                    log.warning("cannot check leadership: %s: %s", type(error).__name__, error)
                await self._close()
                await self._lose()
            await asyncio.sleep(self.check)

    async def _check_once(self) -> bool:
        """Tell whether the lock was just taken (raises when the connection is gone)."""
        if self._connection is None or self._connection.closed:
            import psycopg

            self._connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
            # the server side also notices a vanished client within seconds
            await self._connection.execute(
                "SET tcp_keepalives_idle = 2; SET tcp_keepalives_interval = 1; "
                "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 5000"
            )
        if self.leading:
            await self._connection.execute("SELECT 1")
            return False
        cursor = await self._connection.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
        row = await cursor.fetchone()
        if row is not None and row[0]:
            return True
        if not self._announced_standby:
            self._announced_standby = True
            log.info("standing by: another process leads")
        return False

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()
