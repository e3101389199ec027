"""``/directive``: with a number, one directive and its whole history; alone, the guided form
that issues one (SPEC §3.6). Transport only: the questions are
``bot.directives.form_messaging``'s, the directive is issued by the flow.

The form is a persistent ``ConversationHandler`` (a half-filled form survives a restart); its
answers live in ``user_data["directive"]``. ``/cancel`` leaves at any step.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callback_data
from bot.directives import flows, form_messaging, listing, messaging
from bot.directives.service import parse_code
from handlers.common.context import DutyContext, actor_of, require_caller
from handlers.common.forms import answers, forget, markup
from handlers.common.respond import reply
from handlers.directive_form.steps import (
    ASSISTING,
    CONFIRM,
    FORM,
    LEAD,
    TEXT,
    URGENCY,
    cancel,
    confirmed,
    directable,
    got_assisting,
    got_lead,
    got_text,
    got_urgency,
)


async def start(update: Update, context: DutyContext) -> str | int:
    """``/directive D#`` shows one; ``/directive`` opens the form for those who may issue."""
    require_caller(context)
    tr, runtime = context.tr, context.runtime
    args = context.args or []
    if args:
        await show(update, context, args[0])
        return ConversationHandler.END
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        await reply(update, context, form_messaging.form_in_group(tr))
        return ConversationHandler.END
    units = directable(context)
    if not units:
        await reply(update, context, form_messaging.no_units(tr))
        return ConversationHandler.END
    forget(context, FORM)
    answers(context, FORM)
    text, buttons = form_messaging.ask_lead(tr, runtime.roster, units)
    await reply(update, context, text, reply_markup=markup(buttons))
    return LEAD


async def show(update: Update, context: DutyContext, code: str) -> None:
    """One directive with its whole history, or the same answer for unknown and hidden."""
    tr, runtime = context.tr, context.runtime
    number = parse_code(code)
    view = None
    if number is not None:
        async with runtime.database.sessions() as session:
            view = await flows.view(session, actor_of(context), number)
    if view is None:
        await reply(update, context, messaging.no_directive(tr))
        return
    directive, history = view
    text = listing.directive_view(
        tr, runtime.settings, runtime.roster, directive, history, runtime.now()
    )
    await reply(update, context, text)


def conversation() -> ConversationHandler[Any]:
    """The ``/directive`` conversation, persistent under the name ``directive``."""
    choice = callback_data.pattern("dru")
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[Any]] = {
        LEAD: [CallbackQueryHandler(got_lead, pattern=choice)],
        ASSISTING: [CallbackQueryHandler(got_assisting, pattern=choice)],
        URGENCY: [
            CallbackQueryHandler(got_urgency, pattern=choice),
            MessageHandler(text, got_urgency),
        ],
        TEXT: [MessageHandler(text | filters.PHOTO | filters.Document.ALL, got_text)],
        CONFIRM: [CallbackQueryHandler(confirmed, pattern=choice)],
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        return ConversationHandler(
            entry_points=[CommandHandler("directive", start)],
            states=states,
            fallbacks=[CommandHandler("cancel", cancel)],
            name=FORM,
            persistent=True,
            allow_reentry=True,
        )
