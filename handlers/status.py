"""``/status`` (SPEC §3.5): the open incidents in my scope, by level, with colours, one page
per message; "Next page" carries where the last page ended (keyset), so each press reads and
renders one page only."""

from __future__ import annotations

from functools import partial

from telegram import InlineKeyboardMarkup, Update

from bot import callback_data
from bot.supervision import flows, messaging
from bot.supervision.service import StatusKey
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply
from handlers.common.scope_directives import directives_part


async def _send_page(
    update: Update, context: DutyContext, page: int, after: StatusKey | None
) -> None:
    runtime, tr = context.runtime, context.tr
    fits = partial(messaging.status_fit, tr, runtime, first=after is None)
    async with runtime.database.sessions() as session:
        shown = await flows.status_page(
            session, runtime, actor_of(context), page=page, after=after, fits=fits
        )
    if shown is None:
        await reply(update, context, messaging.watch_refusal(tr))
        return
    text, markup = messaging.status_text(
        tr, runtime, shown.rows, shown.counts, shown.page, shown.next_key
    )
    keyboard = InlineKeyboardMarkup.de_json(markup, context.bot) if markup else None
    await reply(update, context, text, reply_markup=keyboard)
    if after is None:
        await directives_part(update, context, overdue=False)


async def status(update: Update, context: DutyContext) -> None:
    """``/status``: what is open in my scope, by level, with colours."""
    await _send_page(update, context, 1, None)


async def status_button(update: Update, context: DutyContext) -> None:
    """The next page of ``/status`` (the scope is asked again: it may have changed)."""
    query = update.callback_query
    if query is None:
        return
    data = callback_data.decode(query.data)
    key = messaging.parse_status_key(data.args[0]) if data else None
    if key is None:
        await answer_button(query, context.tr._("This button is no longer valid."), show_alert=True)
        return
    answer_soon(context, query)
    await _send_page(update, context, *key)
