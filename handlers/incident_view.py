"""``/incident <#>`` (SPEC §3.5): an incident's full card, what is due, the reports filed and
the whole timeline — for whoever may see it."""

from __future__ import annotations

from telegram import Update

from bot.directives import messaging as directive_messaging
from bot.parsing import parse_number
from bot.supervision import flows, messaging
from handlers.common.context import DutyContext, actor_of
from handlers.common.forms import markup
from handlers.common.respond import reply


async def incident_command(update: Update, context: DutyContext) -> None:
    """``/incident <#>``: the card, what is due, reports filed, and the whole timeline."""
    runtime, tr = context.runtime, context.tr
    args = context.args or []
    number = parse_number(args[0]) if args else None
    if number is None:
        await reply(update, context, messaging.incident_usage(tr))
        return
    buttons = None
    async with runtime.database.sessions() as session:
        view = await flows.incident_view(session, runtime, actor_of(context), number)
    if view is flows.Unseen.MISSING:
        text = messaging.incident_missing(tr, number)
    elif view is flows.Unseen.HIDDEN:
        text = messaging.incident_hidden(tr, number)
    else:
        text = messaging.incident_card(
            tr, runtime, view.incident, view.deadlines, view.reports, view.events, view.directives
        )
        if view.may_instruct:
            buttons = markup(directive_messaging.instruct_button(tr, number))
    await reply(update, context, text, reply_markup=buttons)
