"""``/initial``, ``/followup``, ``/final``: the official reports' short forms, sign-off by the
leader on duty, and delivery upward (SPEC §3.4)."""

from __future__ import annotations

import warnings
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callback_data
from bot.db.models import IncidentRow, OfficialReport
from bot.delivery.outbox import enqueue
from bot.directory import languages, telegram_ids
from bot.i18n import N_, Translator, translator
from bot.incidents import service as incidents
from bot.incidents.flows import tell
from bot.incidents.messaging import casualty_line, level_line
from bot.incidents.service import may_handle, subject
from bot.levels import priority_of
from bot.parsing import parse_number
from bot.render import local_time
from bot.reports import service as reports
from bot.runtime import Runtime
from bot.timeline import record_event
from handlers.common.answer import Answer
from handlers.common.context import DutyContext, require_caller
from handlers.common.respond import reply, reply_in

FORM = "official"
FIELD, CONFIRM = "field", "confirm"
MAX_FIELD = 1500
TITLES = {
    "initial": N_("Initial report (首报)"),
    "followup": N_("Follow-up report no. {number} (续报)"),
    "final": N_("Final report (终报)"),
}
REFUSALS = {
    "closed": N_("#{number} is closed; no more reports are due."),
    "not_accepted": N_("#{number} has not been accepted yet: /accept it first."),
    "initial_done": N_(
        "The initial report of #{number} is already filed: use /followup or /final."
    ),
    "initial_first": N_("File the initial report of #{number} first: /initial {number}."),
}


def title(tr: Translator, report_kind: str, number: int) -> str:
    """The report's name in the reader's language."""
    return tr._(TITLES[report_kind]).format(number=number)


def report_text(
    tr: Translator,
    runtime: Runtime,
    incident: IncidentRow,
    kind: str,
    number: int,
    fields: dict[str, Any],
    *,
    author: str,
    filed: OfficialReport | None = None,
) -> str:
    """A report as its readers see it."""
    tz = runtime.settings.timezone
    lines = [
        f"📄 {title(tr, kind, number)} · #{incident.id} · "
        f"{runtime.roster.units[incident.unit_id].name}",
        level_line(tr, incident) + " · " + incident.summary,
    ]
    if filed is not None and filed.filed_at is not None:
        status = tr._("LATE") if filed.late else tr._("on time")
        approver = runtime.roster.people.get(filed.approved_by or "")
        line = tr._("Filed by {name} at {time} ({status})").format(
            name=author, time=local_time(filed.filed_at, tz), status=status
        )
        if approver is not None:
            line += "; " + tr._("approved by {name}").format(name=approver.name)
        lines.append(line)
    else:
        lines.append(tr._("Written by {name}").format(name=author))
    lines.append("")
    for name in reports.FIELDS:
        value = str(fields.get(name, "")).strip() or "—"
        lines.append(f"▪️ {tr._(reports.FIELD_NAMES[name])}: {value}")
    return "\n".join(lines)


def _form(context: DutyContext) -> dict[str, Any]:
    data: dict[str, Any] = context.user_data if context.user_data is not None else {}
    context.persist_now = True
    form: dict[str, Any] = data.setdefault(FORM, {})
    return form


