"""Small tables kept in memory: what a few rarely written tables say, read once and reused by
every transaction, per database.

What is kept is read again after any transaction of this process that wrote to one of its tables
ends (a statement or a flush that touched them marks the transaction), and at least every
``FRESH_FOR`` seconds (a write by another process). A transaction that wrote to them reads them
from the database until it ends, so that it sees its own writes. A read begun before a write
ended is used once but not kept.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from bot.db.models import Base

FRESH_FOR = 30.0
T = TypeVar("T")


class Remembered(Generic[T]):
    """What ``read`` makes of ``models``' tables, kept in memory per database."""

    def __init__(
        self,
        name: str,
        models: Iterable[type[Base]],
        read: Callable[[AsyncSession], Awaitable[T]],
        *,
        fresh_for: float = FRESH_FOR,
    ) -> None:
        self.models = tuple(models)
        self.tables = frozenset(model.__tablename__ for model in self.models)
        self.read = read
        self.fresh_for = fresh_for
        self.wrote = f"dutybot.remembered.{name}.wrote"
        self.generation = 0  # moves on every write that ended: a read begun before is not kept
        self._kept: weakref.WeakKeyDictionary[Engine, tuple[T, float]] = weakref.WeakKeyDictionary()
        _ALL.append(self)

    def forget(self) -> None:
        """Read the tables again at the next use, in every database."""
        self.generation += 1
        self._kept.clear()

    async def get(self, session: AsyncSession) -> T:
        """What the tables say: from memory when fresh, else read in ``session``."""
        if session.sync_session.info.get(self.wrote):
            return await self.read(session)  # this transaction's own writes are not committed
        engine = _engine(session.sync_session)
        kept = self._kept.get(engine) if engine is not None else None
        if kept is not None and time.monotonic() - kept[1] < self.fresh_for:
            return kept[0]
        generation, started = self.generation, time.monotonic()
        fresh = await self.read(session)
        if engine is not None and generation == self.generation:
            self._kept[engine] = (fresh, started)
        return fresh


_ALL: list[Remembered[Any]] = []


def _engine(session: Session) -> Engine | None:
    bind = session.bind
    return bind if isinstance(bind, Engine) else None


def note_write(session: Session, statement: Any) -> None:
    """``statement`` (an insert, update or delete) runs in ``session``'s transaction: if it
    writes a remembered table, the transaction reads that table afresh and it is read again
    after the transaction ends."""
    name = getattr(getattr(statement, "table", None), "name", None)
    for remembered in _ALL:
        if name in remembered.tables:
            session.info[remembered.wrote] = True


@event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        note_write(state.session, state.statement)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    for remembered in _ALL:
        if any(isinstance(row, remembered.models) for row in changed):
            session.info[remembered.wrote] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    for remembered in _ALL:
        if session.info.pop(remembered.wrote, False):
            remembered.forget()  # committed or not: read again
