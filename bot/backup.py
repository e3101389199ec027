"""``dutybot backup FILE``: a consistent copy of the SQLite database while the bot runs.

The copy is made with SQLite's online backup API in a single step: it reads one snapshot of the
database (a read transaction, which in WAL mode never blocks the bot's writers), so the copy
holds exactly what was committed when it started, whatever is written meanwhile. The copy is
written beside the target under a temporary name, checked with ``PRAGMA integrity_check``, turned
into a single self-contained file (rollback journal instead of WAL) and only then put in place;
an existing file is never overwritten. PostgreSQL has its own tools (``pg_dump``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

BUSY_TIMEOUT_S = 30.0


class BackupRefused(Exception):
    """The backup cannot be made as asked; the message is one line for the user."""


@dataclass(frozen=True)
class BackupResult:
    """What was copied where."""

    source: Path
    target: Path
    pages: int
    size: int


def sqlite_path(database_url: str) -> Path:
    """The file of an SQLite database URL, or ``BackupRefused`` for any other database."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise BackupRefused("the database URL cannot be read") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        raise BackupRefused(
            "the database is PostgreSQL: use its own tools, e.g. "
            "pg_dump --format=custom --file=dutybot.dump DBNAME"
        )
    if backend != "sqlite":
        raise BackupRefused(f"backup copies SQLite databases only, not {backend}")
    if not url.database or url.database == ":memory:":
        raise BackupRefused("the SQLite database is in memory: there is no file to copy")
    return Path(url.database)


def _copy(source: Path, temporary: Path) -> int:
    """Copy ``source`` into the new file ``temporary`` in one step; return the page count."""
    # mode=rw: never create the database when it is not there.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        dst = sqlite3.connect(temporary)
        try:
            src.backup(dst)  # pages=-1: the whole database from one snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            status = dst.execute("PRAGMA integrity_check").fetchone()
            if status is None or status[0] != "ok":
                raise BackupRefused(f"the copy failed its integrity check: {status}")
            pages: int = dst.execute("PRAGMA page_count").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    return pages


def backup_sqlite(database_url: str, target: Path) -> BackupResult:
    """Copy the SQLite database of ``database_url`` to ``target``, which must not exist."""
    source = sqlite_path(database_url)
    if target.exists():
        raise BackupRefused(f"{target} exists: choose a new file name")
    if not source.is_file():
        raise BackupRefused(f"{source}: no such database file")
    if not target.parent.is_dir():
        raise BackupRefused(f"{target.parent}: no such directory")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        pages = _copy(source, temporary)
        try:
            os.link(temporary, target)  # fails, rather than overwrites, if it appeared meanwhile
        except FileExistsError:
            raise BackupRefused(f"{target} exists: choose a new file name") from None
    except sqlite3.Error as error:
        raise BackupRefused(f"{source}: {error}") from None
    except OSError as error:
        raise BackupRefused(f"{target}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return BackupResult(source, target, pages, target.stat().st_size)
