"""The supervisor's view (SPEC §3.5): ``/status``, ``/incident``, ``/overdue``, ``/bulletin``,
and the daily bulletin posted by the deadline engine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callback_data
from bot.db.models import Deadline, Event, IncidentRow, OfficialReport
from bot.delivery.outbox import enqueue, enqueue_photo
from bot.directory import languages, telegram_ids
from bot.escalation.scheduled import lateness, what
from bot.i18n import N_, Translator, translator
from bot.incidents import service as incidents
from bot.incidents.messaging import LEVEL_NAMES, alert_text, state_name
from bot.incidents.service import may_handle
from bot.parsing import parse_number
from bot.render import local_time
from bot.roster import Person
from bot.runtime import Runtime
from bot.supervision import service as supervision
from handlers.common.context import DutyContext, require_caller
from handlers.common.respond import reply, reply_in
from handlers.official import title
from scheduling.rows import PENDING, add

PAGE = 3500
BULLETIN = "bulletin"
EVENT_TEXT = {
    "incident.reported": N_("reported by {actor}"),
    "incident.alerted": N_("alert sent to {people}"),
    "incident.accepted": N_("accepted by {actor}"),
    "incident.transferred": N_("transferred from {old} to {new} by {actor}: {note}"),
    "incident.dismissed": N_("dismissed by {actor}: {note}"),
    "incident.merged": N_("merged into #{into} by {actor}"),
    "incident.duplicate_linked": N_("#{duplicate} was merged into this incident"),
    "incident.info_added": N_("information added by {actor}: {note}"),
    "incident.level_changed": N_("level changed from {old} to {new} by {actor}"),
    "incident.taken_over": N_("taken over by {actor}"),
    "incident.sensitive": N_("sensitive: {new} (by {actor})"),
    "incident.drill": N_("drill: {new} (by {actor})"),
    "routing.gap": N_("nobody in officer or backup: alerted {alerted}"),
    "deadline.missed": N_("deadline missed: {what} (due {due})"),
    "deadline.warned": N_("reminder sent to {person}"),
    "escalation.started": N_("escalation started"),
    "escalation.rung": N_("escalation, rung {rung}: told {told}"),
    "escalation.stopped": N_("escalation stopped by {actor}"),
    "escalation.empty": N_("escalation: nobody on the chain"),
    "report.written": N_("report written by {actor}"),
    "report.signoff_requested": N_("sign-off requested from {leaders}"),
    "report.sent_back": N_("report sent back by {actor}: {note}"),
    "report.filed": N_("report filed ({late})"),
    "report.delivered": N_("report delivered to {to}"),
}


def _names(runtime: Runtime, ids: Sequence[str] | None) -> str:
    people = runtime.roster.people
    return ", ".join(people[i].name if i in people else i for i in ids or []) or "—"


def event_line(tr: Translator, runtime: Runtime, event: Event) -> str:
    """One timeline entry: local time, and what happened in the reader's language."""
    data: dict[str, Any] = dict(event.data)
    people = runtime.roster.people
    values = {
        "actor": people[event.actor_id].name
        if event.actor_id in people
        else (event.actor_id or "dutybot"),
        "note": event.note or "",
        "people": _names(runtime, data.get("people")),
        "alerted": _names(runtime, data.get("alerted")),
        "told": _names(runtime, data.get("told")),
        "leaders": _names(runtime, data.get("leaders")),
        "to": _names(runtime, data.get("to")),
        "person": _names(runtime, [data["person"]] if data.get("person") else []),
        "old": data.get("old", ""),
        "new": data.get("new", ""),
        "into": data.get("into", ""),
        "duplicate": data.get("duplicate", ""),
        "rung": int(data.get("rung", 0)) + 1,
        "what": data.get("what", ""),
        "late": tr._("LATE") if data.get("late") else tr._("on time"),
        "due": local_time(datetime.fromisoformat(data["due"]), runtime.settings.timezone)
        if data.get("due")
        else "",
    }
    template = EVENT_TEXT.get(event.kind)
    text = tr._(template).format(**values) if template else event.kind
    if event.kind == "escalation.rung" and data.get("skipped"):
        text += " · " + tr._("skipped: {people}").format(people=_names(runtime, data["skipped"]))
    return f"{local_time(event.at, runtime.settings.timezone)} · {text}"


