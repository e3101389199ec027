"""What supervisors read (SPEC §3.5): the ``/status`` pages, the incident card with its
timeline, the ``/overdue`` list, the bulletin's text and chart labels. Functions of a
``Translator``; button markups are plain dicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import callback_data
from bot.db.models import Deadline, Event, IncidentRow, OfficialReport
from bot.escalation.messaging import lateness, what
from bot.i18n import N_, Translator
from bot.incidents.messaging import LEVEL_NAMES, alert_text, state_name
from bot.render import inline_quoted, local_time
from bot.reports.messaging import title
from bot.runtime import Runtime
from bot.supervision.service import (
    LEVEL_ORDER,
    StatusCounts,
    StatusKey,
    UnitFigures,
    Watched,
)

PAGE = 3500  # characters per /status page: well under Telegram's 4096
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
DEADLINE_STATES = {
    "met": N_("met"),
    "pending": N_("pending"),
    "fired": N_("missed"),
    "cancelled": N_("cancelled"),
}


def watch_refusal(tr: Translator) -> str:
    """The answer to someone who may not watch a scope (``/status``, ``/overdue``,
    ``/bulletin``)."""
    return tr._("This is for supervisors and leaders on duty. /myreports lists your own reports.")


# --- the timeline ------------------------------------------------------------------------


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
        "note": inline_quoted(event.note) if event.note else "",
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


# --- /status -----------------------------------------------------------------------------


def _assignee(tr: Translator, runtime: Runtime, incident: IncidentRow) -> str:
    assignee = runtime.roster.people.get(incident.assignee_id or "")
    return assignee.name if assignee else tr._("nobody yet")


def due_text(tr: Translator, runtime: Runtime, watched: Watched) -> str:
    """What is due next on a watched incident, and whether it is late."""
    deadline = watched.next_due
    if deadline is None:
        return tr._("nothing due")
    due = local_time(deadline.due_at, runtime.settings.timezone)
    if deadline.state == "fired":
        return tr._("{what} was due {time}, late by {late}").format(
            what=what(tr, deadline), time=due, late=lateness(runtime.now() - deadline.due_at, tr)
        )
    return tr._("{what} due {time}").format(what=what(tr, deadline), time=due)


def status_line(tr: Translator, runtime: Runtime, row: Watched) -> str:
    """One incident of ``/status``: colour, number, summary, unit, state, assignee, next due."""
    incident = row.incident
    return (
        f"{row.colour} #{incident.id} {incident.summary[:60]} · "
        f"{runtime.roster.units[incident.unit_id].name} · {state_name(tr, incident.state)} · "
        f"{_assignee(tr, runtime, incident)} · {due_text(tr, runtime, row)}"
    )


def _status_lines(
    tr: Translator,
    runtime: Runtime,
    rows: Sequence[Watched],
    counts: StatusCounts | None,
    page: int,
) -> list[tuple[str, int]]:
    """The page's lines, each with how many incidents are listed up to and including it."""
    if counts is not None:
        head = tr._("Open incidents: {total} — 🔴 {red} · 🟡 {yellow} · 🔵 {blue}").format(
            total=counts.total, red=counts.red, yellow=counts.yellow, blue=counts.blue
        )
    else:
        head = tr._("Open incidents, page {page}").format(page=page)
    lines, level = [(head, 0)], None
    for n, row in enumerate(rows, 1):
        if row.incident.level != level:
            level = row.incident.level
            lines += [("", n - 1), (f"— {tr._(LEVEL_NAMES[level])} —", n - 1)]
        lines.append((status_line(tr, runtime, row), n))
    return lines


def status_fit(tr: Translator, runtime: Runtime, rows: Sequence[Watched], first: bool) -> int:
    """How many of ``rows`` fit on one ``/status`` page under Telegram's limit (at least one)."""
    counts = StatusCounts(10**9, 10**9, 10**9, 10**9) if first else None
    size, fitted = 0, 0
    for line, listed in _status_lines(tr, runtime, rows, counts, 10**9):
        size += len(line) + 1
        if size > PAGE:
            break
        fitted = listed
    return max(1, fitted) if rows else 0


def status_text(
    tr: Translator,
    runtime: Runtime,
    rows: Sequence[Watched],
    counts: StatusCounts | None,
    page: int,
    next_key: StatusKey | None,
) -> tuple[str, dict[str, Any] | None]:
    """One ``/status`` page, with a Next page button carrying where the next page starts."""
    lines = [line for line, _ in _status_lines(tr, runtime, rows, counts, page)]
    if not rows and counts is not None:
        lines.append(tr._("Nothing open."))
    if next_key is None:
        return "\n".join(lines), None
    key = f"{page + 1}.{next_key.rank}.{next_key.incident_id}"
    button = {"text": tr._("Next page ▶"), "callback_data": callback_data.encode("stp", key)}
    return "\n".join(lines), {"inline_keyboard": [[button]]}