def _end(context: DutyContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(FORM, None)
    context.persist_now = True


async def start(update: Update, context: DutyContext) -> str | int:
    """``/initial <#>``, ``/followup <#>``, ``/final <#>``: open the form, pre-filled."""
    caller, runtime, tr = require_caller(context), context.runtime, context.tr
    message = update.effective_message
    kind = (message.text or "/").split()[0].lstrip("/").split("@")[0] if message else ""
    args = context.args or []
    number = parse_number(args[0]) if args else None
    if kind not in reports.KINDS or number is None:
        await reply(
            update,
            context,
            tr._("Usage: /{command} <number>, for example /{command} 17").format(
                command=kind or "initial"
            ),
        )
        return ConversationHandler.END
    async with runtime.database.sessions() as session:
        incident = await incidents.get(session, number)
        if incident is None:
            await reply(
                update, context, tr._("There is no incident #{number}.").format(number=number)
            )
            return ConversationHandler.END
        if not (
            incident.assignee_id == caller.person.id
            or may_handle(runtime.roster, caller.person, incident.unit_id, runtime.now())
        ):
            await reply(
                update,
                context,
                tr._("You may not act on #{number}: it belongs to {unit}.").format(
                    number=number, unit=runtime.roster.units[incident.unit_id].name
                ),
            )
            return ConversationHandler.END
        refusal = reports.may_start(incident, kind)
        if refusal is not None:
            await reply(update, context, tr._(REFUSALS[refusal]).format(number=number))
            return ConversationHandler.END
        casualties = casualty_line(tr, incident) or ""
        fields = await reports.prefill(session, incident, casualties)
        report_number = await reports.next_number(session, number, kind)
    _end(context)
    form = _form(context)
    form.update(
        {"incident": number, "kind": kind, "number": report_number, "fields": fields, "index": 0}
    )
    await reply(
        update,
        context,
        tr._(
            "{title} for #{number}: {count} short questions, each pre-filled. Send new text, or "
            "press Keep. (/cancel to stop)"
        ).format(title=title(tr, kind, report_number), number=number, count=len(reports.FIELDS)),
    )
    return await _ask(update, context)


async def _ask(update: Update, context: DutyContext) -> str:
    tr, form = context.tr, _form(context)
    name = reports.FIELDS[form["index"]]
    current = str(form["fields"].get(name, "")).strip() or "—"
    keep = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._("Keep"), callback_data=callback_data.encode("ofk"))]]
    )
    await reply(
        update,
        context,
        tr._("{field}? Now: {value}").format(
            field=tr._(reports.FIELD_NAMES[name]), value=current[:1000]
        ),
        reply_markup=keep,
    )
    return FIELD


async def got_field(update: Update, context: DutyContext) -> str:
    """A new value for the current field, or Keep."""
    form = _form(context)
    if update.callback_query is not None:
        await update.callback_query.answer()
    else:
        text = (update.effective_message.text or "") if update.effective_message else ""
        if not text.strip() or len(text) > MAX_FIELD:
            await reply(
                update,
                context,
                context.tr._("Please send at most {limit} characters, or press Keep.").format(
                    limit=MAX_FIELD
                ),
            )
            return FIELD
        form["fields"][reports.FIELDS[form["index"]]] = text.strip()
    form["index"] += 1
    if form["index"] < len(reports.FIELDS):
        return await _ask(update, context)
    return await _confirm(update, context)


async def _confirm(update: Update, context: DutyContext) -> str:
    caller, runtime, tr, form = require_caller(context), context.runtime, context.tr, _form(context)
    async with runtime.database.sessions() as session:
        incident = await incidents.get(session, int(form["incident"]))
    assert incident is not None
    text = report_text(
        tr,
        runtime,
        incident,
        form["kind"],
        int(form["number"]),
        form["fields"],
        author=caller.person.name,
    )
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "📨 " + tr._("File"), callback_data=callback_data.encode("ofy", "file")
                ),
                InlineKeyboardButton(
                    tr._("Cancel"), callback_data=callback_data.encode("ofy", "cancel")
                ),
            ]
        ]
    )
    await reply(update, context, text, reply_markup=buttons)
    return CONFIRM