def _scope(context: DutyContext) -> tuple[Person, list[str] | None]:
    caller, runtime = require_caller(context), context.runtime
    return caller.person, supervision.scope_of(runtime.roster, caller.person, runtime.now())


async def _refuse(update: Update, context: DutyContext) -> None:
    await reply(
        update,
        context,
        context.tr._(
            "This is for supervisors and leaders on duty. /myreports lists your own reports."
        ),
    )


def _due_text(tr: Translator, runtime: Runtime, watched: supervision.Watched) -> str:
    deadline = watched.next_due
    if deadline is None:
        return tr._("nothing due")
    due = local_time(deadline.due_at, runtime.settings.timezone)
    if deadline.state == "fired":
        return tr._("{what} was due {time}, late by {late}").format(
            what=what(tr, deadline), time=due, late=lateness(runtime.now() - deadline.due_at)
        )
    return tr._("{what} due {time}").format(what=what(tr, deadline), time=due)


async def status_pages(context: DutyContext, units: list[str]) -> list[str]:
    """The open incidents in scope, grouped by level, as pages under Telegram's limit."""
    tr, runtime = context.tr, context.runtime
    async with runtime.database.sessions() as session:
        rows = await supervision.watched(session, runtime.settings, units, runtime.now())
    counts = {
        c: sum(1 for r in rows if r.colour == c)
        for c in (supervision.RED, supervision.YELLOW, supervision.BLUE)
    }
    header = tr._("Open incidents: {total} — 🔴 {red} · 🟡 {yellow} · 🔵 {blue}").format(
        total=len(rows),
        red=counts[supervision.RED],
        yellow=counts[supervision.YELLOW],
        blue=counts[supervision.BLUE],
    )
    lines = [header]
    level = None
    for row in rows:
        incident = row.incident
        if incident.level != level:
            level = incident.level
            lines += ["", f"— {tr._(LEVEL_NAMES[level])} —"]
        assignee = runtime.roster.people.get(incident.assignee_id or "")
        lines.append(
            f"{row.colour} #{incident.id} {incident.summary[:60]} · "
            f"{runtime.roster.units[incident.unit_id].name} · {state_name(tr, incident.state)} · "
            f"{assignee.name if assignee else tr._('nobody yet')} · {_due_text(tr, runtime, row)}"
        )
    if not rows:
        lines.append(tr._("Nothing open."))
    pages, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > PAGE:
            pages.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    pages.append(current)
    return pages


async def _send_status_page(update: Update, context: DutyContext, page: int) -> None:
    _, units = _scope(context)
    if units is None:
        await _refuse(update, context)
        return
    pages = await status_pages(context, units)
    page = max(1, min(page, len(pages)))
    text = pages[page - 1]
    markup = None
    if len(pages) > 1:
        text = f"({page}/{len(pages)})\n" + text
        if page < len(pages):
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            context.tr._("Next page ▶ ({page}/{pages})").format(
                                page=page + 1, pages=len(pages)
                            ),
                            callback_data=callback_data.encode("stp", str(page + 1)),
                        )
                    ]
                ]
            )
    await reply(update, context, text, reply_markup=markup)


async def status(update: Update, context: DutyContext) -> None:
    """``/status``: what is open in my scope, by level, with colours."""
    await _send_status_page(update, context, 1)


