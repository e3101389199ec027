"""``/overdue`` and ``/bulletin [day|week|month] [date]`` (SPEC §3.5): what is late in my scope
(in pages), and the periodic bulletin with its chart (drawn off the event loop, outside any
transaction)."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardMarkup, Update

from bot import callback_data
from bot.delivery.outbox import enqueue_photo
from bot.supervision import flows, messaging, periods
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply, reply_in
from handlers.common.scope_directives import directives_part


async def _overdue_page(update: Update, context: DutyContext, page: int, after: int | None) -> None:
    runtime, tr = context.runtime, context.tr
    async with runtime.database.sessions() as session:
        shown = await flows.overdue_page(
            session, runtime, actor_of(context), page=page, after=after
        )
    if shown is None:
        await reply(update, context, messaging.watch_refusal(tr))
        return
    text, markup = messaging.overdue_text(
        tr, runtime, shown.rows, shown.count, shown.page, shown.next_after
    )
    keyboard = InlineKeyboardMarkup.de_json(markup, context.bot) if markup else None
    await reply(update, context, text, reply_markup=keyboard)
    if after is None:
        await directives_part(update, context, overdue=True)


async def overdue_command(update: Update, context: DutyContext) -> None:
    """``/overdue``: every late or overdue deadline in my scope, worst first, in pages."""
    await _overdue_page(update, context, 1, None)


async def overdue_button(update: Update, context: DutyContext) -> None:
    """The next page of ``/overdue``."""
    query = update.callback_query
    if query is None:
        return
    data = callback_data.decode(query.data)
    key = messaging.parse_overdue_key(data.args[0]) if data else None
    if key is None:
        await answer_button(query, context.tr._("This button is no longer valid."), show_alert=True)
        return
    answer_soon(context, query)
    await _overdue_page(update, context, *key)


async def bulletin_command(update: Update, context: DutyContext) -> None:
    """``/bulletin [day|week|month] [date]``: the bulletin for my scope, with its chart."""
    runtime, tr = context.runtime, context.tr
    settings = runtime.settings
    today = periods.duty_date(runtime.now(), settings.bulletin_daily_at, settings.timezone)
    asked = periods.parse_period(context.args or [], today)
    if asked is None:
        await reply(update, context, messaging.bulletin_usage(tr))
        return
    kind, day = asked
    chat = update.effective_chat
    if chat is None:
        return
    async with runtime.database.sessions() as session:
        post = await flows.bulletin(session, runtime, actor_of(context), kind, tr, day)
    if post is None:
        await reply(update, context, messaging.watch_refusal(tr))
        return
    # matplotlib takes a while: draw in a worker thread, holding no transaction
    chart = await asyncio.to_thread(messaging.bulletin_chart, tr, runtime, post.figures)
    async with runtime.database.transaction() as session:
        reply_in(session, update, context, post.text)
        enqueue_photo(session, chat.id, chart, messaging.bulletin_caption(tr))