async def confirmed(update: Update, context: DutyContext) -> int | str:
    """File (or send for sign-off), or cancel."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    if query is None or data is None or data.args[0] not in ("file", "cancel"):
        if query is not None:
            await query.answer(context.tr._("This button is no longer valid."), show_alert=True)
        return CONFIRM
    await query.answer()
    if data.args[0] == "cancel":
        return await cancel(update, context)
    caller, runtime, tr, form = require_caller(context), context.runtime, context.tr, _form(context)
    number = int(form["incident"])
    async with runtime.database.transaction() as session:
        incident = await incidents.get(session, number)
        refusal = reports.may_start(incident, form["kind"]) if incident else "closed"
        if incident is None or refusal is not None:
            reply_in(
                session, update, context, tr._(REFUSALS[refusal or "closed"]).format(number=number)
            )
        else:
            report = await reports.submit(
                session,
                incident,
                form["kind"],
                form["fields"],
                caller.person,
                runtime.now(),
                runtime.settings,
            )
            if report.state == "filed":
                await deliver_upward(session, runtime, incident, report)
                reply_in(
                    session,
                    update,
                    context,
                    tr._("{title} for #{number} is filed.").format(
                        title=title(tr, report.kind, report.number), number=number
                    ),
                )
            else:
                leaders = await ask_signoff(session, runtime, incident, report)
                reply_in(
                    session,
                    update,
                    context,
                    tr._("{title} for #{number} is waiting for sign-off by {names}.").format(
                        title=title(tr, report.kind, report.number),
                        number=number,
                        names=", ".join(leaders) or tr._("the leader on duty"),
                    ),
                )
    runtime.outbox_committed()
    _end(context)
    return ConversationHandler.END


async def cancel(update: Update, context: DutyContext) -> int:
    """Leave the form; nothing is filed."""
    _end(context)
    await reply(update, context, context.tr._("Report cancelled; nothing was filed."))
    return ConversationHandler.END


async def reask(update: Update, context: DutyContext) -> None:
    """Something that does not answer the current question."""
    await reply(
        update,
        context,
        context.tr._("Please answer the question above (or /cancel to stop the report)."),
    )


def _leaders_on_duty(runtime: Runtime, unit_id: str) -> list[str]:
    return list(runtime.roster.holders(unit_id, "leader", runtime.now()))


async def _send(
    session: AsyncSession,
    runtime: Runtime,
    people: list[str],
    render: Any,
    priority: int,
    markup: Any = None,
) -> list[str]:
    accounts = await telegram_ids(session, runtime.roster)
    langs = await languages(session, runtime.roster, people, runtime.settings.language)
    sent = []
    for person in dict.fromkeys(people):
        chat = accounts.get(person)
        if chat is None:
            continue
        tr = translator(langs[person])
        enqueue(
            session,
            chat,
            render(tr),
            person_id=person,
            priority=priority,
            reply_markup=markup(tr) if markup else None,
        )
        sent.append(person)
    return sent


async def ask_signoff(
    session: AsyncSession, runtime: Runtime, incident: IncidentRow, report: OfficialReport
) -> list[str]:
    """Send the report to the unit's leader on duty with Approve / Send back."""
    author = runtime.roster.people[report.author_id].name
    leaders = (
        _leaders_on_duty(runtime, incident.unit_id)
        or [
            p
            for a in runtime.roster.ancestors(incident.unit_id)
            for p in runtime.roster.holders(a, "leader", runtime.now())
        ][:1]
    )

    def render(tr: Translator) -> str:
        return (
            "✍️ "
            + tr._("Sign-off needed")
            + "\n"
            + report_text(
                tr, runtime, incident, report.kind, report.number, report.fields, author=author
            )
        )

    def markup(tr: Translator) -> dict[str, Any]:
        return {
            "inline_keyboard": [
                [
                    {
                        "text": "✅ " + tr._("Approve"),
                        "callback_data": callback_data.encode("apr", str(report.id)),
                    },
                    {
                        "text": "↩️ " + tr._("Send back"),
                        "callback_data": callback_data.encode("sbk", str(report.id)),
                    },
                ]
            ]
        }

    sent = await _send(session, runtime, leaders, render, priority_of(incident), markup)
    record_event(
        session,
        at=runtime.now(),
        kind="report.signoff_requested",
        subject=subject(incident.id),
        report=report.id,
        leaders=sent,
    )
    return [runtime.roster.people[p].name for p in sent]


def upward(runtime: Runtime, incident: IncidentRow) -> list[str]:
    """Who receives a filed report: the unit's leader on duty, the parent unit's officer and
    leader, and — for the levels in ``direct_to_root`` — the root's officer and leader."""
    roster, now = runtime.roster, runtime.now()
    people = list(roster.holders(incident.unit_id, "leader", now))
    parent = roster.units[incident.unit_id].parent
    if parent is not None:
        for position in ("officer", "leader"):
            people += roster.holders(parent, position, now)
    direct = runtime.settings.report_direct_to_root
    if incident.level in direct or (incident.sensitive and "sensitive" in direct):
        for position in ("officer", "leader"):
            people += roster.holders(roster.root.id, position, now)
    return list(dict.fromkeys(people))


async def deliver_upward(
    session: AsyncSession, runtime: Runtime, incident: IncidentRow, report: OfficialReport
) -> None:
    """A filed report goes up the chain; a final report also tells the reporter it is closed."""
    author = runtime.roster.people[report.author_id].name
    readers = [p for p in upward(runtime, incident) if p != report.author_id]
    sent = await _send(
        session,
        runtime,
        readers,
        lambda tr: report_text(
            tr,
            runtime,
            incident,
            report.kind,
            report.number,
            report.fields,
            author=author,
            filed=report,
        ),
        priority_of(incident),
    )
    record_event(
        session,
        at=runtime.now(),
        kind="report.delivered",
        subject=subject(incident.id),
        report=report.id,
        to=sent,
    )
    if report.kind == "final":
        await tell(
            session,
            runtime,
            incident.reporter_id,
            lambda tr: tr._("Your report #{number} is closed: the final report was filed.").format(
                number=incident.id
            ),
        )


