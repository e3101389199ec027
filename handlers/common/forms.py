"""What every guided form shares: its answers kept in ``user_data`` (persisted with the update
that gave them), the domain's plain-dict buttons as python-telegram-bot markup, and reading a
pressed button or a typed answer."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, Update

from bot import callback_data
from bot.parsing import clean_text
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext
from handlers.common.respond import Markup


def answers(context: DutyContext, form: str) -> dict[str, Any]:
    """The answers given so far to ``form`` (created empty), marked to be saved."""
    data: dict[str, Any] = context.user_data if context.user_data is not None else {}
    found: dict[str, Any] = data.setdefault(form, {})
    context.persist_now = True
    return found


def forget(context: DutyContext, form: str) -> None:
    """Drop ``form``'s answers (sent, cancelled or started again)."""
    if context.user_data is not None:
        context.user_data.pop(form, None)
    context.persist_now = True


def markup(data: dict[str, Any]) -> Markup:
    """The domain's plain-dict markup as python-telegram-bot wants it."""
    if "keyboard" in data:
        return ReplyKeyboardMarkup.de_json(data, None)
    return InlineKeyboardMarkup.de_json(data, None)


async def pressed(
    update: Update, context: DutyContext, action: str, stale: str | None = None
) -> str | None:
    """The argument of a pressed button of ``action`` (the press is answered), or ``None`` for
    a message or a button that is not valid here (answered with ``stale`` when given)."""
    query = update.callback_query
    if query is None:
        return None
    data = callback_data.decode(query.data)
    if data is None or data.action != action:
        await answer_button(query, stale, show_alert=stale is not None)
        return None
    answer_soon(context, query)
    return data.args[0] if data.args else ""


def typed(update: Update) -> str:
    """The text of the message, cleaned of controls and direction overrides, stripped."""
    message = update.effective_message
    return clean_text(message.text).strip() if message is not None and message.text else ""
