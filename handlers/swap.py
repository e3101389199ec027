"""Swaps (换班/代班, SPEC §3.7): ``/swap <date> <person>``; the colleague accepts or refuses and
the leader on duty approves or refuses, by button."""

from __future__ import annotations

from datetime import date

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


async def swap_command(update: Update, context: DutyContext) -> None:
    """``/swap <YYYY-MM-DD> <person-id>``."""
    tr, runtime = context.tr, context.runtime
    args = context.args or []
    try:
        day = date.fromisoformat(args[0]) if len(args) == 2 else None
    except ValueError:
        day = None
    if day is None:
        await reply(update, context, messaging.swap_usage(tr))
        return
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        asked = await flows.ask_swap(session, runtime, actor_of(context), day, args[1])
        tz = runtime.settings.timezone
        if asked.swap is not None:
            text = messaging.swap_requested(tr, runtime.roster, tz, asked.swap)
        elif asked.refusal == "no_shift":
            text = messaging.swap_no_shift(tr)
        elif asked.refusal == "bad_colleague":
            text = messaging.swap_bad_colleague(tr)
        else:
            text = messaging.not_on_duty(tr)
        answer.say(session, text)
    await answer.finish()


async def swap_button(update: Update, context: DutyContext) -> None:
    """Accept / Refuse (the colleague, ``swc``) and Approve / Refuse (the leader, ``swl``)."""
    query = update.callback_query
    if query is None:
        return
    tr, runtime = context.tr, context.runtime
    data = callback_data.decode(query.data)
    swap_id = parse_number(data.args[0]) if data else None
    if data is None or swap_id is None or data.args[1] not in ("y", "n"):
        await answer_button(query, tr._("This button is no longer valid."), show_alert=True)
        return
    yes = data.args[1] == "y"
    flow = flows.colleague_answers if data.action == "swc" else flows.leader_answers
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        result = await flow(session, runtime, actor_of(context), swap_id, yes)
        text = (
            messaging.not_yours(tr)
            if result is False
            else messaging.swap_answered(tr, None if isinstance(result, bool) else result)
        )
        answer.say(session, text)
    await answer.finish()


def swap_handler() -> CallbackQueryHandler[DutyContext, None]:
    """The swap buttons."""
    return CallbackQueryHandler(swap_button, pattern=pattern("swc", "swl"))