async def status_button(update: Update, context: DutyContext) -> None:
    """The next page of ``/status``."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    page = parse_number(data.args[0]) if data else None
    if query is None:
        return
    if page is None:
        await query.answer(context.tr._("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await _send_status_page(update, context, page)


async def overdue_command(update: Update, context: DutyContext) -> None:
    """``/overdue``: every late or overdue deadline in my scope, worst first."""
    _, units = _scope(context)
    tr, runtime = context.tr, context.runtime
    if units is None:
        await _refuse(update, context)
        return
    async with runtime.database.sessions() as session:
        rows = await supervision.overdue(session, runtime.settings, units, runtime.now())
    lines = [tr._("Overdue: {count}").format(count=len(rows))]
    tz = runtime.settings.timezone
    for incident, deadline in rows:
        assignee = runtime.roster.people.get(incident.assignee_id or "")
        lines.append(
            tr._(
                "#{number} {summary}: {what} was due {due}, late by {late} · {unit} · {who}"
            ).format(
                number=incident.id,
                summary=incident.summary[:50],
                what=what(tr, deadline),
                due=local_time(deadline.due_at, tz),
                late=lateness(runtime.now() - deadline.due_at),
                unit=runtime.roster.units[incident.unit_id].name,
                who=assignee.name if assignee else tr._("nobody yet"),
            )
        )
    if not rows:
        lines.append(tr._("Nothing is late."))
    await reply(update, context, "\n".join(lines))


async def incident_command(update: Update, context: DutyContext) -> None:
    """``/incident <#>``: the card, what is due, reports filed, and the whole timeline."""
    caller, runtime, tr = require_caller(context), context.runtime, context.tr
    args = context.args or []
    number = parse_number(args[0]) if args else None
    if number is None:
        await reply(update, context, tr._("Usage: /incident <number>, for example /incident 17"))
        return
    async with runtime.database.sessions() as session:
        incident = await incidents.get(session, number)
        if incident is None:
            await reply(
                update, context, tr._("There is no incident #{number}.").format(number=number)
            )
            return
        scope = supervision.scope_of(runtime.roster, caller.person, runtime.now()) or []
        if not (
            incident.unit_id in scope
            or incident.reporter_id == caller.person.id
            or incident.assignee_id == caller.person.id
            or may_handle(runtime.roster, caller.person, incident.unit_id, runtime.now())
        ):
            await reply(
                update,
                context,
                tr._("#{number} is outside what you may see.").format(number=number),
            )
            return
        text = await incident_text(session, tr, runtime, incident)
    await reply(update, context, text)


async def incident_text(
    session: AsyncSession, tr: Translator, runtime: Runtime, incident: IncidentRow
) -> str:
    """The full card of an incident with deadlines, reports and timeline."""
    tz = runtime.settings.timezone
    assignee = runtime.roster.people.get(incident.assignee_id or "")
    lines = [
        alert_text(tr, incident, runtime.roster, runtime.settings),
        "",
        tr._("State: {state}; responsible: {name}").format(
            state=state_name(tr, incident.state),
            name=assignee.name if assignee else tr._("nobody yet"),
        ),
    ]
    if incident.closed_reason:
        lines.append(tr._("Reason: {reason}").format(reason=incident.closed_reason))
    deadlines = list(
        await session.scalars(
            select(Deadline)
            .where(
                Deadline.incident_id == incident.id,
                Deadline.kind.in_(("accept", "initial_report", "followup", "final")),
            )
            .order_by(Deadline.id)
        )
    )
    if deadlines:
        lines += ["", tr._("Deadlines:")]
        for row in deadlines:
            state = {
                "met": tr._("met"),
                "pending": tr._("pending"),
                "fired": tr._("missed"),
                "cancelled": tr._("cancelled"),
            }[row.state]
            late = ""
            if row.late:
                end = row.met_at or runtime.now()
                late = " · " + tr._("LATE by {late}").format(late=lateness(end - row.due_at))
            lines.append(f"• {what(tr, row)}: {local_time(row.due_at, tz)} · {state}{late}")
    reports = list(
        await session.scalars(
            select(OfficialReport)
            .where(OfficialReport.incident_id == incident.id, OfficialReport.state == "filed")
            .order_by(OfficialReport.id)
        )
    )
    if reports:
        lines += ["", tr._("Reports filed:")]
        for report in reports:
            filed = local_time(report.filed_at, tz) if report.filed_at else "?"
            status = tr._("LATE") if report.late else tr._("on time")
            lines.append(f"• {title(tr, report.kind, report.number)}: {filed} ({status})")
    events = list(
        await session.scalars(
            select(Event).where(Event.subject == f"incident:{incident.id}").order_by(Event.id)
        )
    )
    lines += ["", tr._("Timeline:")] + [event_line(tr, runtime, e) for e in events]
    return "\n".join(lines)


# --- the bulletin ------------------------------------------------------------------------


def period(kind: str, now: datetime) -> tuple[datetime, datetime]:
    """The day (the last 24 hours) or the week (the last 7 days) before ``now``."""
    return now - (timedelta(days=7) if kind == "week" else timedelta(days=1)), now


