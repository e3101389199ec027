"""Approve / Refuse on an officer's request to dismiss, lower a level or mark a drill (SPEC
§3.2): the leader on duty decides. Transport only: decode, call the flow, answer."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data
from bot.incidents import flows, messaging
from bot.parsing import parse_number
from handlers.common.answer import Answer
from handlers.common.context import DutyContext, actor_of


async def decide(update: Update, context: DutyContext) -> None:
    """Approve (``cha``) or Refuse (``chr``)."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    request_id = parse_number(data.args[0]) if data else None
    if data is None or request_id is None:  # pragma: no cover - the pattern lets only valid in
        return
    approve = data.action == "cha"
    runtime, answer = context.runtime, Answer(update, context)
    async with runtime.database.transaction() as session:
        done, _ = await flows.decide_change(
            session, runtime, actor_of(context), request_id, approve
        )
        answer.say(session, messaging.change_decision_answer(context.tr, done, approve))
    await answer.finish()


def handler() -> CallbackQueryHandler[Any, Any]:
    """The Approve / Refuse buttons of a request."""
    return CallbackQueryHandler(decide, pattern=callback_data.pattern("cha", "chr"))
