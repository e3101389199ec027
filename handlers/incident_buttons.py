"""The buttons of an alert or escalation card (SPEC §3.2): Accept, Transfer (which unit?),
Merge into, and Take over. Transfer-to-a-unit and Dismiss ask for a reason: that exchange is
``handlers.reasons``.

Button data is only a request: the flow checks, at the press, that the presser may act.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data
from bot.incidents import flows, messaging
from bot.incidents.service import Attempt
from bot.parsing import parse_number
from handlers.common.answer import Answer
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply

ACTIONS = ("acc", "trf", "mrg", "tko")


async def button(update: Update, context: DutyContext) -> None:
    """Accept, Transfer (choose a unit), Merge, Take over."""
    query = update.callback_query
    if query is None:
        return
    data = callback_data.decode(query.data)
    numbers = [parse_number(arg) for arg in data.args] if data else []
    if data is None or not numbers or None in numbers:
        await answer_button(query, messaging.stale_button(context.tr), show_alert=True)
        return
    number = numbers[0] or 0
    if data.action == "trf":
        await _choose_unit(update, context, number)
        return
    tr, runtime, actor = context.tr, context.runtime, actor_of(context)
    roster, answer = runtime.roster, Answer(update, context)
    async with runtime.database.transaction() as session:
        if data.action == "acc":
            attempt = await flows.accept(session, runtime, actor, number)
            text = messaging.accept_answer(tr, attempt, roster, runtime.settings)
        elif data.action == "tko":
            attempt = await flows.take_over(session, runtime, actor, number)
            text = messaging.take_over_answer(tr, attempt, roster)
        else:
            into = numbers[1] or 0
            attempt = await flows.merge(session, runtime, actor, number, into)
            text = messaging.merge_answer(tr, attempt, roster, into)
        answer.say(session, text)
    await answer.finish()


async def _choose_unit(update: Update, context: DutyContext, number: int) -> None:
    """Offer the other units as buttons, if the presser may transfer the incident."""
    runtime, tr = context.runtime, context.tr
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        attempt: Attempt = await flows.check_handle(session, actor_of(context), number)
        if not attempt.done or attempt.incident is None:
            answer.say(session, messaging.refusal(tr, attempt, runtime.roster) or "")
    if not attempt.done or attempt.incident is None:
        await answer.finish()
        return
    markup = messaging.transfer_buttons(runtime.roster, attempt.incident)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(**b) for b in row] for row in markup["inline_keyboard"]]
    )
    if update.callback_query is not None:
        answer_soon(context, update.callback_query)
    await reply(update, context, messaging.transfer_choice(tr, number), reply_markup=keyboard)


def handler() -> CallbackQueryHandler[DutyContext, None]:
    """The card buttons, routed through the button codec."""
    return CallbackQueryHandler(button, pattern=callback_data.pattern(*ACTIONS))
