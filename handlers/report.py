"""``/report``: the quick one-message report and the guided form (SPEC §3.1).

The form is a python-telegram-bot ``ConversationHandler`` kept in the database (persistent, so a
half-filled form survives a restart); its answers live in ``user_data["report"]``. Every step
can be answered by button where it can, and ``/cancel`` leaves at any step.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callback_data
from bot.db.models import IncidentRow
from bot.incidents.flows import alert_unit
from bot.incidents.messaging import CATEGORY_NAMES, LEVEL_NAMES, alert_text
from bot.incidents.routing import route_unit
from bot.incidents.service import MAX_DESCRIPTION, Draft, create_incident, duplicate_candidate
from bot.levels import priority_of
from bot.settings import CATEGORIES
from handlers.common.context import DutyContext, require_caller
from handlers.common.respond import reply, reply_in

CATEGORY, LEVEL, LOCATION, DESCRIPTION, CASUALTIES, PHOTOS, CONFIRM = (
    "category",
    "level",
    "location",
    "description",
    "casualties",
    "photos",
    "confirm",
)
FORM = "report"
MAX_PHOTOS = 10
MAX_LOCATION = 300
CASUALTY_KINDS = ("dead", "injured", "missing", "trapped")


def _form(context: DutyContext) -> dict[str, Any]:
    data: dict[str, Any] = context.user_data if context.user_data is not None else {}
    form: dict[str, Any] = data.setdefault(FORM, {})
    context.persist_now = True
    return form


def _end_form(context: DutyContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(FORM, None)
    context.persist_now = True


def _draft(form: dict[str, Any]) -> Draft:
    return Draft(
        description=form.get("description", ""),
        category=form.get("category"),
        level=form.get("level", "unassessed"),
        location_text=form.get("location_text"),
        latitude=form.get("latitude"),
        longitude=form.get("longitude"),
        casualties=form.get("casualties", {}),
        photos=form.get("photos", []),
    )


async def submit(update: Update, context: DutyContext, draft: Draft) -> IncidentRow:
    """Store the report, alert the unit on duty, and queue the receipt — in one transaction."""
    caller = require_caller(context)
    runtime, tr = context.runtime, context.tr
    unit = route_unit(runtime.settings, runtime.roster, draft.category, caller.person.unit)
    async with runtime.database.transaction() as session:
        incident = await create_incident(
            session,
            draft=draft,
            reporter=caller.person,
            unit_id=unit,
            at=runtime.now(),
            settings=runtime.settings,
        )
        duplicate = await duplicate_candidate(session, incident)
        await alert_unit(
            session,
            runtime,
            incident,
            duplicate_of=duplicate.id if duplicate else None,
            actor=caller.person.id,
        )
        receipt = tr._(
            "Received as #{number}. The duty officers of {unit} have been alerted; you will be "
            "told when it is accepted.\nAdd to it with /addinfo {number} <text> or a photo "
            "captioned #{number}."
        ).format(number=incident.id, unit=runtime.roster.units[unit].name)
        reply_in(
            session,
            update,
            context,
            receipt,
            priority=priority_of(incident),
            reply_markup=ReplyKeyboardRemove(),
        )
    runtime.outbox_committed()
    return incident


def _description_problem(context: DutyContext, text: str) -> str | None:
    tr = context.tr
    if not text.strip():
        return tr._("The report is empty. Say what happened.")
    if len(text) > MAX_DESCRIPTION:
        return tr._(
            "That is too long ({length} characters; at most {limit}). Send the essentials now "
            "and add details later with /addinfo."
        ).format(length=len(text), limit=MAX_DESCRIPTION)
    return None


async def start(update: Update, context: DutyContext) -> str | int:
    """``/report <text>`` reports at once; ``/report`` alone opens the guided form."""
    require_caller(context)
    tr = context.tr
    message = update.effective_message
    text = message.text if message and message.text else ""
    quick = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
    if quick.strip():
        problem = _description_problem(context, quick)
        if problem:
            await reply(update, context, problem)
        else:
            await submit(update, context, Draft(description=quick))
        return ConversationHandler.END
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        await reply(
            update,
            context,
            tr._(
                "Use /report <what happened> here, or open a private chat with me for the guided form."
            ),
        )
        return ConversationHandler.END
    _end_form(context)
    _form(context)
    await reply(
        update,
        context,
        tr._("New report. What kind of emergency is it? (/cancel to stop at any step)"),
        reply_markup=_category_keyboard(context),
    )
    return CATEGORY


def _category_keyboard(context: DutyContext) -> InlineKeyboardMarkup:
    tr = context.tr
    buttons = [
        InlineKeyboardButton(tr._(CATEGORY_NAMES[c]), callback_data=callback_data.encode("rc", c))
        for c in CATEGORIES
    ]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:]])


def _level_keyboard(context: DutyContext) -> InlineKeyboardMarkup:
    tr = context.tr
    levels = [
        InlineKeyboardButton(tr._(LEVEL_NAMES[lv]), callback_data=callback_data.encode("rl", lv))
        for lv in ("I", "II", "III", "IV")
    ]
    unknown = InlineKeyboardButton(
        tr._("Don't know"), callback_data=callback_data.encode("rl", "unassessed")
    )
    return InlineKeyboardMarkup([levels[:2], levels[2:], [unknown]])


async def _pressed(update: Update, context: DutyContext, action: str) -> str | None:
    """The argument of a form button, or ``None`` (answered) when the data is not valid."""
    query = update.callback_query
    if query is None:
        return None
    data = callback_data.decode(query.data)
    if data is None or data.action != action:
        await query.answer(context.tr._("This button is no longer valid."), show_alert=True)
        return None
    await query.answer()
    return data.args[0] if data.args else ""


async def got_category(update: Update, context: DutyContext) -> str:
    """Category chosen; ask for the level."""
    value = await _pressed(update, context, "rc")
    if value not in CATEGORIES:
        return CATEGORY
    _form(context)["category"] = value
    await reply(
        update, context, context.tr._("How serious is it?"), reply_markup=_level_keyboard(context)
    )
    return LEVEL


async def got_level(update: Update, context: DutyContext) -> str:
    """Level chosen; ask where."""
    value = await _pressed(update, context, "rl")
    if value not in ("I", "II", "III", "IV", "unassessed"):
        return LEVEL
    _form(context)["level"] = value
    tr = context.tr
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("📍 " + tr._("Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await reply(
        update,
        context,
        tr._("Where is it? Share your location with the button below, or type the address."),
        reply_markup=keyboard,
    )
    return LOCATION


async def got_location(update: Update, context: DutyContext) -> str:
    """A shared location or a typed address; ask what happened."""
    message = update.effective_message
    tr = context.tr
    if message is None:
        return LOCATION
    form = _form(context)
    if message.location is not None:
        form["latitude"], form["longitude"] = message.location.latitude, message.location.longitude
    elif message.text and message.text.strip() and len(message.text) <= MAX_LOCATION:
        form["location_text"] = message.text.strip()
    else:
        await reply(
            update,
            context,
            tr._(
                "Share your location with the button, or type the address (at most {limit} characters)."
            ).format(limit=MAX_LOCATION),
        )
        return LOCATION
    await reply(
        update,
        context,
        tr._("What happened? Describe it in one message."),
        reply_markup=ReplyKeyboardRemove(),
    )
    return DESCRIPTION


async def got_description(update: Update, context: DutyContext) -> str:
    """What happened; ask about casualties."""
    message = update.effective_message
    text = message.text if message and message.text else ""
    problem = _description_problem(context, text)
    if problem:
        await reply(update, context, problem)
        return DESCRIPTION
    _form(context)["description"] = text.strip()
    tr = context.tr
    skip = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._("Skip"), callback_data=callback_data.encode("rk"))]]
    )
    await reply(
        update,
        context,
        tr._(
            "Casualties? Send four numbers: dead, injured, missing, trapped (for example 0 2 0 1), "
            "or press Skip."
        ),
        reply_markup=skip,
    )
    return CASUALTIES


def _done_keyboard(context: DutyContext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(context.tr._("Done"), callback_data=callback_data.encode("rp"))]]
    )


async def _ask_photos(update: Update, context: DutyContext) -> str:
    await reply(
        update,
        context,
        context.tr._("Send photos if you have any, then press Done."),
        reply_markup=_done_keyboard(context),
    )
    return PHOTOS


async def got_casualties(update: Update, context: DutyContext) -> str:
    """Four numbers, or Skip; ask for photos."""
    if update.callback_query is not None:
        if await _pressed(update, context, "rk") is None:
            return CASUALTIES
        return await _ask_photos(update, context)
    message = update.effective_message
    parts = (message.text or "").replace(",", " ").split() if message else []
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 5 for p in parts):
        await reply(
            update,
            context,
            context.tr._(
                "Please send four whole numbers: dead, injured, missing, trapped (for example 0 2 0 1)."
            ),
        )
        return CASUALTIES
    _form(context)["casualties"] = dict(zip(CASUALTY_KINDS, map(int, parts), strict=True))
    return await _ask_photos(update, context)


async def got_photo(update: Update, context: DutyContext) -> str:
    """One more photo (the largest size is kept)."""
    message = update.effective_message
    if message is None or not message.photo:
        return PHOTOS
    photos = _form(context).setdefault("photos", [])
    tr = context.tr
    if len(photos) >= MAX_PHOTOS:
        await reply(
            update,
            context,
            tr._("That is the most I take in one report ({limit}); press Done.").format(
                limit=MAX_PHOTOS
            ),
            reply_markup=_done_keyboard(context),
        )
        return PHOTOS
    photos.append(message.photo[-1].file_id)
    await reply(
        update,
        context,
        tr._("Photo {count} added. Send more, or press Done.").format(count=len(photos)),
        reply_markup=_done_keyboard(context),
    )
    return PHOTOS


async def photos_done(update: Update, context: DutyContext) -> str:
    """Show the report as the officers will see it, with Send and Cancel."""
    if await _pressed(update, context, "rp") is None:
        return PHOTOS
    return await _confirm(update, context)


async def _confirm(update: Update, context: DutyContext) -> str:
    tr, runtime = context.tr, context.runtime
    caller = require_caller(context)
    draft = _draft(_form(context))
    preview = IncidentRow(
        id=0,
        unit_id=route_unit(runtime.settings, runtime.roster, draft.category, caller.person.unit),
        category=draft.category,
        level=draft.level,
        sensitive=False,
        summary=draft.description.split("\n", 1)[0][:120],
        description=draft.description,
        location_text=draft.location_text,
        latitude=draft.latitude,
        longitude=draft.longitude,
        reported_at=runtime.now(),
        reporter_id=caller.person.id,
        dead=draft.casualties.get("dead"),
        injured=draft.casualties.get("injured"),
        missing=draft.casualties.get("missing"),
        trapped=draft.casualties.get("trapped"),
        attachments=draft.photos,
        drill=False,
    )
    card = alert_text(tr, preview, runtime.roster, runtime.settings).replace("#0", "#…")
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "📨 " + tr._("Send"), callback_data=callback_data.encode("ry", "send")
                ),
                InlineKeyboardButton(
                    tr._("Cancel"), callback_data=callback_data.encode("ry", "cancel")
                ),
            ]
        ]
    )
    await reply(update, context, tr._("Check your report:") + "\n\n" + card, reply_markup=buttons)
    return CONFIRM


async def confirmed(update: Update, context: DutyContext) -> str | int:
    """Send (store and alert) or cancel."""
    choice = await _pressed(update, context, "ry")
    if choice not in ("send", "cancel"):
        return CONFIRM
    if choice == "cancel":
        return await cancel(update, context)
    draft = _draft(_form(context))
    await submit(update, context, draft)
    _end_form(context)
    return ConversationHandler.END


async def cancel(update: Update, context: DutyContext) -> int:
    """Leave the form; nothing is reported."""
    _end_form(context)
    await reply(
        update,
        context,
        context.tr._("Report cancelled; nothing was sent."),
        reply_markup=ReplyKeyboardRemove(),
    )
    return ConversationHandler.END


async def reask(update: Update, context: DutyContext) -> None:
    """An answer that does not fit the current question."""
    await reply(
        update,
        context,
        context.tr._("Please answer the question above (or /cancel to stop the report)."),
    )


def conversation() -> ConversationHandler[Any]:
    """The ``/report`` conversation, persistent under the name ``report``."""
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[Any]] = {
        CATEGORY: [CallbackQueryHandler(got_category, pattern=r"^1:rc:")],
        LEVEL: [CallbackQueryHandler(got_level, pattern=r"^1:rl:")],
        LOCATION: [MessageHandler(filters.LOCATION | text, got_location)],
        DESCRIPTION: [MessageHandler(text, got_description)],
        CASUALTIES: [
            MessageHandler(text, got_casualties),
            CallbackQueryHandler(got_casualties, pattern=r"^1:rk$"),
        ],
        PHOTOS: [
            MessageHandler(filters.PHOTO, got_photo),
            CallbackQueryHandler(photos_done, pattern=r"^1:rp$"),
        ],
        CONFIRM: [CallbackQueryHandler(confirmed, pattern=r"^1:ry:")],
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
