"""Answering a button press: best effort, never an error for an action that already stands."""

from __future__ import annotations

import logging

from telegram import CallbackQuery
from telegram.error import TelegramError

log = logging.getLogger(__name__)


async def answer_button(
    query: CallbackQuery, text: str | None = None, *, show_alert: bool = False
) -> bool:
    """Answer a button press; a failure is logged as one warning line. Tell whether it went."""
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramError as error:
        log.warning(
            "could not answer a button press (%s: %s); its action stands",
            type(error).__name__,
            error,
        )
        return False
    return True
