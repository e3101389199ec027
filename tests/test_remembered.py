"""Small tables kept in memory (``bot.db.remembered``): kept until this process writes to them,
read fresh by the writing transaction itself, kept per database, and never kept from a read
that a write overtook."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.db.models import ProcessedUpdate
from bot.db.remembered import Remembered
from tests.conftest import START


class Counted:
    """How many processed updates the table holds, and how often it was read."""

    def __init__(self) -> None:
        self.reads = 0

    async def __call__(self, session: AsyncSession) -> int:
        self.reads += 1
        return int(await session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0)


def processed(update_id: int) -> ProcessedUpdate:
    """A row to write to the remembered table."""
    return ProcessedUpdate(update_id=update_id, processed_at=START)


async def test_kept_until_this_process_writes_and_the_writer_reads_its_own_rows(
    database: Database,
) -> None:
    read = Counted()
    remembered = Remembered("test-kept", (ProcessedUpdate,), read)
    async with database.transaction() as session:
        assert await remembered.get(session) == 0
    async with database.transaction() as session:
        assert await remembered.get(session) == 0
    assert read.reads == 1  # the second transaction used what the first read
    async with database.transaction() as session:
        session.add(processed(1))
        await session.flush()
        assert await remembered.get(session) == 1  # its own write, not the kept 0
        assert await remembered.get(session) == 1
        assert read.reads == 3  # read each time until the transaction ends
    async with database.transaction() as session:
        assert await remembered.get(session) == 1  # read again after the write
        assert await remembered.get(session) == 1
    assert read.reads == 4


async def test_a_write_rolled_back_is_read_again_too(database: Database) -> None:
    read = Counted()
    remembered = Remembered("test-rollback", (ProcessedUpdate,), read)
    async with database.sessions() as session:
        assert await remembered.get(session) == 0
        session.add(processed(1))
        await session.flush()
        await session.rollback()
    async with database.transaction() as session:
        assert await remembered.get(session) == 0
    assert read.reads == 2


async def test_kept_per_database(database: Database, tmp_path: Path) -> None:
    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await upgrade(other)
    try:
        async with other.transaction() as session:
            session.add(processed(1))
        read = Counted()
        remembered = Remembered("test-per-database", (ProcessedUpdate,), read)
        async with database.transaction() as session:
            assert await remembered.get(session) == 0
        async with other.transaction() as session:
            assert await remembered.get(session) == 1  # not the other database's 0
        async with database.transaction() as session:
            assert await remembered.get(session) == 0
        assert read.reads == 2
    finally:
        await other.close()


async def test_read_again_when_stale(database: Database) -> None:
    read = Counted()
    remembered = Remembered("test-stale", (ProcessedUpdate,), read, fresh_for=0.0)
    for _ in range(3):
        async with database.transaction() as session:
            await remembered.get(session)
    assert read.reads == 3


async def test_a_read_overtaken_by_a_write_is_used_once_not_kept(database: Database) -> None:
    remembered: Remembered[int]

    async def overtaken(session: AsyncSession) -> int:
        counted = await read(session)
        if read.reads == 1:
            remembered.forget()  # a write ended while this read was under way
        return counted

    read = Counted()
    remembered = Remembered("test-overtaken", (ProcessedUpdate,), overtaken)
    async with database.transaction() as session:
        assert await remembered.get(session) == 0
    async with database.transaction() as session:
        assert await remembered.get(session) == 0
        assert await remembered.get(session) == 0
    assert read.reads == 2  # the first read was not kept; the second was