def bulletin_text(
    tr: Translator,
    runtime: Runtime,
    figures: list[supervision.UnitFigures],
    start: datetime,
    end: datetime,
) -> str:
    """The bulletin (定期通报) as text."""
    tz = runtime.settings.timezone
    lines = [
        "📊 "
        + tr._("Duty bulletin {start} – {end}").format(
            start=local_time(start, tz), end=local_time(end, tz)
        )
    ]
    for line in figures:
        median = f"{line.median_accept:.0f}" if line.median_accept is not None else "—"
        worst = f"{line.worst_accept:.0f}" if line.worst_accept is not None else "—"
        lines += [
            "",
            runtime.roster.units[line.unit].name,
            tr._(
                "received {received} · minutes to accept: median {median}, worst {worst} · initial "
                "reports on time {on_time}, late {late} · follow-ups missed {missed} · open {open}"
            ).format(
                received=line.received,
                median=median,
                worst=worst,
                on_time=line.initial_on_time,
                late=line.initial_late,
                missed=line.followups_missed,
                open=line.open_items,
            ),
        ]
    lines += ["", tr._("Drills are not counted.")]
    return "\n".join(lines)


def bulletin_chart(
    tr: Translator, runtime: Runtime, figures: list[supervision.UnitFigures]
) -> bytes:
    """Initial reports on time vs late per unit."""
    # matplotlib and numpy weigh some 40 MB: load them only when a chart is drawn
    from bot.chart import on_time_chart

    return on_time_chart(
        [runtime.roster.units[f.unit].name for f in figures],
        [f.initial_on_time for f in figures],
        [f.initial_late for f in figures],
        title=tr._("Initial reports"),
        on_time_label=tr._("on time"),
        late_label=tr._("late"),
    )


async def bulletin_command(update: Update, context: DutyContext) -> None:
    """``/bulletin [day|week]``: the bulletin for my scope, with its chart."""
    _, units = _scope(context)
    tr, runtime = context.tr, context.runtime
    if units is None:
        await _refuse(update, context)
        return
    args = context.args or []
    kind = args[0].lower() if args else "day"
    if kind not in ("day", "week"):
        await reply(update, context, tr._("Usage: /bulletin [day|week]"))
        return
    start, end = period(kind, runtime.now())
    async with runtime.database.transaction() as session:
        figures = await supervision.bulletin(session, units, start, end)
        chat = update.effective_chat
        assert chat is not None
        reply_in(session, update, context, bulletin_text(tr, runtime, figures, start, end))
        enqueue_photo(session, chat.id, bulletin_chart(tr, runtime, figures), tr._("Bulletin"))
    runtime.outbox_committed()


def next_bulletin_at(runtime: Runtime, after: datetime) -> datetime:
    """The next ``bulletin.daily_at`` (local) after ``after``."""
    tz = runtime.settings.timezone
    local = after.astimezone(tz)
    moment: time = runtime.settings.bulletin_daily_at
    candidate = datetime.combine(local.date(), moment, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), moment, tzinfo=tz)
    return candidate.astimezone(after.tzinfo)


async def ensure_daily_bulletin(runtime: Runtime) -> None:
    """The daily post is a deadline row like any other: create it if none is pending."""
    async with runtime.database.transaction() as session:
        if runtime.database.is_postgresql:  # two processes starting at once book it once
            await session.execute(text("SELECT pg_advisory_xact_lock(7301001)"))
        pending = await session.scalar(
            select(Deadline.id).where(Deadline.kind == BULLETIN, Deadline.state == PENDING).limit(1)
        )
        if pending is None:
            add(session, None, BULLETIN, next_bulletin_at(runtime, runtime.now()))


def bulletin_firer(runtime: Runtime) -> Any:
    """Post the bulletin to every supervisor (their scope), then book the next one."""

    async def fire(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        start, end = deadline.due_at - timedelta(days=1), deadline.due_at
        supervisors = [p for p in runtime.roster.people.values() if "supervisor" in p.roles]
        accounts = await telegram_ids(session, runtime.roster)
        langs = await languages(
            session, runtime.roster, [p.id for p in supervisors], runtime.settings.language
        )
        for person in supervisors:
            chat = accounts.get(person.id)
            if chat is None:
                continue
            units = runtime.roster.descendants(person.unit)
            figures = await supervision.bulletin(session, units, start, end)
            tr = translator(langs[person.id])
            enqueue(
                session, chat, bulletin_text(tr, runtime, figures, start, end), person_id=person.id
            )
            enqueue_photo(
                session,
                chat,
                bulletin_chart(tr, runtime, figures),
                tr._("Bulletin"),
                person_id=person.id,
            )
        add(session, None, BULLETIN, next_bulletin_at(runtime, max(now, deadline.due_at)))

    return fire
