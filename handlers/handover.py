"""The shift change (SPEC §3.7): ``/handover <notes>`` for the next shift, and **Take over duty**
(接班) under the handover card."""

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

MAX_NOTES = 1500


async def handover_command(update: Update, context: DutyContext) -> None:
    """``/handover <notes>``: notes the incoming officer reads on the handover card."""
    tr, runtime = context.tr, context.runtime
    text = " ".join(context.args or []).strip()[:MAX_NOTES]
    if not text:
        await reply(update, context, messaging.handover_usage(tr))
        return
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        saved = await flows.leave_note(session, runtime, actor_of(context), text)
        answer.say(session, messaging.note_saved(tr) if saved else messaging.not_on_duty(tr))
    await answer.finish()


async def take_over_button(update: Update, context: DutyContext) -> None:
    """Take over duty, once, by the incoming officer (or whoever holds the position now)."""
    query = update.callback_query
    if query is None:
        return
    tr, runtime = context.tr, context.runtime
    data = callback_data.decode(query.data)
    shift_id = parse_number(data.args[0]) if data else None
    if shift_id is None:
        await answer_button(query, tr._("This button is no longer valid."), show_alert=True)
        return
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        result = await flows.take_over(session, runtime, actor_of(context), shift_id)
        if result is False:
            text = messaging.not_yours(tr)
        else:
            text = messaging.taken_over(
                tr, runtime.roster, None if isinstance(result, bool) else result
            )
        answer.say(session, text)
    await answer.finish()


def take_over_handler() -> CallbackQueryHandler[DutyContext, None]:
    """The Take over duty button."""
    return CallbackQueryHandler(take_over_button, pattern=pattern("hto"))
