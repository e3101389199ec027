"""The inbox table: store a batch of raw updates, list what is still to handle, mark handled."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db.engine import Database
from bot.db.models import InboxUpdate
from bot.updates import HANDLED, UpdateKey, handled_among, key_parameters

KEEP_DONE = timedelta(days=2)  # longer than Telegram keeps an unconfirmed update (24 h)


def utcnow() -> datetime:
    """Intake runs on real time (Telegram's clock, not the deadline clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Received:
    """One update as Telegram sent it, with the chat whose order it keeps."""

    update_id: int
    chat_id: int | None
    # the raw JSON as Telegram sent it; ``None`` when only ``parsed`` is at hand (a polled
    # update): it is serialised only if it is stored (``raw``), not on every update's path
    payload: dict[str, Any] | None
    message_id: int | None = None  # a new message's id (with ``chat_id``, its identity)
    # stored just now and found never handled, in the storing transaction: the handler need
    # not ask again (``bot.updates``); rows read back from the table are never fresh
    fresh: bool = False
    # its update id is new to every process (a settled poll's, ``Dispatcher.take``): for a
    # message, only the same message under another update id could make it a repeat
    new_id: bool = False
    # the update as this process parsed it on arrival (python-telegram-bot's ``Update``), so
    # that handling it need not parse ``payload`` again; ``None`` for rows read back
    parsed: Any = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> UpdateKey:
        """The update's identity for exactly-once handling."""
        if self.message_id is None:
            return UpdateKey(self.update_id, None, None)
        return UpdateKey(self.update_id, self.chat_id, self.message_id)

    @property
    def raw(self) -> dict[str, Any]:
        """The update's JSON, for the inbox row: as received, or serialised from ``parsed``."""
        if self.payload is not None:
            return self.payload
        if self.parsed is None:
            raise ValueError(f"update {self.update_id} has neither its JSON nor its parsed form")
        raw: dict[str, Any] = self.parsed.to_dict()
        return raw


def _store_one(insert: Any) -> Any:
    """Store one update and say in the same statement whether it was handled before: no row
    back if it was stored already, else its id and ``handled``."""
    return (
        insert(InboxUpdate)
        .values(
            update_id=bindparam("update_id"),
            chat_id=bindparam("keeps_order_of"),  # ``chat_id`` is the message's, if any
            payload=bindparam("payload", type_=InboxUpdate.payload.type),
            received_at=bindparam("received_at", type_=InboxUpdate.received_at.type),
            done_at=None,
        )
        .on_conflict_do_nothing()
        .returning(InboxUpdate.update_id, exists().where(HANDLED).label("handled"))
    )


_STORE_ONE = {True: _store_one(pg_insert), False: _store_one(sqlite_insert)}


async def store(database: Database, batch: Sequence[Received]) -> list[Received]:
    """Insert a batch in one transaction; an update already stored is left as it is. Returns
    the batch, each marked ``fresh`` when it was stored just now and was never handled."""
    if not batch:
        return []
    now = utcnow()
    if len(batch) == 1:  # the usual batch: one static statement
        [item] = batch
        parameters = {
            **key_parameters(item.key),
            "keeps_order_of": item.chat_id,
            "payload": item.raw,
            "received_at": now,
        }
        # a Core connection, not a session: nothing here needs the ORM's unit of work
        async with database.engine.begin() as connection:
            result = await connection.execute(_STORE_ONE[database.is_postgresql], parameters)
            row = result.first()
        return [replace(item, fresh=row is not None and not row.handled)]
    insert = pg_insert if database.is_postgresql else sqlite_insert
    rows = [
        {
            "update_id": item.update_id,
            "chat_id": item.chat_id,
            "payload": item.raw,
            "received_at": now,
            "done_at": None,
        }
        for item in batch
    ]
    statement = (
        insert(InboxUpdate).values(rows).on_conflict_do_nothing().returning(InboxUpdate.update_id)
    )
    async with database.transaction() as session:
        stored = set(await session.scalars(statement))
        handled = await handled_among(session, [i.key for i in batch if i.update_id in stored])
    return [replace(i, fresh=i.update_id in stored and i.update_id not in handled) for i in batch]


async def pending(database: Database, skip: set[int], limit: int) -> list[Received]:
    """The oldest updates not handled yet (but those in ``skip``, already being handled)."""
    query = (
        select(InboxUpdate.update_id, InboxUpdate.chat_id, InboxUpdate.payload)
        .where(InboxUpdate.done_at.is_(None))
        .order_by(InboxUpdate.update_id)
        .limit(limit + len(skip))
    )
    async with database.sessions() as session:
        rows = (await session.execute(query)).all()
    found = [Received(r.update_id, r.chat_id, r.payload) for r in rows if r.update_id not in skip]
    return found[:limit]


async def mark_done(database: Database, update_ids: Collection[int]) -> None:
    """Record that updates were handled (their effects are committed already)."""
    async with database.transaction() as session:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(list(update_ids)))
            .values(done_at=utcnow())
        )


async def prune(database: Database, now: datetime | None = None, *, at_most: int = 1000) -> int:
    """Forget handled updates older than ``KEEP_DONE``, ``at_most`` of them (one short
    transaction: the first prune after an upgrade may find months of them); return how many."""
    before = (now or utcnow()) - KEEP_DONE
    oldest = (
        select(InboxUpdate.update_id)
        .where(InboxUpdate.done_at.is_not(None), InboxUpdate.done_at < before)
        .order_by(InboxUpdate.update_id)
        .limit(at_most)
    )
    async with database.transaction() as session:
        result = await session.execute(
            delete(InboxUpdate).where(InboxUpdate.update_id.in_(oldest.scalar_subquery()))
        )
    return int(getattr(result, "rowcount", 0) or 0)
