""" "Send the reason": the exchange after Transfer-to-a-unit or Dismiss was pressed on a card.

A persistent ``ConversationHandler`` (name ``reason``), so a question asked before a restart is
still answered after it. The press is checked at once (a forged button gets its refusal, no
question); the flow checks again when the reason arrives. ``/cancel`` leaves the exchange.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callback_data
from bot.incidents import flows, messaging
from bot.parsing import clean_text, parse_number
from handlers.common.answer import Answer
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply

NAME = "reason"
WAITING = "waiting_for_reason"
MAX_REASON = 500


def _question(context: DutyContext) -> dict[str, Any] | None:
    data = context.user_data if context.user_data is not None else {}
    question = data.get(NAME)
    return question if isinstance(question, dict) else None


def _forget(context: DutyContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(NAME, None)
    context.persist_now = True


async def asked(update: Update, context: DutyContext) -> str | int:
    """Transfer to a unit, or Dismiss, was pressed: check the presser may, then ask why."""
    query = update.callback_query
    if query is None:
        return ConversationHandler.END
    tr, runtime = context.tr, context.runtime
    data = callback_data.decode(query.data)
    number = parse_number(data.args[0]) if data else None
    unit = data.args[1] if data is not None and data.action == "tru" else None
    if data is None or number is None or (unit is not None and unit not in runtime.roster.units):
        await answer_button(query, messaging.stale_button(tr), show_alert=True)
        return ConversationHandler.END
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        attempt = await flows.check_handle(session, actor_of(context), number)
        if not attempt.done:
            answer.say(session, messaging.refusal(tr, attempt, runtime.roster) or "")
    if not attempt.done:
        await answer.finish()
        _forget(context)
        return ConversationHandler.END
    action = "transfer" if unit is not None else "dismiss"
    if context.user_data is not None:
        context.user_data[NAME] = {"action": action, "incident": number, "unit": unit}
    context.persist_now = True
    answer_soon(context, query)
    await reply(update, context, messaging.ask_reason(tr, action, number))
    return WAITING


async def got_reason(update: Update, context: DutyContext) -> str | int:
    """The reason: transfer or dismiss now (the flow checks the sender may, again)."""
    message = update.effective_message
    text = clean_text(message.text or "").strip() if message else ""
    question = _question(context)
    tr, runtime = context.tr, context.runtime
    if question is None:
        return ConversationHandler.END
    if not text or len(text) > MAX_REASON:
        await reply(update, context, messaging.reason_too_long(tr, MAX_REASON))
        return WAITING
    _forget(context)
    number, unit = int(question["incident"]), question.get("unit")
    actor, answer = actor_of(context), Answer(update, context)
    async with runtime.database.transaction() as session:
        if question["action"] == "transfer" and isinstance(unit, str):
            if unit not in runtime.roster.units:
                answer.say(session, messaging.stale_button(tr))
            else:
                attempt = await flows.transfer(session, runtime, actor, number, unit, text)
                answer.say(session, messaging.transfer_answer(tr, attempt, runtime.roster))
        else:
            attempt = await flows.dismiss(session, runtime, actor, number, text)
            answer.say(session, messaging.dismiss_answer(tr, attempt, runtime.roster))
    await answer.finish()
    return ConversationHandler.END


async def cancel(update: Update, context: DutyContext) -> int:
    """``/cancel`` while the bot waits for a reason: nothing changes."""
    _forget(context)
    await reply(update, context, context.tr._("Cancelled."))
    return ConversationHandler.END


def conversation() -> ConversationHandler[Any]:
    """The reason exchange, persistent under the name ``reason``."""
    with warnings.catch_warnings():
        # Tracked per user and chat, not per message: a reason answers the last press.
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(asked, pattern=callback_data.pattern("tru", "dis"))],
            states={WAITING: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_reason)]},
            fallbacks=[CommandHandler("cancel", cancel)],
            name=NAME,
            persistent=True,
            allow_reentry=True,
        )
