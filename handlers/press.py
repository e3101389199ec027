"""Press (催办) on an escalation card (SPEC §3.3): the upper rung urges the people responsible
below; responsibility stays with them. Transport only: decode, call the flow, answer."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data
from bot.escalation import flows, messaging
from bot.parsing import parse_number
from handlers.common.answer import Answer
from handlers.common.context import DutyContext, actor_of


async def press(update: Update, context: DutyContext) -> None:
    """The Press button."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    number = parse_number(data.args[0]) if data else None
    if number is None:  # pragma: no cover - the codec's pattern lets only valid data in
        return
    runtime, answer = context.runtime, Answer(update, context)
    async with runtime.database.transaction() as session:
        done, told = await flows.press(session, runtime, actor_of(context), number)
        answer.say(session, messaging.press_answer(context.tr, done, told))
    await answer.finish()


def handler() -> CallbackQueryHandler[Any, Any]:
    """The Press button of an escalation card."""
    return CallbackQueryHandler(press, pattern=callback_data.pattern("prs"))
