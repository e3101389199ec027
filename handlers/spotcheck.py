"""Spot checks (查岗, SPEC §3.7): ``/spotcheck <unit>`` (a supervisor), and the answer: **I'm
here** under the check, or ``/here``."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data
from bot.callback_data import pattern
from bot.duty import flows, messaging
from bot.parsing import parse_number
from handlers.common.answer import Answer
from handlers.common.buttons import answer_button
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply


async def spotcheck_command(update: Update, context: DutyContext) -> None:
    """``/spotcheck <unit>``: ask the unit's officer on duty to answer now."""
    tr, runtime = context.tr, context.runtime
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, messaging.spotcheck_usage(tr))
        return
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        check = await flows.spot_check(session, runtime, actor_of(context), args[0])
        text = (
            messaging.spot_check_asked(tr, runtime.roster, check)
            if check is not None
            else messaging.spotcheck_refusal(tr, args[0])
        )
        answer.say(session, text)
    await answer.finish()


async def _here(update: Update, context: DutyContext, check_id: int | None) -> None:
    tr, runtime = context.tr, context.runtime
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        answered = await flows.here(session, runtime, actor_of(context), check_id)
        answer.say(session, messaging.spot_check_answered(tr, runtime.roster, answered))
    await answer.finish()


async def here_command(update: Update, context: DutyContext) -> None:
    """``/here``: answer every spot check waiting for me."""
    await _here(update, context, None)


async def here_button(update: Update, context: DutyContext) -> None:
    """I'm here under one spot check."""
    query = update.callback_query
    if query is None:
        return
    data = callback_data.decode(query.data)
    check_id = parse_number(data.args[0]) if data else None
    if check_id is None:
        await answer_button(query, context.tr._("This button is no longer valid."), show_alert=True)
        return
    await _here(update, context, check_id)


def here_handler() -> CallbackQueryHandler[DutyContext, None]:
    """The I'm here button."""
    return CallbackQueryHandler(here_button, pattern=pattern("here"))
