"""Answering through the outbox: every message the bot sends is a row committed with its cause.

``reply`` is for answers that change nothing else: the answer is committed at the end of the
update together with its record and the form state it changed (``record_update``), so a form
step and its answer are saved at once or not at all. ``reply_in`` adds the answer to the caller's
own transaction, together with the update's identity, so a change and its answer happen once.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from bot.delivery.outbox import ROUTINE, enqueue, enqueue_edit
from bot.updates import key_of, record_processed
from handlers.common.context import DutyContext

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def _markup(markup: Markup | None) -> dict[str, object] | None:
    return markup.to_dict() if markup is not None else None


def _write_deferred(session: AsyncSession, context: DutyContext) -> None:
    """Answers queued earlier in this update go first (order per chat is kept)."""
    deferred, context.deferred = context.deferred, []
    for write in deferred:
        write(session)


def reply_in(
    session: AsyncSession,
    update: Update,
    context: DutyContext,
    text: str,
    *,
    reply_markup: Markup | None = None,
    priority: int = ROUTINE,
) -> None:
    """Queue an answer to the update's chat inside ``session`` and record the update as handled."""
    _write_deferred(session, context)
    chat = update.effective_chat
    if chat is None:
        return
    person = context.caller.person.id if context.caller else None
    enqueue(
        session,
        chat.id,
        text,
        person_id=person,
        priority=priority,
        reply_markup=_markup(reply_markup),
    )
    if not context.update_recorded:
        record_processed(session, key_of(update), context.runtime.now())
        context.update_recorded = True


async def reply(
    update: Update,
    context: DutyContext,
    text: str,
    *,
    reply_markup: Markup | None = None,
) -> None:
    """Queue an answer, committed when the update is recorded (with the form's state)."""
    context.deferred.append(
        lambda session: reply_in(session, update, context, text, reply_markup=reply_markup)
    )


def edit_in(
    session: AsyncSession,
    update: Update,
    context: DutyContext,
    text: str,
    *,
    reply_markup: Markup | None = None,
) -> None:
    """Queue, inside ``session``, an edit of the message whose button was pressed."""
    _write_deferred(session, context)
    query = update.callback_query
    message = query.message if query is not None else None
    if message is None:
        return
    enqueue_edit(
        session,
        message.chat.id,
        text,
        message_id=message.message_id,
        reply_markup=_markup(reply_markup),
    )
    if not context.update_recorded:
        record_processed(session, key_of(update), context.runtime.now())
        context.update_recorded = True


def record_in(session: AsyncSession, update: Update, context: DutyContext) -> None:
    """Record the update as handled inside ``session`` (for changes answered by a button toast)."""
    _write_deferred(session, context)
    if not context.update_recorded:
        record_processed(session, key_of(update), context.runtime.now())
        context.update_recorded = True
