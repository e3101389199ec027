"""Received (签收) under a report delivered upward, and ``/follow`` / ``/unfollow <unit>``
(SPEC §3.4). Transport only: parse, call the reports flow, answer."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data
from bot.parsing import parse_number
from bot.reports import flows, messaging
from handlers.common.answer import Answer
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply


async def received(update: Update, context: DutyContext) -> None:
    """The Received button."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    report_id = parse_number(data.args[0]) if data else None
    if report_id is None:  # pragma: no cover - the codec's pattern lets only valid data in
        return
    runtime, answer = context.runtime, Answer(update, context)
    async with runtime.database.transaction() as session:
        done = await flows.receive(session, runtime, actor_of(context), report_id)
        answer.say(session, messaging.received_answer(context.tr, done))
    await answer.finish()


def handler() -> CallbackQueryHandler[Any, Any]:
    """The Received button of an upward report."""
    return CallbackQueryHandler(received, pattern=callback_data.pattern("rcv"))


async def follow_command(update: Update, context: DutyContext) -> None:
    """``/follow <unit>`` and ``/unfollow <unit>``."""
    tr, runtime = context.tr, context.runtime
    message = update.effective_message
    command = (message.text or "/").split()[0].lstrip("/").split("@")[0] if message else ""
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, messaging.follow_usage(tr, command))
        return
    unit = args[0]
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        done = await flows.follow(session, runtime, actor_of(context), unit, command == "follow")
        name = runtime.roster.units[unit].name if unit in runtime.roster.units else unit[:64]
        answer.say(session, messaging.follow_answer(tr, done, command == "follow", name))
    await answer.finish()
