"""The buttons on directive cards (SPEC §3.6): Receive (签收), Accept as done (办结), the
issuer's Approve / Refuse of an extension, and Press (催办) / Take over on an escalation card.
Transport only: decode, call the flow, answer (a toast)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data
from bot.directives import flows, messaging
from bot.parsing import parse_number
from handlers.common.answer import Answer
from handlers.common.context import DutyContext, actor_of


async def pressed(update: Update, context: DutyContext) -> None:
    """Any of the directive buttons."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    number = parse_number(data.args[0]) if data else None
    if data is None or number is None:  # pragma: no cover - the pattern lets only valid data in
        return
    tr, runtime, actor = context.tr, context.runtime, actor_of(context)
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        if data.action == "drc":
            attempt = await flows.receive(session, runtime, actor, number)
            text = messaging.receive_outcome(
                tr, runtime.settings, attempt.directive, attempt.done, attempt.refusal
            )
        elif data.action == "dac":
            attempt = await flows.accept(session, runtime, actor, number)
            text = (
                messaging.closed_answer(tr, attempt.directive)
                if attempt.done and attempt.directive is not None
                else _refusal(context, attempt)
            )
        elif data.action in ("dxa", "dxr"):
            approved = data.action == "dxa"
            attempt = await flows.decide_extension(session, runtime, actor, number, approved)
            text = (
                messaging.decided_answer(tr, attempt.directive, approved)
                if attempt.done and attempt.directive is not None
                else _refusal(context, attempt)
            )
        elif data.action == "dpr":
            attempt = await flows.press(session, runtime, actor, number)
            text = messaging.press_answer(tr, attempt.done, attempt.told)
        else:  # dtk
            attempt = await flows.take_over(session, runtime, actor, number)
            text = messaging.taken_over_answer(tr, attempt.done, attempt.directive)
        answer.say(session, text)
    await answer.finish()


def _refusal(context: DutyContext, attempt: flows.Attempt) -> str:
    tr, directive = context.tr, attempt.directive
    if directive is None:
        return messaging.no_directive(tr)
    if attempt.refusal == "refused":
        return messaging.refused(tr)
    return messaging.already_decided(tr, directive)


def handler() -> CallbackQueryHandler[DutyContext, None]:
    """The directive buttons but Send back and Instruct (those ask a question first)."""
    return CallbackQueryHandler(
        pressed, pattern=callback_data.pattern("drc", "dac", "dxa", "dxr", "dpr", "dtk")
    )
