"""The exchanges that ask one question after a press (SPEC §3.6): Send back (the new time limit
and the reason) on a completed directive, and Instruct (批示, the instruction) on an incident.

A persistent ``ConversationHandler`` (name ``directive_reply``): a question asked before a
restart is still answered after it. The press is checked at once; the flow checks again when
the answer arrives. ``/cancel`` leaves the exchange.
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
from bot.access import Action, may
from bot.directives import flows, messaging
from bot.directives.service import parse_limit, split_limit
from bot.levels import MAX_DIRECTIVE_FEEDBACK, MAX_DIRECTIVE_TEXT
from bot.parsing import parse_number
from handlers.common.answer import Answer
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.forms import answers, forget, typed
from handlers.common.respond import reply

NAME = "directive_reply"
WAITING = "waiting"


async def asked(update: Update, context: DutyContext) -> str | int:
    """Send back or Instruct was pressed: check the presser may, then ask."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    number = parse_number(data.args[0]) if data else None
    if query is None or data is None or number is None:  # pragma: no cover - the pattern
        return ConversationHandler.END
    tr, runtime, actor = context.tr, context.runtime, actor_of(context)
    if data.action == "dsb":
        async with runtime.database.sessions() as session:
            attempt = await flows.check_review(session, actor, number)
        if not attempt.done or attempt.directive is None:
            await answer_button(query, _refusal(context, attempt), show_alert=True)
            return ConversationHandler.END
        question = messaging.ask_send_back(tr, attempt.directive)
    else:
        if not may(actor, Action.DIRECT):
            await answer_button(query, messaging.instruct_refused(tr, number), show_alert=True)
            return ConversationHandler.END
        question = messaging.ask_instruction(tr, number)
    forget(context, NAME)
    answers(context, NAME).update({"action": data.action, "number": number})
    answer_soon(context, query)
    await reply(update, context, question)
    return WAITING


def _refusal(context: DutyContext, attempt: flows.Attempt) -> str:
    if attempt.directive is None:
        return messaging.no_directive(context.tr)
    if attempt.refusal == "refused":
        return messaging.refused(context.tr)
    return messaging.already_decided(context.tr, attempt.directive)


async def got_answer(update: Update, context: DutyContext) -> str | int:
    """The answer: send back, or instruct (the flow checks the sender may, again)."""
    question = dict(answers(context, NAME))
    tr, runtime, text = context.tr, context.runtime, typed(update)
    if question.get("action") not in ("dsb", "ins"):
        forget(context, NAME)
        return ConversationHandler.END
    number = int(question["number"])
    if question["action"] == "ins":
        if not text or len(text) > MAX_DIRECTIVE_TEXT:
            await reply(update, context, messaging.instruct_usage(tr))
            return WAITING
        forget(context, NAME)
        answer = Answer(update, context)
        async with runtime.database.transaction() as session:
            attempt = await flows.instruct(session, runtime, actor_of(context), number, text)
            answer.say(
                session,
                messaging.issued_answer(tr, runtime.roster, attempt.directive, attempt.told)
                if attempt.directive is not None
                else messaging.instruct_refused(tr, number),
            )
        await answer.finish()
        return ConversationHandler.END
    limit, reason = split_limit(text)
    due = parse_limit(limit, runtime.now(), runtime.settings.timezone)
    if due is None or not reason or len(reason) > MAX_DIRECTIVE_FEEDBACK:
        await reply(update, context, messaging.send_back_usage(tr))
        return WAITING
    forget(context, NAME)
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        attempt = await flows.send_back(session, runtime, actor_of(context), number, due, reason)
        answer.say(
            session,
            messaging.sent_back_answer(tr, runtime.settings.timezone, attempt.directive)
            if attempt.done and attempt.directive is not None
            else _refusal(context, attempt),
        )
    await answer.finish()
    return ConversationHandler.END


async def cancel(update: Update, context: DutyContext) -> int:
    """``/cancel`` while the bot waits: nothing changes."""
    forget(context, NAME)
    await reply(update, context, context.tr._("Cancelled."))
    return ConversationHandler.END


def conversation() -> ConversationHandler[Any]:
    """The Send back / Instruct exchange, persistent under the name ``directive_reply``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(asked, pattern=callback_data.pattern("dsb", "ins"))],
            states={WAITING: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_answer)]},
            fallbacks=[CommandHandler("cancel", cancel)],
            name=NAME,
            persistent=True,
            allow_reentry=True,
        )
