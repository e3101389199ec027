"""``/overdue`` and ``/bulletin [day|week|month] [date]`` (SPEC §3.5): what is late in my scope, and the
periodic bulletin with its chart."""

from __future__ import annotations

from telegram import Update

from bot.delivery.outbox import enqueue_photo
from bot.supervision import flows, messaging, periods
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply, reply_in


async def overdue_command(update: Update, context: DutyContext) -> None:
    """``/overdue``: every late or overdue deadline in my scope, worst first."""
    runtime, tr = context.runtime, context.tr
    async with runtime.database.sessions() as session:
        rows = await flows.overdue(session, runtime, actor_of(context))
    if rows is None:
        await reply(update, context, messaging.watch_refusal(tr))
        return
    await reply(update, context, messaging.overdue_text(tr, runtime, rows))


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
    async with runtime.database.transaction() as session:
        post = await flows.bulletin(session, runtime, actor_of(context), kind, tr, day)
        if post is None:
            reply_in(session, update, context, messaging.watch_refusal(tr))
        else:
            reply_in(session, update, context, post.text)
            enqueue_photo(session, chat.id, post.chart, messaging.bulletin_caption(tr))
    runtime.outbox_committed()
