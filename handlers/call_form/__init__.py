"""``/call``: phone intake (来电登记, SPEC §3.1) — the guided form an officer fills in for a
caller outside the roster. Transport only: the texts are ``bot.incidents.call_messaging``'s and
``messaging``'s, the incident is stored (and accepted by the officer) by ``flows.log_call``.

A persistent ``ConversationHandler`` (name ``call``): the answers live in ``user_data["call"]``
and survive a restart; ``/cancel`` leaves at any step.
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
from bot.access import Action, may
from bot.incidents import call_messaging as calls
from handlers.call_form.steps import (
    CASUALTIES,
    CATEGORY,
    CONFIRM,
    DESCRIPTION,
    FORM,
    LEVEL,
    LOCATION,
    NAME,
    OCCURRED,
    ORG,
    PHONE,
    RECEIVED,
    cancel,
    confirmed,
    got_casualties,
    got_category,
    got_description,
    got_level,
    got_location,
    got_name,
    got_occurred,
    got_org,
    got_phone,
    got_received,
)
from handlers.common.context import DutyContext, actor_of, require_caller
from handlers.common.forms import answers, forget
from handlers.common.respond import reply


async def start(update: Update, context: DutyContext) -> str | int:
    """``/call``: open the form (duty officers and leaders, in a private chat)."""
    require_caller(context)
    tr = context.tr
    if not may(actor_of(context), Action.CALL):
        await reply(update, context, calls.not_for_you(tr))
        return ConversationHandler.END
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        await reply(update, context, calls.call_in_group(tr))
        return ConversationHandler.END
    forget(context, FORM)
    answers(context, FORM)
    await reply(update, context, calls.call_opened(tr))
    return NAME


def conversation() -> ConversationHandler[Any]:
    """The ``/call`` conversation, persistent under the name ``call``."""
    text = filters.TEXT & ~filters.COMMAND
    choice = callback_data.pattern("cf")
    states: dict[object, list[Any]] = {
        NAME: [MessageHandler(text, got_name)],
        ORG: [MessageHandler(text, got_org), CallbackQueryHandler(got_org, pattern=choice)],
        PHONE: [MessageHandler(text, got_phone), CallbackQueryHandler(got_phone, pattern=choice)],
        RECEIVED: [
            MessageHandler(text, got_received),
            CallbackQueryHandler(got_received, pattern=choice),
        ],
        OCCURRED: [
            MessageHandler(text, got_occurred),
            CallbackQueryHandler(got_occurred, pattern=choice),
        ],
        CATEGORY: [CallbackQueryHandler(got_category, pattern=callback_data.pattern("rc"))],
        LEVEL: [CallbackQueryHandler(got_level, pattern=callback_data.pattern("rl"))],
        LOCATION: [MessageHandler(text, got_location)],
        DESCRIPTION: [MessageHandler(text, got_description)],
        CASUALTIES: [
            MessageHandler(text, got_casualties),
            CallbackQueryHandler(got_casualties, pattern=choice),
        ],
        CONFIRM: [CallbackQueryHandler(confirmed, pattern=choice)],
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        return ConversationHandler(
            entry_points=[CommandHandler("call", start)],
            states=states,
            fallbacks=[CommandHandler("cancel", cancel)],
            name=FORM,
            persistent=True,
            allow_reentry=True,
        )
