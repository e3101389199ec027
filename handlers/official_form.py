"""``/initial``, ``/followup``, ``/final``: the official report's short form (SPEC §3.4).

Transport only: the form walks the fields in ``user_data`` (kept by the persistence, so a form
survives a restart); opening and filing are the flows' ``open_form`` and ``file_report``, which
check permission each time.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callback_data
from bot.parsing import clean_text, parse_number
from bot.reports import flows, messaging
from bot.reports.service import FIELDS, KINDS
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of, require_caller
from handlers.common.respond import reply, reply_in

FORM = "official"
FIELD, CONFIRM = "field", "confirm"
MAX_FIELD = 1500


def _form(context: DutyContext) -> dict[str, Any]:
    data: dict[str, Any] = context.user_data if context.user_data is not None else {}
    context.persist_now = True
    form: dict[str, Any] = data.setdefault(FORM, {})
    return form


def _end(context: DutyContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(FORM, None)
    context.persist_now = True


def _buttons(markup: dict[str, Any]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup.de_json(markup)


async def start(update: Update, context: DutyContext) -> str | int:
    """``/initial <#>``, ``/followup <#>``, ``/final <#>``: open the form, pre-filled."""
    runtime, tr = context.runtime, context.tr
    caller = require_caller(context)
    message = update.effective_message
    kind = (message.text or "/").split()[0].lstrip("/").split("@")[0] if message else ""
    args = context.args or []
    number = parse_number(args[0]) if args else None
    if kind not in KINDS or number is None:
        await reply(update, context, messaging.usage(tr, kind))
        return ConversationHandler.END
    async with runtime.database.sessions() as session:
        opened = await flows.open_form(
            session, runtime, actor_of(context), number, kind, caller.language
        )
    if opened.refusal is not None:
        await reply(update, context, messaging.refusal(tr, opened.refusal, number, opened.unit))
        return ConversationHandler.END
    _end(context)
    _form(context).update(
        {
            "incident": number,
            "kind": kind,
            "number": opened.report_number,
            "fields": opened.fields,
            "index": 0,
        }
    )
    await reply(update, context, messaging.form_intro(tr, kind, opened.report_number, number))
    return await _ask(update, context)


async def _ask(update: Update, context: DutyContext) -> str:
    form = _form(context)
    name = FIELDS[form["index"]]
    text = messaging.question(context.tr, name, str(form["fields"].get(name, "")))
    await reply(update, context, text, reply_markup=_buttons(messaging.keep_button(context.tr)))
    return FIELD


async def got_field(update: Update, context: DutyContext) -> str:
    """A new value for the current field, or Keep."""
    form = _form(context)
    if update.callback_query is not None:
        answer_soon(context, update.callback_query)
    else:
        message = update.effective_message
        text = clean_text(message.text or "") if message else ""
        if not text.strip() or len(text) > MAX_FIELD:
            await reply(update, context, messaging.field_too_long(context.tr, MAX_FIELD))
            return FIELD
        form["fields"][FIELDS[form["index"]]] = text.strip()
    form["index"] += 1
    if form["index"] < len(FIELDS):
        return await _ask(update, context)
    return await _confirm(update, context)


async def _confirm(update: Update, context: DutyContext) -> str:
    caller, runtime, tr, form = require_caller(context), context.runtime, context.tr, _form(context)
    async with runtime.database.sessions() as session:
        incident = await flows.preview(session, int(form["incident"]))
    if incident is None:  # pragma: no cover - incidents are never deleted
        return FIELD
    text = messaging.report_text(
        tr,
        runtime.roster,
        runtime.settings,
        incident,
        form["kind"],
        int(form["number"]),
        form["fields"],
        author=caller.person.name,
    )
    await reply(update, context, text, reply_markup=_buttons(messaging.confirm_buttons(tr)))
    return CONFIRM


async def confirmed(update: Update, context: DutyContext) -> int | str:
    """File (or send for sign-off), or cancel."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    if query is None or data is None or data.args[0] not in ("file", "cancel"):
        if query is not None:
            await answer_button(query, messaging.stale_button(context.tr), show_alert=True)
        return CONFIRM
    answer_soon(context, query)
    if data.args[0] == "cancel":
        return await cancel(update, context)
    runtime, tr, form = context.runtime, context.tr, _form(context)
    number = int(form["incident"])
    async with runtime.database.transaction() as session:
        filed = await flows.file_report(
            session, runtime, actor_of(context), number, form["kind"], dict(form["fields"])
        )
        report = filed.report
        if filed.refusal is not None or report is None:
            text = messaging.refusal(
                tr, filed.refusal or messaging.Refusal.HIDDEN, number, filed.unit
            )
        elif report.state == "filed":
            text = messaging.filed_answer(tr, report.kind, report.number, number)
        else:
            text = messaging.waiting_answer(tr, report.kind, report.number, number, filed.signers)
        reply_in(session, update, context, text)
    _end(context)
    return ConversationHandler.END


async def cancel(update: Update, context: DutyContext) -> int:
    """Leave the form; nothing is filed."""
    _end(context)
    await reply(update, context, messaging.cancelled(context.tr))
    return ConversationHandler.END


async def reask(update: Update, context: DutyContext) -> None:
    """Something that does not answer the current question."""
    await reply(update, context, messaging.reask(context.tr))


def conversation() -> ConversationHandler[Any]:
    """The official-report form, persistent under the name ``official``."""
    text = filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        return ConversationHandler(
            entry_points=[CommandHandler(list(KINDS), start)],
            states={
                FIELD: [
                    MessageHandler(text, got_field),
                    CallbackQueryHandler(got_field, pattern=callback_data.pattern("ofk")),
                ],
                CONFIRM: [CallbackQueryHandler(confirmed, pattern=callback_data.pattern("ofy"))],
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, reask),
            ],
            name=FORM,
            persistent=True,
            allow_reentry=True,
        )