def parse_status_key(arg: str) -> tuple[int, StatusKey] | None:
    """A Next page button's ``page.rank.number``, or ``None`` when it is not one."""
    parts = arg.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    page, rank, number = (int(p) for p in parts)
    if not 0 <= rank < len(LEVEL_ORDER) or page < 2:
        return None
    return page, StatusKey(rank, number)


# --- /overdue ----------------------------------------------------------------------------


def overdue_text(
    tr: Translator,
    runtime: Runtime,
    rows: list[tuple[IncidentRow, Deadline]],
    count: int | None,
    page: int = 1,
    next_after: int | None = None,
) -> tuple[str, dict[str, Any] | None]:
    """One page of the late or overdue deadlines in scope, worst first, with a Next page button
    carrying the last deadline shown."""
    if count is not None:
        lines = [tr._("Overdue: {count}").format(count=count)]
    else:
        lines = [tr._("Overdue, page {page}").format(page=page)]
    tz = runtime.settings.timezone
    for incident, deadline in rows:
        lines.append(
            tr._(
                "#{number} {summary}: {what} was due {due}, late by {late} · {unit} · {who}"
            ).format(
                number=incident.id,
                summary=incident.summary[:50],
                what=what(tr, deadline),
                due=local_time(deadline.due_at, tz),
                late=lateness(runtime.now() - deadline.due_at, tr),
                unit=runtime.roster.units[incident.unit_id].name,
                who=_assignee(tr, runtime, incident),
            )
        )
    if not rows and count is not None:
        lines.append(tr._("Nothing is late."))
    if next_after is None:
        return "\n".join(lines), None
    button = {
        "text": tr._("Next page ▶"),
        "callback_data": callback_data.encode("ovp", f"{page + 1}.{next_after}"),
    }
    return "\n".join(lines), {"inline_keyboard": [[button]]}


def parse_overdue_key(arg: str) -> tuple[int, int] | None:
    """A Next page button's ``page.deadline``, or ``None`` when it is not one."""
    parts = arg.split(".")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    page, after = int(parts[0]), int(parts[1])
    return (page, after) if page >= 2 else None


# --- /incident ---------------------------------------------------------------------------


def incident_usage(tr: Translator) -> str:
    """How ``/incident`` is used."""
    return tr._("Usage: /incident <number>, for example /incident 17")


def incident_missing(tr: Translator, number: int) -> str:
    """The answer when the incident does not exist (to someone who may see every unit)."""
    return tr._("There is no incident #{number}.").format(number=number)


def incident_hidden(tr: Translator, number: int) -> str:
    """The answer when the reader may not see the incident (or it does not exist)."""
    return tr._("#{number} is outside what you may see.").format(number=number)


def incident_card(
    tr: Translator,
    runtime: Runtime,
    incident: IncidentRow,
    deadlines: Sequence[Deadline],
    reports: Sequence[OfficialReport],
    events: Sequence[Event],
) -> str:
    """The full card of an incident with deadlines, reports filed and the timeline."""
    tz = runtime.settings.timezone
    lines = [
        alert_text(tr, incident, runtime.roster, runtime.settings),
        "",
        tr._("State: {state}; responsible: {name}").format(
            state=state_name(tr, incident.state), name=_assignee(tr, runtime, incident)
        ),
    ]
    if incident.closed_reason and incident.state == "dismissed":
        reason = inline_quoted(incident.closed_reason)
        lines.append(tr._("Reason: {reason}").format(reason=reason))
    if deadlines:
        lines += ["", tr._("Deadlines:")]
        for row in deadlines:
            late = ""
            if row.late:
                end = row.met_at or runtime.now()
                late = " · " + tr._("LATE by {late}").format(late=lateness(end - row.due_at, tr))
            state = tr._(DEADLINE_STATES[row.state])
            lines.append(f"• {what(tr, row)}: {local_time(row.due_at, tz)} · {state}{late}")
    if reports:
        lines += ["", tr._("Reports filed:")]
        for report in reports:
            filed = local_time(report.filed_at, tz) if report.filed_at else "?"
            status = tr._("LATE") if report.late else tr._("on time")
            lines.append(f"• {title(tr, report.kind, report.number)}: {filed} ({status})")
    lines += ["", tr._("Timeline:")] + [event_line(tr, runtime, e) for e in events]
    return "\n".join(lines)


# --- the bulletin ------------------------------------------------------------------------


def bulletin_usage(tr: Translator) -> str:
    """How ``/bulletin`` is used."""
    return tr._("Usage: /bulletin [day|week]")


def bulletin_caption(tr: Translator) -> str:
    """The caption of the bulletin's chart."""
    return tr._("Bulletin")


def bulletin_text(
    tr: Translator, runtime: Runtime, figures: list[UnitFigures], start: datetime, end: datetime
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


def bulletin_chart(tr: Translator, runtime: Runtime, figures: list[UnitFigures]) -> bytes:
    """Initial reports on time vs late per unit, as a PNG with labels in the reader's
    language."""
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
