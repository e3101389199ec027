"""The last line of defence: log the failure (never the token) and answer the user politely."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError

from handlers.common.buttons import answer_button
from handlers.common.context import DutyContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: DutyContext) -> None:
    """Log an exception raised while handling an update and tell the user something went wrong."""
    error = context.error
    if isinstance(error, NetworkError | Forbidden) and not isinstance(update, Update):
        log.warning("Telegram call failed: %s", error)
        return
    log.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update):
        return
    text = context.tr._(
        "Sorry, something went wrong on our side and your request was not "
        "completed. Please try again; if it keeps failing, call the duty office."
    )
    try:
        if update.callback_query is not None:
            await answer_button(update.callback_query, text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)
