"""The steps of the ``/call`` phone-intake form (来电登记, SPEC §3.1), one small callback per
question: each stores its answer with the update that gave it and asks the next question."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import (
    ConversationHandler,
)

from bot import callback_data
from bot.incidents import call_messaging as calls
from bot.incidents import flows, messaging
from bot.incidents.service import MAX_DESCRIPTION, Draft, parse_when, received_at
from bot.levels import LEVELS, priority_of
from bot.parsing import parse_casualties
from bot.settings import CATEGORIES
from handlers.common.buttons import answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.forms import answers, forget, markup, typed
from handlers.common.respond import reply, reply_in

NAME, ORG, PHONE, RECEIVED, OCCURRED = "name", "org", "phone", "received", "occurred"
CATEGORY, LEVEL, LOCATION, DESCRIPTION, CASUALTIES, CONFIRM = (
    "category",
    "level",
    "location",
    "description",
    "casualties",
    "confirm",
)
FORM = "call"
MAX_SHORT = 120


async def _choice(update: Update, context: DutyContext, action: str) -> str | None:
    """The argument of a pressed button of ``action`` (answered), or ``None`` for a message."""
    query = update.callback_query
    if query is None:
        return None
    data = callback_data.decode(query.data)
    answer_soon(context, query)
    return data.args[0] if data is not None and data.action == action and data.args else ""


def _moment(form: dict[str, Any], key: str) -> datetime | None:
    value = form.get(key)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


async def got_name(update: Update, context: DutyContext) -> str:
    """The caller's name; ask the organisation."""
    text = typed(update)
    if not text or len(text) > MAX_SHORT:
        await reply(update, context, calls.call_opened(context.tr))
        return NAME
    answers(context, FORM)["caller_name"] = text
    await reply(
        update,
        context,
        calls.ask_org(context.tr),
        reply_markup=markup(calls.skip_button(context.tr)),
    )
    return ORG


async def got_org(update: Update, context: DutyContext) -> str:
    """The organisation (or Skip); ask the phone."""
    if await _choice(update, context, "cf") is None:
        answers(context, FORM)["caller_org"] = typed(update)[:MAX_SHORT] or None
    tr = context.tr
    await reply(update, context, calls.ask_phone(tr), reply_markup=markup(calls.skip_button(tr)))
    return PHONE


async def got_phone(update: Update, context: DutyContext) -> str:
    """The phone (or Skip); ask when the call came in."""
    if await _choice(update, context, "cf") is None:
        answers(context, FORM)["caller_phone"] = typed(update)[:60] or None
    tr = context.tr
    await reply(update, context, calls.ask_received(tr), reply_markup=markup(calls.now_button(tr)))
    return RECEIVED


async def got_received(update: Update, context: DutyContext) -> str:
    """Now, or a typed time a little back; ask when it happened."""
    runtime, tr = context.runtime, context.tr
    now = runtime.now()
    if await _choice(update, context, "cf") is not None:
        moment: datetime | None = now
    else:
        moment = received_at(typed(update), now, runtime.settings.timezone)
    if moment is None:
        await reply(update, context, calls.received_problem(tr))
        return RECEIVED
    answers(context, FORM)["received_at"] = moment.isoformat()
    await reply(
        update, context, calls.ask_occurred(tr), reply_markup=markup(calls.occurred_buttons(tr))
    )
    return OCCURRED


async def got_occurred(update: Update, context: DutyContext) -> str:
    """Just now, within the hour, or a typed time; ask the category."""
    runtime, tr = context.runtime, context.tr
    form = answers(context, FORM)
    received = _moment(form, "received_at") or runtime.now()
    choice = await _choice(update, context, "cf")
    if choice is not None:
        moment: datetime | None = received - (
            timedelta(hours=1) if choice == "hour" else timedelta()
        )
    else:
        moment = parse_when(typed(update), runtime.now(), runtime.settings.timezone)
    if moment is None:
        await reply(update, context, calls.occurred_problem(tr))
        return OCCURRED
    form["occurred_at"] = moment.isoformat()
    keyboard = markup(messaging.category_buttons(tr, CATEGORIES))
    await reply(update, context, messaging.form_opened(tr), reply_markup=keyboard)
    return CATEGORY


