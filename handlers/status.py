"""``/status`` (SPEC §3.5): the open incidents in my scope, by level, with colours, in pages
under Telegram's limit with a Next page button."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot import callback_data
from bot.parsing import parse_number
from bot.supervision import flows, messaging
from handlers.common.buttons import answer_button
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply


async def _send_page(update: Update, context: DutyContext, page: int) -> None:
    runtime, tr = context.runtime, context.tr
    async with runtime.database.sessions() as session:
        rows = await flows.watched(session, runtime, actor_of(context))
    if rows is None:
        await reply(update, context, messaging.watch_refusal(tr))
        return
    text, markup = messaging.status_page(tr, messaging.status_pages(tr, runtime, rows), page)
    keyboard = InlineKeyboardMarkup.de_json(markup, context.bot) if markup else None
    await reply(update, context, text, reply_markup=keyboard)


async def status(update: Update, context: DutyContext) -> None:
    """``/status``: what is open in my scope, by level, with colours."""
    await _send_page(update, context, 1)


async def status_button(update: Update, context: DutyContext) -> None:
    """The next page of ``/status`` (the scope is asked again: it may have changed)."""
    query = update.callback_query
    if query is None:
        return
    data = callback_data.decode(query.data)
    page = parse_number(data.args[0]) if data else None
    if page is None:
        await answer_button(query, context.tr._("This button is no longer valid."), show_alert=True)
        return
    await answer_button(query)
    await _send_page(update, context, page)
