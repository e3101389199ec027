"""The steps of the ``/report`` guided form, one small callback per question (SPEC §3.1): each
stores its answer with the update that gave it and asks the next question."""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import (
    ConversationHandler,
)

from bot.incidents import call_messaging as calls
from bot.incidents import flows, messaging
from bot.incidents.service import MAX_DESCRIPTION, Draft, parse_when
from bot.levels import LEVELS, priority_of
from bot.parsing import clean_text, parse_casualties
from bot.settings import CATEGORIES
from handlers.common.context import DutyContext, actor_of
from handlers.common.forms import answers, forget, markup, pressed, typed
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
OCCURRED, SENSITIVE = "occurred", "sensitive"
FORM = "report"
MAX_PHOTOS = 10
MAX_LOCATION = 300


async def submit(update: Update, context: DutyContext, draft: Draft) -> None:
    """Store the report, alert the unit on duty, and queue the receipt — in one transaction."""
    runtime, tr = context.runtime, context.tr
    async with runtime.database.transaction() as session:
        incident = await flows.submit_report(session, runtime, actor_of(context), draft)
        reply_in(
            session,
            update,
            context,
            messaging.receipt(tr, incident, runtime.roster),
            priority=priority_of(incident),
            reply_markup=ReplyKeyboardRemove(),
        )


async def got_category(update: Update, context: DutyContext) -> str:
    """Category chosen; ask for the level."""
    value = await pressed(update, context, "rc", messaging.stale_button(context.tr))
    if value not in CATEGORIES:
        return CATEGORY
    answers(context, FORM)["category"] = value
    tr = context.tr
    keyboard = markup(messaging.level_buttons(tr))
    await reply(update, context, messaging.ask_level(tr), reply_markup=keyboard)
    return LEVEL


async def got_level(update: Update, context: DutyContext) -> str:
    """Level chosen; ask where."""
    value = await pressed(update, context, "rl", messaging.stale_button(context.tr))
    if value not in LEVELS:
        return LEVEL
    answers(context, FORM)["level"] = value
    tr = context.tr
    keyboard = markup(messaging.location_keyboard(tr))
    await reply(update, context, messaging.ask_location(tr), reply_markup=keyboard)
    return LOCATION


async def got_location(update: Update, context: DutyContext) -> str:
    """A shared location or a typed address; ask what happened."""
    message = update.effective_message
    tr = context.tr
    if message is None:
        return LOCATION
    form = answers(context, FORM)
    if message.location is not None:
        form["latitude"], form["longitude"] = message.location.latitude, message.location.longitude
    elif message.text and clean_text(message.text).strip() and len(message.text) <= MAX_LOCATION:
        form["location_text"] = clean_text(message.text).strip()
    else:
        await reply(update, context, messaging.location_problem(tr, MAX_LOCATION))
        return LOCATION
    await reply(update, context, messaging.ask_description(tr), reply_markup=ReplyKeyboardRemove())
    return DESCRIPTION


async def got_description(update: Update, context: DutyContext) -> str:
    """What happened; ask about casualties."""
    message = update.effective_message
    text = clean_text(message.text) if message and message.text else ""
    tr = context.tr
    problem = messaging.description_problem(tr, text, MAX_DESCRIPTION)
    if problem:
        await reply(update, context, problem)
        return DESCRIPTION
    answers(context, FORM)["description"] = text.strip()
    buttons = markup(calls.occurred_buttons(tr, "rw"))
    await reply(update, context, calls.ask_occurred(tr), reply_markup=buttons)
    return OCCURRED


