"""Answering through the outbox: every message the bot sends is a row committed with its cause.

``reply`` is for answers that change nothing else; ``reply_in`` adds the answer to the caller's
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
    """Queue an answer in its own transaction and wake the sender."""
    async with context.runtime.database.transaction() as session:
        reply_in(session, update, context, text, reply_markup=reply_markup)
    context.runtime.outbox_committed()


def edit_in(
    session: AsyncSession,
    update: Update,
    context: DutyContext,
    text: str,
    *,
    reply_markup: Markup | None = None,
) -> None:
    """Queue, inside ``session``, an edit of the message whose button was pressed."""
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
    if not context.update_recorded:
        record_processed(session, key_of(update), context.runtime.now())
        context.update_recorded = True
