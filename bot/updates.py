"""Exactly-once intake: a Telegram update's identity is recorded with its effects.

An update is identified by its ``update_id`` and, for new messages, by chat and message id (the
same message can come back under a new update id after a webhook or polling hiccup). A handler
that changes something records the update in the same transaction as the change; the
identification gate drops any update already recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.db.appends import append
from bot.db.engine import Database
from bot.db.models import ProcessedUpdate


@dataclass(frozen=True)
class UpdateKey:
    """What makes two updates the same."""

    update_id: int
    chat_id: int | None
    message_id: int | None


def key_of(update: Update) -> UpdateKey:
    """The identity of an update; only brand-new messages carry a chat and message id."""
    message = update.message
    if message is not None:
        return UpdateKey(update.update_id, message.chat_id, message.message_id)
    return UpdateKey(update.update_id, None, None)


# One static condition (composing statements per update costs more than running them), on the
# parameters update_id, chat_id and message_id; for updates without a message the chat/message
# comparison is NULL, that is, false.
HANDLED = or_(
    ProcessedUpdate.update_id == bindparam("update_id"),
    and_(
        ProcessedUpdate.chat_id == bindparam("chat_id"),
        ProcessedUpdate.message_id == bindparam("message_id"),
    ),
)
_SEEN = select(ProcessedUpdate.update_id).where(HANDLED).limit(1)


def key_parameters(key: UpdateKey) -> dict[str, int | None]:
    """The parameters of ``HANDLED`` for ``key``."""
    return {"update_id": key.update_id, "chat_id": key.chat_id, "message_id": key.message_id}


async def already_processed(session: AsyncSession, key: UpdateKey) -> bool:
    """Tell whether this update (or the same message under another update id) was handled."""
    found = await session.scalar(_SEEN, key_parameters(key))
    return found is not None


async def handled_before(database: Database, key: UpdateKey) -> bool:
    """``already_processed``, asked outside any transaction on a plain connection (the gate's
    question, before the handler's own transaction): no ORM session to set up and close."""
    async with database.engine.connect() as connection:
        return await connection.scalar(_SEEN, key_parameters(key)) is not None


async def handled_among(session: AsyncSession, keys: Sequence[UpdateKey]) -> set[int]:
    """The update ids among ``keys`` already handled (by id, or as the same message), in one
    query: the inbox asks it for a batch while storing it."""
    if not keys:
        return set()
    if len(keys) == 1:  # the usual batch: the static statement, compiled once
        [key] = keys
        return {key.update_id} if await already_processed(session, key) else set()
    seen: ColumnElement[bool] = ProcessedUpdate.update_id.in_([key.update_id for key in keys])
    messages = [(k.chat_id, k.message_id) for k in keys if k.message_id is not None]
    if messages:
        seen = or_(seen, tuple_(ProcessedUpdate.chat_id, ProcessedUpdate.message_id).in_(messages))
    rows = (
        await session.execute(
            select(
                ProcessedUpdate.update_id, ProcessedUpdate.chat_id, ProcessedUpdate.message_id
            ).where(seen)
        )
    ).all()
    ids = {row.update_id for row in rows}
    pairs = {(row.chat_id, row.message_id) for row in rows}
    return {
        key.update_id
        for key in keys
        if key.update_id in ids
        or (key.message_id is not None and (key.chat_id, key.message_id) in pairs)
    }


def record_processed(session: AsyncSession, key: UpdateKey, at: datetime) -> None:
    """Record the update in the caller's transaction; a concurrent duplicate makes it fail (at
    the latest at its commit: the row is appended, ``bot.db.appends``, not flushed by the ORM)."""
    append(
        session,
        ProcessedUpdate,
        {
            "update_id": key.update_id,
            "chat_id": key.chat_id,
            "message_id": key.message_id,
            "processed_at": at,
        },
    )


async def record_processed_if_new(session: AsyncSession, key: UpdateKey, at: datetime) -> None:
    """Record the update unless it already is (for updates whose handlers changed nothing)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(ProcessedUpdate)
        .values(
            update_id=key.update_id, chat_id=key.chat_id, message_id=key.message_id, processed_at=at
        )
        .on_conflict_do_nothing()
    )
