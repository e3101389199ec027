"""The gate every update passes before any feature handler (group -1, after identification):
edits never act, floods are slowed down, and data stays out of group chats.

Whatever the gate refuses is answered once, recorded as handled (so a re-delivery changes
nothing), and stops the update.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.access import PRIVATE_ONLY
from bot.delivery.outbox import enqueue
from bot.updates import key_of, record_processed_if_new
from handlers.common.context import DutyContext

REPORT_COMMANDS = frozenset({"report", "call"})


def command_of(update: Update) -> str | None:
    """The command a new message starts with (``/status@dutybot`` → ``status``), if any."""
    message = update.message
    text = message.text if message is not None and message.text else ""
    if not text.startswith("/"):
        return None
    return text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()


async def _refuse(update: Update, context: DutyContext, text: str | None) -> None:
    """Answer (when there is something to say), record the update as handled, and stop."""
    runtime = context.runtime
    chat = update.effective_chat
    async with runtime.database.transaction() as session:
        if text is not None and chat is not None:
            person = context.caller.person.id if context.caller else None
            enqueue(session, chat.id, text, person_id=person)
        await record_processed_if_new(session, key_of(update), runtime.now())
    raise ApplicationHandlerStop


async def guard(update: Update, context: DutyContext) -> None:
    """Edits never act; for a known caller, per-person rate limits, and private-only commands
    refused in groups."""
    edited = update.edited_message or update.edited_channel_post
    if edited is not None:
        # An edited ``/report`` must not make a second incident: say so in a private chat.
        private = edited.chat.type == ChatType.PRIVATE
        text = context.tr._("Edits are not applied: send a new message instead.")
        await _refuse(update, context, text if private else None)
    caller = context.caller
    if caller is None:
        return
    runtime, limits, now = context.runtime, context.runtime.settings.flood, context.runtime.now()
    who = caller.telegram_id
    if not runtime.flood.allow("update", who, limits.updates_per_minute, now):
        warn = runtime.flood.allow("warned", who, 1, now)
        await _refuse(
            update,
            context,
            context.tr._("You are sending faster than I can take; wait a minute and try again.")
            if warn
            else None,
        )
    command = command_of(update)
    if command in REPORT_COMMANDS and not runtime.flood.allow(
        "report", who, limits.reports_per_minute, now
    ):
        await _refuse(
            update,
            context,
            context.tr._(
                "That is more than {limit} reports in a minute; wait a minute. A real emergency: "
                "call the duty office."
            ).format(limit=limits.reports_per_minute),
        )
    chat = update.effective_chat
    if command in PRIVATE_ONLY and chat is not None and chat.type != ChatType.PRIVATE:
        await _refuse(update, context, context.tr._("Ask me in a private chat, please."))