async def got_occurred(update: Update, context: DutyContext) -> str:
    """Just now, within the hour, or a typed time (事发时间); ask whether it is sensitive."""
    runtime, tr = context.runtime, context.tr
    now = runtime.now()
    if update.callback_query is not None:
        choice = await pressed(update, context, "rw", messaging.stale_button(context.tr))
        if choice not in ("now", "hour"):
            return OCCURRED
        moment: datetime | None = now - (timedelta(hours=1) if choice == "hour" else timedelta())
    else:
        message = update.effective_message
        moment = parse_when(message.text or "" if message else "", now, runtime.settings.timezone)
    if moment is None:
        await reply(update, context, calls.occurred_problem(tr))
        return OCCURRED
    answers(context, FORM)["occurred_at"] = moment.isoformat()
    buttons = markup(calls.sensitive_buttons(tr))
    await reply(update, context, calls.ask_sensitive(tr), reply_markup=buttons)
    return SENSITIVE


async def got_sensitive(update: Update, context: DutyContext) -> str:
    """Sensitive or not; ask about casualties."""
    choice = await pressed(update, context, "rs", messaging.stale_button(context.tr))
    if choice not in ("yes", "no"):
        return SENSITIVE
    answers(context, FORM)["sensitive"] = choice == "yes"
    tr = context.tr
    skip = markup(messaging.skip_button(tr))
    await reply(update, context, messaging.ask_casualties(tr), reply_markup=skip)
    return CASUALTIES


async def _ask_photos(update: Update, context: DutyContext) -> str:
    tr = context.tr
    done = markup(messaging.done_button(tr))
    await reply(update, context, messaging.ask_photos(tr), reply_markup=done)
    return PHOTOS


async def got_casualties(update: Update, context: DutyContext) -> str:
    """Four numbers, or Skip; ask for photos."""
    if update.callback_query is not None:
        if await pressed(update, context, "rk", messaging.stale_button(context.tr)) is None:
            return CASUALTIES
        return await _ask_photos(update, context)
    casualties = parse_casualties(typed(update))
    if casualties is None:
        await reply(update, context, messaging.casualties_problem(context.tr))
        return CASUALTIES
    answers(context, FORM)["casualties"] = casualties
    return await _ask_photos(update, context)


async def got_photo(update: Update, context: DutyContext) -> str:
    """One more photo (the largest size is kept)."""
    message = update.effective_message
    if message is None or not message.photo:
        return PHOTOS
    photos = answers(context, FORM).setdefault("photos", [])
    tr = context.tr
    done = markup(messaging.done_button(tr))
    if len(photos) >= MAX_PHOTOS:
        await reply(update, context, messaging.too_many_photos(tr, MAX_PHOTOS), reply_markup=done)
        return PHOTOS
    photos.append(message.photo[-1].file_id)
    await reply(update, context, messaging.photo_added(tr, len(photos)), reply_markup=done)
    return PHOTOS


async def photos_done(update: Update, context: DutyContext) -> str:
    """Show the report as the officers will see it, with Send and Cancel."""
    if await pressed(update, context, "rp", messaging.stale_button(context.tr)) is None:
        return PHOTOS
    tr, runtime = context.tr, context.runtime
    incident = flows.preview_report(
        runtime, actor_of(context), Draft.from_answers(answers(context, FORM))
    )
    text = messaging.preview(tr, incident, runtime.roster, runtime.settings)
    await reply(update, context, text, reply_markup=markup(messaging.confirm_buttons(tr)))
    return CONFIRM


async def confirmed(update: Update, context: DutyContext) -> str | int:
    """Send (store and alert) or cancel."""
    choice = await pressed(update, context, "ry", messaging.stale_button(context.tr))
    if choice not in ("send", "cancel"):
        return CONFIRM
    if choice == "cancel":
        return await cancel(update, context)
    await submit(update, context, Draft.from_answers(answers(context, FORM)))
    forget(context, FORM)
    return ConversationHandler.END


async def cancel(update: Update, context: DutyContext) -> int:
    """Leave the form; nothing is reported."""
    forget(context, FORM)
    text = messaging.form_cancelled(context.tr)
    await reply(update, context, text, reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


async def reask(update: Update, context: DutyContext) -> None:
    """An answer that does not fit the current question."""
    await reply(update, context, messaging.form_reask(context.tr))
