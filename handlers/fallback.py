"""Answers for what no other handler took: unknown commands, stray text, stale buttons."""

from __future__ import annotations

from telegram import Update

from handlers.common.buttons import answer_button
from handlers.common.context import DutyContext
from handlers.common.respond import reply


async def unknown_command(update: Update, context: DutyContext) -> None:
    """A command the bot does not have."""
    if update.effective_message is not None:
        await reply(
            update,
            context,
            context.tr._("I do not know that command. Send /help to see what you can do."),
        )


async def stray_text(update: Update, context: DutyContext) -> None:
    """A private message that is not a command and not part of a form or an exchange: a hint."""
    if update.effective_message is not None:
        await reply(
            update,
            context,
            context.tr._("I only understand commands. Send /help to see what you can do."),
        )


async def stale_button(update: Update, context: DutyContext) -> None:
    """A press on a button no handler recognises: forged, or from an older version of the bot."""
    if update.callback_query is not None:
        await answer_button(
            update.callback_query, context.tr._("This button is no longer valid."), show_alert=True
        )