async def signoff_button(update: Update, context: DutyContext) -> None:
    """Approve (the report is filed) or Send back (asks the reason)."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    report_id = parse_number(data.args[0]) if data else None
    if query is None or data is None or report_id is None:
        if query is not None:
            await query.answer(context.tr._("This button is no longer valid."), show_alert=True)
        return
    if data.action == "sbk":
        if context.user_data is not None:
            context.user_data["pending"] = {
                "action": "send_back",
                "incident": 0,
                "report": report_id,
            }
            context.persist_now = True
        await query.answer()
        await reply(
            update,
            context,
            context.tr._("Send the reason for sending the report back (or /cancel)."),
        )
        return
    await decide(update, context, report_id, approve=True, reason="")


async def decide(
    update: Update, context: DutyContext, report_id: int, *, approve: bool, reason: str
) -> None:
    """The leader's decision on a report waiting for sign-off."""
    caller, runtime, tr = require_caller(context), context.runtime, context.tr
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        report = await reports.claim_signoff(session, report_id)
        incident = await incidents.get(session, report.incident_id) if report else None
        if report is None or incident is None:
            answer.say(session, tr._("This report is no longer waiting for sign-off."))
        elif not (
            caller.has_role("leader", "supervisor")
            and (
                may_handle(runtime.roster, caller.person, incident.unit_id, runtime.now())
                or caller.person.unit in runtime.roster.ancestors(incident.unit_id)
            )
        ):
            report.state = "awaiting_signoff"
            answer.say(session, tr._("Only the leader on duty can sign this report off."))
        elif approve:
            await reports.file(
                session, incident, report, runtime.now(), runtime.settings, approver=caller.person
            )
            await deliver_upward(session, runtime, incident, report)
            await tell(
                session,
                runtime,
                report.author_id,
                lambda t: t._("{name} approved your {title} for #{number}; it is filed.").format(
                    name=caller.person.name,
                    title=title(t, report.kind, report.number),
                    number=incident.id,
                ),
            )
            answer.say(
                session,
                tr._("Approved: {title} for #{number} is filed.").format(
                    title=title(tr, report.kind, report.number), number=incident.id
                ),
            )
        else:
            await reports.send_back(session, report, caller.person, reason, runtime.now())
            await tell(
                session,
                runtime,
                report.author_id,
                lambda t: t._(
                    "{name} sent your {title} for #{number} back: {reason}\nRewrite it with "
                    "/{command} {number}."
                ).format(
                    name=caller.person.name,
                    title=title(t, report.kind, report.number),
                    number=incident.id,
                    reason=reason,
                    command=report.kind,
                ),
            )
            answer.say(session, tr._("Sent back to its author."))
    await answer.finish()


async def send_back_with_reason(update: Update, context: DutyContext, text: str) -> None:
    """The reason a leader gives for sending a report back (asked for by the button)."""
    pending = (context.user_data or {}).get("pending") or {}
    if not text.strip() or len(text) > MAX_FIELD:
        await reply(
            update,
            context,
            context.tr._("Please send a reason of at most {limit} characters (or /cancel).").format(
                limit=MAX_FIELD
            ),
        )
        return
    if context.user_data is not None:
        context.user_data.pop("pending", None)
        context.persist_now = True
    await decide(update, context, int(pending.get("report", 0)), approve=False, reason=text.strip())


def conversation() -> ConversationHandler[Any]:
    """The official-report form, persistent under the name ``official``."""
    text = filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        return ConversationHandler(
            entry_points=[CommandHandler(list(reports.KINDS), start)],
            states={
                FIELD: [
                    MessageHandler(text, got_field),
                    CallbackQueryHandler(got_field, pattern=r"^1:ofk$"),
                ],
                CONFIRM: [CallbackQueryHandler(confirmed, pattern=r"^1:ofy:")],
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, reask),
            ],
            name=FORM,
            persistent=True,
            allow_reentry=True,
        )
