"""Sign-off of official reports (SPEC §3.4): **Approve** files the report; **Send back** asks the
leader for the reason (a persistent conversation: the question survives a restart) and returns
the report to its author. The flow ``decide`` checks the signer at the moment of the decision.
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
from bot.i18n import Translator
from bot.parsing import clean_text, parse_number
from bot.reports import flows, messaging
from bot.reports.flows import Decision
from handlers.common.answer import Answer
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply

CONVERSATION = "signoff"
REASON = "reason"
PENDING_REPORT = "signoff_report"  # user_data: the report the reason is asked for
MAX_REASON = 1500


def _report_id(update: Update) -> int | None:
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    return parse_number(data.args[0]) if data else None


def _answer(tr: Translator, decision: Decision, *, approve: bool) -> str:
    if not decision.done or decision.incident is None or decision.report is None:
        refusals = {
            "own_report": messaging.own_report,
            "not_a_signer": messaging.not_a_signer,
        }
        return refusals.get(decision.answer, messaging.not_waiting)(tr)
    if approve:
        report = decision.report
        return messaging.approved_answer(tr, report.kind, report.number, decision.incident.id)
    return messaging.sent_back_answer(tr)


async def _decide(
    update: Update, context: DutyContext, report_id: int, *, approve: bool, reason: str = ""
) -> Decision:
    runtime, answer = context.runtime, Answer(update, context)
    async with runtime.database.transaction() as session:
        decision = await flows.decide(
            session, runtime, actor_of(context), report_id, approve=approve, reason=reason
        )
        answer.say(session, _answer(context.tr, decision, approve=approve))
    await answer.finish()
    return decision


async def approve(update: Update, context: DutyContext) -> None:
    """Approve: the report counts and goes upward."""
    report_id = _report_id(update)
    if report_id is None:  # pragma: no cover - the codec's pattern lets only valid data in
        return
    await _decide(update, context, report_id, approve=True)


async def send_back(update: Update, context: DutyContext) -> str | int:
    """Send back: ask for the reason (the decision is made when it arrives)."""
    query = update.callback_query
    report_id = _report_id(update)
    if query is None or report_id is None:  # pragma: no cover - see approve
        return ConversationHandler.END
    runtime = context.runtime
    async with runtime.database.sessions() as session:
        allowed = await flows.may_decide(session, actor_of(context), report_id)
    if not allowed.done:
        await answer_button(query, _answer(context.tr, allowed, approve=False), show_alert=True)
        return ConversationHandler.END
    answer_soon(context, query)
    if context.user_data is not None:
        context.user_data[PENDING_REPORT] = report_id
        context.persist_now = True
    await reply(update, context, messaging.ask_send_back_reason(context.tr))
    return REASON


def _forget(context: DutyContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(PENDING_REPORT, None)
    context.persist_now = True


async def got_reason(update: Update, context: DutyContext) -> str | int:
    """The reason: the report goes back to its author (if the leader still may)."""
    message = update.effective_message
    text = clean_text(message.text or "") if message else ""
    if not text.strip() or len(text) > MAX_REASON:
        await reply(update, context, messaging.reason_too_long(context.tr, MAX_REASON))
        return REASON
    report_id = int((context.user_data or {}).get(PENDING_REPORT, 0))
    _forget(context)
    await _decide(update, context, report_id, approve=False, reason=text.strip())
    return ConversationHandler.END


async def cancel(update: Update, context: DutyContext) -> int:
    """``/cancel`` instead of a reason: nothing is sent back."""
    _forget(context)
    await reply(update, context, messaging.send_back_cancelled(context.tr))
    return ConversationHandler.END


def conversation() -> ConversationHandler[Any]:
    """Send back → the reason, persistent under the name ``signoff``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(send_back, pattern=callback_data.pattern("sbk"))],
            states={REASON: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_reason)]},
            fallbacks=[CommandHandler("cancel", cancel)],
            name=CONVERSATION,
            persistent=True,
            allow_reentry=True,
        )


def approve_handler() -> CallbackQueryHandler[Any, Any]:
    """The Approve button."""
    return CallbackQueryHandler(approve, pattern=callback_data.pattern("apr"))
