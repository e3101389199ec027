"""The steps of the ``/directive`` form, one small callback per question (SPEC §3.6): each
stores its answer with the update that gave it and asks the next question."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import ConversationHandler

from bot.access import may_direct_to
from bot.directives import flows, form_messaging, messaging
from bot.directives.service import Order, parse_limit
from bot.levels import MAX_DIRECTIVE_LIMIT, MAX_DIRECTIVE_TEXT, URGENCIES, directive_due
from bot.parsing import clean_text
from handlers.common.context import DutyContext, actor_of
from handlers.common.forms import answers, forget, markup, pressed, typed
from handlers.common.respond import reply, reply_in

FORM = "directive"
LEAD, ASSISTING, URGENCY, TEXT, CONFIRM = "lead", "assisting", "urgency", "text", "confirm"


def directable(context: DutyContext) -> list[str]:
    """The units the caller may direct, in roster order."""
    actor = actor_of(context)
    return [u for u in context.runtime.roster.units if may_direct_to(actor, u)]


def _due(context: DutyContext, form: dict[str, Any]) -> datetime:
    if form.get("due"):
        return datetime.fromisoformat(form["due"])
    runtime = context.runtime
    return directive_due(runtime.settings, form["urgency"], runtime.now())


async def _choice(update: Update, context: DutyContext, kind: str) -> str | None:
    value = await pressed(update, context, "dru", messaging.no_directive(context.tr))
    if value is None or not value.startswith(kind + "."):
        return None
    return value.split(".", 1)[1]


async def got_lead(update: Update, context: DutyContext) -> str:
    """Lead unit chosen; ask for the assisting units."""
    unit = await _choice(update, context, "l")
    units = directable(context)
    if unit not in units:
        return LEAD
    form = answers(context, FORM)
    form["lead"], form["assisting"] = unit, []
    others = [u for u in units if u != unit]
    if not others:
        return await _ask_urgency(update, context)
    text, buttons = form_messaging.ask_assisting(context.tr, context.runtime.roster, others, [])
    await reply(update, context, text, reply_markup=markup(buttons))
    return ASSISTING


async def got_assisting(update: Update, context: DutyContext) -> str:
    """An assisting unit added or removed, or Done."""
    choice = await _choice(update, context, "a")
    form = answers(context, FORM)
    if choice == "done":
        return await _ask_urgency(update, context)
    others = [u for u in directable(context) if u != form.get("lead")]
    if choice not in others:
        return ASSISTING
    chosen: list[str] = form.setdefault("assisting", [])
    if choice in chosen:
        chosen.remove(choice)
    else:
        chosen.append(choice)
    text, buttons = form_messaging.ask_assisting(context.tr, context.runtime.roster, others, chosen)
    await reply(update, context, text, reply_markup=markup(buttons))
    return ASSISTING


async def _ask_urgency(update: Update, context: DutyContext) -> str:
    text, buttons = form_messaging.ask_urgency(context.tr, context.runtime.settings)
    await reply(update, context, text, reply_markup=markup(buttons))
    return URGENCY


async def got_urgency(update: Update, context: DutyContext) -> str:
    """An urgency pressed, or a time limit typed; ask for the text."""
    runtime, form = context.runtime, answers(context, FORM)
    if update.callback_query is not None:
        urgency = await _choice(update, context, "u")
        if urgency not in URGENCIES:
            return URGENCY
        form["urgency"], form["due"] = urgency, None
    else:
        due = parse_limit(typed(update), runtime.now(), runtime.settings.timezone)
        if due is None or due > runtime.now() + MAX_DIRECTIVE_LIMIT:
            await reply(update, context, form_messaging.bad_limit(context.tr))
            return URGENCY
        form["urgency"], form["due"] = "set", due.isoformat()
    await reply(update, context, form_messaging.ask_text(context.tr))
    return TEXT


async def got_text(update: Update, context: DutyContext) -> str:
    """The directive's text (or a photo or document captioned with it); show the preview."""
    message = update.effective_message
    if message is None:
        return TEXT
    text = clean_text(message.text or message.caption or "").strip()
    if not text or len(text) > MAX_DIRECTIVE_TEXT:
        await reply(update, context, form_messaging.bad_text(context.tr, MAX_DIRECTIVE_TEXT))
        return TEXT
    form = answers(context, FORM)
    form["text"] = text
    if message.photo:
        form["attachments"] = [["photo", message.photo[-1].file_id]]
    elif message.document:
        form["attachments"] = [["document", message.document.file_id]]
    runtime = context.runtime
    preview, buttons = form_messaging.preview(
        context.tr, runtime.roster, runtime.settings.timezone, form, _due(context, form)
    )
    await reply(update, context, preview, reply_markup=markup(buttons))
    return CONFIRM


async def confirmed(update: Update, context: DutyContext) -> str | int:
    """Issue or Cancel; the flow checks the issuer may, again, at this moment."""
    choice = await _choice(update, context, "y")
    if choice not in ("send", "cancel"):
        return CONFIRM
    form = dict(answers(context, FORM))
    forget(context, FORM)
    tr, runtime = context.tr, context.runtime
    if choice == "cancel":
        await reply(update, context, form_messaging.cancelled(tr))
        return ConversationHandler.END
    order = Order(
        lead_unit=form["lead"],
        assisting=tuple(form.get("assisting") or ()),
        urgency=form["urgency"],
        due_at=_due(context, form),
        text=form["text"],
        attachments=tuple((k, f) for k, f in form.get("attachments") or ()),
    )
    async with runtime.database.transaction() as session:
        attempt = await flows.issue(session, runtime, actor_of(context), order)
        if attempt.directive is not None:
            text = messaging.issued_answer(tr, runtime.roster, attempt.directive, attempt.told)
        else:
            text = form_messaging.refused(tr, attempt.refusal)
        reply_in(session, update, context, text)
    return ConversationHandler.END


async def cancel(update: Update, context: DutyContext) -> int:
    """``/cancel``: leave the form; nothing is issued."""
    forget(context, FORM)
    await reply(update, context, form_messaging.cancelled(context.tr))
    return ConversationHandler.END
