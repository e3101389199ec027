"""Answering a button press: best effort, never an error for an action that already stands."""

from __future__ import annotations

import logging
from typing import Any

from telegram import CallbackQuery
from telegram.error import TelegramError
from telegram.ext import CallbackContext

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


def answer_soon(context: CallbackContext[Any, Any, Any, Any], query: CallbackQuery) -> None:
    """Answer a press without waiting for Telegram's reply: a bare answer only stops the
    button's spinner, so the work the press asks for (filing a report, signing it off) need
    not wait a round trip for it. The Application keeps the task and awaits it at shutdown."""
    context.application.create_task(answer_button(query), name="dutybot-answer-button")
