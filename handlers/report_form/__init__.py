"""``/report``: the quick one-message report and the guided form (SPEC §3.1), as transport:
the texts and buttons are ``bot.incidents.messaging``'s, the report is stored by the flow.

The form is a python-telegram-bot ``ConversationHandler`` kept in the database (persistent, so a
half-filled form survives a restart); its answers live in ``user_data["report"]``. Every step
can be answered by button where it can, and ``/cancel`` leaves at any step.
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
from bot.incidents import messaging
from bot.incidents.service import MAX_DESCRIPTION, Draft
from bot.parsing import clean_text
from bot.settings import CATEGORIES
from handlers.common.context import DutyContext, require_caller
from handlers.common.forms import answers, forget, markup
from handlers.common.respond import reply
from handlers.report_form.steps import (
    CASUALTIES,
    CATEGORY,
    CONFIRM,
    DESCRIPTION,
    FORM,
    LEVEL,
    LOCATION,
    OCCURRED,
    PHOTOS,
    SENSITIVE,
    cancel,
    confirmed,
    got_casualties,
    got_category,
    got_description,
    got_level,
    got_location,
    got_occurred,
    got_photo,
    got_sensitive,
    photos_done,
    reask,
    submit,
)


async def start(update: Update, context: DutyContext) -> str | int:
    """``/report <text>`` reports at once; ``/report`` alone opens the guided form."""
    require_caller(context)
    tr = context.tr
    message = update.effective_message
    text = clean_text(message.text) if message and message.text else ""
    quick = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
    if quick.strip():
        problem = messaging.description_problem(tr, quick, MAX_DESCRIPTION)
        if problem:
            await reply(update, context, problem)
        else:
            await submit(update, context, Draft(description=quick))
        return ConversationHandler.END
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        await reply(update, context, messaging.form_in_group(tr))
        return ConversationHandler.END
    forget(context, FORM)
    answers(context, FORM)
    keyboard = markup(messaging.category_buttons(tr, CATEGORIES))
    await reply(update, context, messaging.form_opened(tr), reply_markup=keyboard)
    return CATEGORY


def conversation() -> ConversationHandler[Any]:
    """The ``/report`` conversation, persistent under the name ``report``."""
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[Any]] = {
        CATEGORY: [CallbackQueryHandler(got_category, pattern=callback_data.pattern("rc"))],
        LEVEL: [CallbackQueryHandler(got_level, pattern=callback_data.pattern("rl"))],
        LOCATION: [MessageHandler(filters.LOCATION | text, got_location)],
        DESCRIPTION: [MessageHandler(text, got_description)],
        OCCURRED: [
            MessageHandler(text, got_occurred),
            CallbackQueryHandler(got_occurred, pattern=callback_data.pattern("rw")),
        ],
        SENSITIVE: [CallbackQueryHandler(got_sensitive, pattern=callback_data.pattern("rs"))],
        CASUALTIES: [
            MessageHandler(text, got_casualties),
            CallbackQueryHandler(got_casualties, pattern=callback_data.pattern("rk")),
        ],
        PHOTOS: [
            MessageHandler(filters.PHOTO, got_photo),
            CallbackQueryHandler(photos_done, pattern=callback_data.pattern("rp")),
        ],
        CONFIRM: [CallbackQueryHandler(confirmed, pattern=callback_data.pattern("ry"))],
    }
    with warnings.catch_warnings():
        # Buttons are tracked per user and chat, not per message: that is what this form wants.
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        return ConversationHandler(
            entry_points=[CommandHandler("report", start)],
            states=states,
            fallbacks=[
                CommandHandler("cancel", cancel),
                MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, reask),
            ],
            name=FORM,
            persistent=True,
            allow_reentry=True,
        )
