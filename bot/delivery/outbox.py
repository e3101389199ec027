"""The transactional outbox: messages are rows written with the change that causes them.

``enqueue`` and ``enqueue_edit`` add rows to the caller's session (so they commit or roll back
with the change); the sender claims due rows with a conditional update (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), sends them, and records the outcome here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from bot.db.models import OutboxMessage, table_of
from bot.db.statements import execute

MAX_TEXT = 4096
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
UNSENT = (PENDING, SENDING)  # queued, or claimed by a sender and not sent yet
SEND, PHOTO, EDIT = "sendMessage", "sendPhoto", "editMessageText"
DOCUMENT = "sendDocument"
MAX_CAPTION = 1024
MAX_DOCUMENT = 50 * 1024 * 1024  # Telegram's limit for a file a bot uploads

# Priorities: incident levels first, routine answers last.
LEVEL_PRIORITY = {"I": 0, "II": 1, "sensitive": 1, "III": 2, "IV": 3, "unassessed": 3}
ROUTINE = 5


def utcnow() -> datetime:
    """Delivery runs on real time: Telegram's limits and retry_after are wall-clock facts."""
    return datetime.now(UTC)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split text into chunks of at most ``limit`` characters, on line boundaries where possible."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single overlong line is cut hard
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def enqueue(
    session: AsyncSession,
    chat_id: int,
    text: str,
    *,
    person_id: str | None = None,
    priority: int = ROUTINE,
    reply_markup: dict[str, Any] | None = None,
) -> list[OutboxMessage]:
    """Queue a message (split into several under 4096 characters; buttons go on the last)."""
    now = utcnow()
    chunks = split_text(text)
    rows = [
        OutboxMessage(
            chat_id=chat_id,
            person_id=person_id,
            method=SEND,
            priority=priority,
            text=chunk,
            reply_markup=reply_markup if i == len(chunks) - 1 else None,
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for i, chunk in enumerate(chunks)
    ]
    session.add_all(rows)
    return rows


def enqueue_photo(
    session: AsyncSession,
    chat_id: int,
    photo: str | bytes,
    caption: str = "",
    *,
    person_id: str | None = None,
    priority: int = ROUTINE,
) -> OutboxMessage:
    """Queue a photo (a Telegram file id, or PNG bytes to upload) with a caption of at most
    1024 characters."""
    now = utcnow()
    if len(caption) > MAX_CAPTION:
        caption = caption[: MAX_CAPTION - 1] + "…"
    row = OutboxMessage(
        chat_id=chat_id,
        person_id=person_id,
        method=PHOTO,
        priority=priority,
        text=caption,
        photo=photo if isinstance(photo, str) else None,
        photo_data=photo if isinstance(photo, bytes) else None,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


class DocumentTooLarge(ValueError):
    """The file is over Telegram's 50 MB limit for bots."""


def enqueue_document(
    session: AsyncSession,
    chat_id: int,
    data: bytes | str,
    filename: str,
    caption: str = "",
    *,
    person_id: str | None = None,
    priority: int = ROUTINE,
) -> OutboxMessage:
    """Queue a file (``sendDocument``): bytes to upload under ``filename``, or a Telegram file
    id to send again; with a caption of at most 1024 characters. Refuses bytes over Telegram's
    50 MB limit (``DocumentTooLarge``)."""
    if len(data) > MAX_DOCUMENT:
        raise DocumentTooLarge(f"{filename} is {len(data)} bytes, over Telegram's 50 MB limit")
    now = utcnow()
    if len(caption) > MAX_CAPTION:
        caption = caption[: MAX_CAPTION - 1] + "…"
    row = OutboxMessage(
        chat_id=chat_id,
        person_id=person_id,
        method=DOCUMENT,
        priority=priority,
        text=caption,
        photo=data if isinstance(data, str) else None,
        photo_data=data if isinstance(data, bytes) else None,
        filename=filename,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


def enqueue_edit(
    session: AsyncSession,
    chat_id: int,
    text: str,
    *,
    message_id: int | None = None,
    edit_of: OutboxMessage | int | None = None,
    priority: int = ROUTINE,
    reply_markup: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Queue an edit of a message: one sent through the outbox (``edit_of``) or by its id."""
    if (message_id is None) == (edit_of is None):
        raise ValueError("give exactly one of message_id and edit_of")
    now = utcnow()
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    row = OutboxMessage(
        chat_id=chat_id,
        method=EDIT,
        priority=priority,
        text=text,
        reply_markup=reply_markup,
        edit_message_id=message_id,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    if isinstance(edit_of, OutboxMessage):
        row.edit_of = edit_of.id
    else:
        row.edit_of = edit_of
    session.add(row)
    return row


@dataclass(frozen=True)
class Claimed:
    """A claimed row, detached from its session, with what the sender needs."""

    id: int
    chat_id: int
    person_id: str | None
    method: str
    priority: int
    text: str
    reply_markup: dict[str, Any] | None
    edit_message_id: int | None
    photo: str | bytes | None
    attempts: int
    created_at: datetime
    filename: str | None = None  # a document's name (``sendDocument``; its bytes in ``photo``)


async def release_expired_claims(session: AsyncSession, now: datetime) -> int:
    """Rows claimed by a sender that died (or hung) go back to the queue."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == SENDING, OutboxMessage.claimed_until < now)
        .values(state=PENDING, claimed_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _order_conditions() -> tuple[Any, Any]:
    """(another undelivered row of the chat comes first, the message edited is undelivered)."""
    other = aliased(OutboxMessage)
    original = aliased(OutboxMessage)
    ahead = exists().where(
        other.chat_id == OutboxMessage.chat_id,
        other.state.in_(UNSENT),
        or_(
            other.priority < OutboxMessage.priority,
            and_(other.priority == OutboxMessage.priority, other.id < OutboxMessage.id),
        ),
    )
    original_unsent = exists().where(
        original.id == OutboxMessage.edit_of, original.state.in_(UNSENT)
    )
    return ahead, original_unsent


def _due_heads_query(lock: bool) -> Select[Any]:
    """Built once per flavour: composing a statement costs more than running it."""
    ahead, original_unsent = _order_conditions()
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.state == PENDING,
            OutboxMessage.next_attempt_at <= bindparam("now"),
            ~ahead,
            ~original_unsent,
        )
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(bindparam("limit"))
    )
    if lock:
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    return query


_DUE_HEADS = {lock: _due_heads_query(lock) for lock in (False, True)}


async def due_heads(
    session: AsyncSession, now: datetime, limit: int, *, lock: bool
) -> Sequence[OutboxMessage]:
    """The next row of each chat that is due now, highest priority first.

    A chat's next row is its highest-priority, oldest undelivered one: an urgent alert overtakes
    routine messages queued for the same person, while messages of equal priority (the parts of
    a long text, a series of answers) keep their order across retries. An edit waits for the
    message it edits. With ``lock`` (PostgreSQL) the rows are locked and rows that another
    sender holds are skipped.
    """
    result = await session.scalars(_DUE_HEADS[lock], {"now": now, "limit": limit})
    return list(result.all())


async def claim(
    session: AsyncSession, rows: Iterable[OutboxMessage], now: datetime, lease: timedelta
) -> list[Claimed]:
    """Claim rows (pending → sending) with a conditional update; return those this caller won."""
    claimed: list[Claimed] = []
    for row in rows:
        result = await session.execute(
            update(OutboxMessage)
            .where(and_(OutboxMessage.id == row.id, OutboxMessage.state == PENDING))
            .values(state=SENDING, claimed_until=now + lease, attempts=OutboxMessage.attempts + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue
        message_id = row.edit_message_id
        if row.method == EDIT and message_id is None and row.edit_of is not None:
            message_id = await session.scalar(
                select(OutboxMessage.telegram_message_id).where(OutboxMessage.id == row.edit_of)
            )
        claimed.append(
            Claimed(
                id=row.id,
                chat_id=row.chat_id,
                person_id=row.person_id,
                method=row.method,
                priority=row.priority,
                text=row.text,
                reply_markup=row.reply_markup,
                edit_message_id=message_id,
                photo=row.photo if row.photo is not None else row.photo_data,
                attempts=row.attempts + 1,
                created_at=row.created_at,
                filename=row.filename,
            )
        )
    return claimed


_AHEAD, _ORIGINAL_UNSENT = _order_conditions()
_CLAIM_AT_BIRTH = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id.in_(bindparam("ids", expanding=True)),
        OutboxMessage.state == PENDING,
        ~_AHEAD,
        ~_ORIGINAL_UNSENT,
    )
    .values(state=SENDING, claimed_until=bindparam("until"), attempts=OutboxMessage.attempts + 1)
    .returning(
        OutboxMessage.id,
        OutboxMessage.chat_id,
        OutboxMessage.person_id,
        OutboxMessage.method,
        OutboxMessage.priority,
        OutboxMessage.text,
        OutboxMessage.reply_markup,
        OutboxMessage.edit_message_id,
        OutboxMessage.photo,
        OutboxMessage.photo_data,
        OutboxMessage.attempts,
        OutboxMessage.created_at,
        OutboxMessage.filename,
    )
)


def claim_at_birth(
    session: Session, ids: Sequence[int], now: datetime, lease: timedelta
) -> list[Claimed]:
    """In the transaction that queued the rows ``ids`` (flushed, not committed), claim those
    that are their chat's next message (as ``due_heads`` would find them after the commit);
    the sender gets them after the commit without reading them back. Synchronous: called from
    the session's ``before_commit``."""
    if not ids:
        return []
    # on the session's connection: a Core statement, not the ORM's bulk update path
    result = session.connection().execute(_CLAIM_AT_BIRTH, {"ids": list(ids), "until": now + lease})
    return [
        Claimed(
            id=row.id,
            chat_id=row.chat_id,
            person_id=row.person_id,
            method=row.method,
            priority=row.priority,
            text=row.text,
            reply_markup=row.reply_markup,
            edit_message_id=row.edit_message_id,
            photo=row.photo if row.photo is not None else row.photo_data,
            attempts=row.attempts,
            created_at=row.created_at,
            filename=row.filename,
        )
        for row in result
    ]


_OUTBOX = table_of(OutboxMessage)
_THE_ROW = _OUTBOX.c.id == bindparam("row_id")
# Core statements, built once (``bot.db.statements``): one of them follows every send
_MARK_SENT = (
    update(_OUTBOX)
    .where(_THE_ROW)
    .values(
        state=SENT,
        sent_at=bindparam("now", type_=_OUTBOX.c.sent_at.type),
        telegram_message_id=bindparam("telegram_message_id"),
        claimed_until=None,
        last_error=None,
    )
)
_MARK_RETRY = (
    update(_OUTBOX)
    .where(_THE_ROW)
    .values(
        state=PENDING,
        next_attempt_at=bindparam("at", type_=_OUTBOX.c.next_attempt_at.type),
        claimed_until=None,
        last_error=bindparam("error"),
    )
)
_MARK_FAILED = (
    update(_OUTBOX)
    .where(_THE_ROW)
    .values(state=FAILED, claimed_until=None, last_error=bindparam("error"))
)


async def mark_sent(
    session: AsyncSession, row_id: int, telegram_message_id: int | None, now: datetime
) -> None:
    """Telegram accepted the message."""
    await execute(
        session,
        _MARK_SENT,
        {"row_id": row_id, "telegram_message_id": telegram_message_id, "now": now},
    )


async def mark_retry(session: AsyncSession, row_id: int, at: datetime, error: str) -> None:
    """Try again at ``at``."""
    await execute(session, _MARK_RETRY, {"row_id": row_id, "at": at, "error": error[:500]})


async def mark_failed(session: AsyncSession, row_id: int, error: str) -> None:
    """Telegram refused the message for good (blocked, never started, malformed)."""
    await execute(session, _MARK_FAILED, {"row_id": row_id, "error": error[:500]})


# a chat's backlog: urgent (above routine) new messages not sent yet; ``backlog`` asks the table
# with this and counts the transaction's own unflushed rows with ``_in_backlog``, alike
_BACKLOG = (
    select(OutboxMessage.chat_id, func.count())
    .where(
        OutboxMessage.chat_id.in_(bindparam("chats", expanding=True)),
        OutboxMessage.state.in_(UNSENT),
        OutboxMessage.method == SEND,
        OutboxMessage.priority < ROUTINE,
    )
    .group_by(OutboxMessage.chat_id)
)


async def backlog(session: AsyncSession, chat_ids: Sequence[int]) -> dict[int, int]:
    """How many urgent messages (above routine: alerts, escalations) wait unsent in each chat:
    a chat far behind gets a digest instead of one more card."""
    if not chat_ids:
        return {}
    # asked on the session's connection, without flushing what the transaction has pending
    # (one flush at the commit, not one here too): its own unflushed messages are counted from
    # the session instead
    connection = await session.connection()
    result = await connection.execute(_BACKLOG, {"chats": list(chat_ids)})
    waiting = {chat: int(count) for chat, count in result.all()}
    for row in session.new:
        if isinstance(row, OutboxMessage) and row.chat_id in chat_ids and _in_backlog(row):
            waiting[row.chat_id] = waiting.get(row.chat_id, 0) + 1
    return waiting


def _in_backlog(row: OutboxMessage) -> bool:
    """``_BACKLOG``'s condition for a row not in the table yet."""
    return row.state in UNSENT and row.method == SEND and row.priority < ROUTINE


async def rewrite_pending(session: AsyncSession, row_id: int, text: str, priority: int) -> bool:
    """Change a message that is still waiting (a digest that grows); ``False`` once a sender
    has claimed or sent it."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.state == PENDING)
        .values(text=text[:MAX_TEXT], priority=priority)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
