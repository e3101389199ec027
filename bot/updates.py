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
from enum import Enum

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, tuple_
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


class Known(Enum):
    """What the inbox knows of an update it hands over, so that the gate asks less of the
    database."""

    # stored just now and found never handled, in that transaction: nothing to ask
    UNHANDLED = "unhandled"
    # its update id is new to every process (a settled poll's): for a message, only its chat and
    # message id can make it a repeat (``SeenMessages``)
    NEW_ID = "new_id"


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


_HIGHEST = select(func.max(ProcessedUpdate.message_id)).where(
    ProcessedUpdate.chat_id == bindparam("chat_id")
)


class SeenMessages:
    """Which new messages can be told new without asking the database: per chat, the highest
    message id already handled, or let through to be handled, by this process.

    Telegram numbers a chat's messages in increasing order, so a message whose update id is new
    to every process (``new_id``: a settled poll's, see ``bot.inbox.dispatch``) and whose
    message id is above its chat's highest was never handled: only the same message coming
    back under a new update id could make it a repeat, and that one is not above. The highest
    is read from the database the first time a chat is asked about, and raised by every message
    of the chat let through (``passed``) — before its handling commits: a higher mark only sends
    more messages to the database's answer. Everything else (a message at or under its chat's
    mark, an update read back from the inbox, a retry) is asked of the database, as
    ``handled_before``. Only the process that handles updates may keep marks: they are
    forgotten whenever it takes up or gives up the duties (another process may have handled
    messages meanwhile).
    """

    def __init__(self) -> None:
        self._highest: dict[int, int] = {}

    def forget(self) -> None:
        """Ask the database again about every chat."""
        self._highest.clear()

    async def handled_before(self, database: Database, key: UpdateKey, *, new_id: bool) -> bool:
        """Whether the update (or the same message under another update id) was handled."""
        chat_id, message_id = key.chat_id, key.message_id
        if new_id and chat_id is not None and message_id is not None:
            highest = self._highest.get(chat_id)
            if highest is None:
                async with database.engine.connect() as connection:
                    found = await connection.scalar(_HIGHEST, {"chat_id": chat_id})
                highest = self._highest[chat_id] = found if found is not None else 0
            if message_id > highest:
                return False
        return await handled_before(database, key)

    def passed(self, key: UpdateKey) -> None:
        """The update goes on to be handled: its message id, if above its chat's mark, is the
        new mark (a chat not asked about yet stays unknown)."""
        chat_id, message_id = key.chat_id, key.message_id
        if chat_id is None or message_id is None:
            return
        highest = self._highest.get(chat_id)
        if highest is not None and message_id > highest:
            self._highest[chat_id] = message_id


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