async def got_category(update: Update, context: DutyContext) -> str:
    """Category; ask the level."""
    value = await _choice(update, context, "rc")
    if value not in CATEGORIES:
        return CATEGORY
    answers(context, FORM)["category"] = value
    tr = context.tr
    await reply(
        update, context, messaging.ask_level(tr), reply_markup=markup(messaging.level_buttons(tr))
    )
    return LEVEL


async def got_level(update: Update, context: DutyContext) -> str:
    """Level; ask where."""
    value = await _choice(update, context, "rl")
    if value not in LEVELS:
        return LEVEL
    answers(context, FORM)["level"] = value
    await reply(update, context, calls.ask_place(context.tr))
    return LOCATION


async def got_location(update: Update, context: DutyContext) -> str:
    """A typed place; ask what happened."""
    text = typed(update)
    if not text or len(text) > 300:
        await reply(update, context, messaging.location_problem(context.tr, 300))
        return LOCATION
    answers(context, FORM)["location_text"] = text
    await reply(update, context, messaging.ask_description(context.tr))
    return DESCRIPTION


async def got_description(update: Update, context: DutyContext) -> str:
    """What happened; ask the casualties."""
    text, tr = typed(update), context.tr
    problem = messaging.description_problem(tr, text, MAX_DESCRIPTION)
    if problem:
        await reply(update, context, problem)
        return DESCRIPTION
    answers(context, FORM)["description"] = text
    await reply(
        update, context, calls.ask_casualties(tr), reply_markup=markup(calls.skip_button(tr))
    )
    return CASUALTIES


async def got_casualties(update: Update, context: DutyContext) -> str:
    """Four numbers or Skip; show the call as it will be logged."""
    tr, runtime = context.tr, context.runtime
    if await _choice(update, context, "cf") is None:
        casualties = parse_casualties(typed(update))
        if casualties is None:
            await reply(update, context, messaging.casualties_problem(tr))
            return CASUALTIES
        answers(context, FORM)["casualties"] = casualties
    form = answers(context, FORM)
    received = _moment(form, "received_at") or runtime.now()
    incident = flows.preview_report(
        runtime, actor_of(context), Draft.from_answers(form, source="phone")
    )
    incident.reported_at, incident.unit_id = received, actor_of(context).person.unit
    text = messaging.preview(tr, incident, runtime.roster, runtime.settings)
    await reply(update, context, text, reply_markup=markup(calls.confirm_buttons(tr)))
    return CONFIRM


async def confirmed(update: Update, context: DutyContext) -> str | int:
    """Log the call (created and accepted by the officer) or cancel."""
    choice = await _choice(update, context, "cf")
    if choice not in ("send", "cancel"):
        return CONFIRM
    if choice == "cancel":
        return await cancel(update, context)
    runtime, tr, form = context.runtime, context.tr, answers(context, FORM)
    received = _moment(form, "received_at") or runtime.now()
    async with runtime.database.transaction() as session:
        incident = await flows.log_call(
            session, runtime, actor_of(context), Draft.from_answers(form, source="phone"), received
        )
        if incident is None:
            reply_in(session, update, context, calls.not_for_you(tr))
        else:
            text = calls.call_logged(tr, incident, runtime.settings)
            reply_in(session, update, context, text, priority=priority_of(incident))
    forget(context, FORM)
    return ConversationHandler.END


async def cancel(update: Update, context: DutyContext) -> int:
    """Leave the form; nothing is logged."""
    forget(context, FORM)
    await reply(update, context, calls.call_cancelled(context.tr))
    return ConversationHandler.END
