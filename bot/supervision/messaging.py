"""What supervisors read (SPEC §3.5): the ``/status`` pages, the incident card with its
timeline, the ``/overdue`` list, the bulletin's text and chart labels. Functions of a
``Translator``; button markups are plain dicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import callback_data
from bot.db.models import Deadline, DirectiveRow, Event, IncidentRow, OfficialReport
from bot.directives.listing import line as directive_line
from bot.escalation.messaging import lateness, what
from bot.i18n import N_, Translator, translator
from bot.incidents.messaging import LEVEL_NAMES, alert_text, state_name
from bot.render import inline_quoted, local_time
from bot.reports.messaging import title
from bot.runtime import Runtime
from bot.supervision.figures import MINUTES, TABLES, Bulletin, Figure, Value
from bot.supervision.service import (
    COUNT_CAP,
    LEVEL_ORDER,
    StatusCounts,
    StatusKey,
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
    "report.flash": N_("flash report by {actor}: {note}"),
    "report.rereported": N_("level raised: last report sent again to {to}"),
    "report.received": N_("report received (签收) by {actor}"),
    "report.receipt_reminded": N_("receipt reminder sent to {to}"),
    "incident.change_requested": N_("{actor} asked the leader on duty: {what}"),
    "incident.change_approved": N_("request approved by {actor}"),
    "incident.change_refused": N_("request refused by {actor}"),
    "incident.casualties_rose": N_("casualties rose (added by {actor}): a follow-up falls due"),
    "escalation.pressed": N_("pressed (催办) by {actor}: told {told}"),
    "incident.instructed": N_("instruction (批示) by {actor}: {directive}"),
}
CHANGE_WHAT = {
    "dismiss": N_("dismiss"),
    "level": N_("lower the level"),
    "drill": N_("mark as a drill"),
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


def _value(tr: Translator, runtime: Runtime, value: object) -> str:
    """An old or new value of a change as the reader knows it: a level's, a state's or a unit's
    name, yes or no — never the internal value."""
    if isinstance(value, bool):
        return tr._("yes") if value else tr._("no")
    text = str(value) if value is not None else ""
    if text in LEVEL_NAMES:
        return tr._(LEVEL_NAMES[text])
    if text in runtime.roster.units:
        return runtime.roster.units[text].name
    if text in ("reported", "accepted", "initial_reported", "closed", "merged", "dismissed"):
        return state_name(tr, text)
    return text


KIND_OF_DEADLINE = {
    "accept": "accept",
    "flash_report": "flash_report",
    "initial_report": "initial_report",
    "followup": "followup",
    "final": "final",
    "initial": "initial_report",
    "flash": "flash_report",
}


def _what(tr: Translator, kind: str, value: object) -> str:
    """What a deadline or a report was, in words."""
    if not isinstance(value, str) or not value:
        return ""
    if kind == "incident.change_requested":
        return tr._(CHANGE_WHAT.get(value, value))
    deadline = KIND_OF_DEADLINE.get(value)
    if deadline is None:
        return value
    return what(tr, Deadline(kind=deadline, sequence=None))


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
        "old": _value(tr, runtime, data.get("old", "")),
        "new": _value(tr, runtime, data.get("new", "")),
        "into": data.get("into", ""),
        "directive": f"D{data['directive']}" if data.get("directive") else "",
        "duplicate": data.get("duplicate", ""),
        "rung": int(data.get("rung", 0)) + 1,
        "what": _what(tr, event.kind, data.get("what")),
        "late": tr._("LATE") if data.get("late") else tr._("on time"),
        "due": local_time(datetime.fromisoformat(data["due"]), runtime.settings.timezone)
        if data.get("due")
        else "",
    }
    template = EVENT_TEXT.get(event.kind)
    text = tr._(template).format(**values) if template else tr._("other change")
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


def count_text(count: int) -> str:
    """A ``/status`` count as shown: exact below ``COUNT_CAP``, "1000+" from there."""
    return f"{COUNT_CAP}+" if count >= COUNT_CAP else str(count)


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
            total=count_text(counts.total),
            red=count_text(counts.red),
            yellow=count_text(counts.yellow),
            blue=count_text(counts.blue),
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


def deadline_lines(tr: Translator, runtime: Runtime, deadlines: Sequence[Deadline]) -> list[str]:
    """Each deadline: what, when due, its state and how late (the card and the dossier)."""
    lines = []
    for row in deadlines:
        late = ""
        if row.late:
            end = row.met_at or runtime.now()
            late = " · " + tr._("LATE by {late}").format(late=lateness(end - row.due_at, tr))
        state = tr._(DEADLINE_STATES[row.state])
        lines.append(
            f"{what(tr, row)}: {local_time(row.due_at, runtime.settings.timezone)} · {state}{late}"
        )
    return lines


def assignee_name(tr: Translator, runtime: Runtime, incident: IncidentRow) -> str:
    """Who is responsible for the incident, or "nobody yet"."""
    return _assignee(tr, runtime, incident)


def incident_card(
    tr: Translator,
    runtime: Runtime,
    incident: IncidentRow,
    deadlines: Sequence[Deadline],
    reports: Sequence[OfficialReport],
    events: Sequence[Event],
    directives: Sequence[DirectiveRow] = (),
) -> str:
    """The full card of an incident with deadlines, reports filed, the instructions given on it
    and the timeline."""
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
        lines += [f"• {line}" for line in deadline_lines(tr, runtime, deadlines)]
    if reports:
        lines += ["", tr._("Reports filed:")]
        for report in reports:
            filed = local_time(report.filed_at, tz) if report.filed_at else "?"
            status = tr._("LATE") if report.late else tr._("on time")
            lines.append(f"• {title(tr, report.kind, report.number)}: {filed} ({status})")
    if directives:
        lines += ["", tr._("Instructions (批示):")]
        now = runtime.now()
        lines += [
            "• " + directive_line(tr, runtime.settings, runtime.roster, d, now) for d in directives
        ]
    lines += ["", tr._("Timeline:")] + [event_line(tr, runtime, e) for e in events]
    return "\n".join(lines)


# --- the bulletin ------------------------------------------------------------------------

PERIOD_NAMES = {"day": N_("duty day"), "week": N_("duty week"), "month": N_("duty month")}


def bulletin_usage(tr: Translator) -> str:
    """How ``/bulletin`` is used."""
    return tr._("Usage: /bulletin [day|week|month] [date], for example /bulletin week 2026-11-23")


def bulletin_caption(tr: Translator) -> str:
    """The caption of the bulletin's chart."""
    return tr._("Bulletin")


def figure_value(item: Figure, value: Value) -> str:
    """A figure's number as shown: minutes rounded, a dash for no time."""
    if value is None:
        return "—"
    return f"{value:.0f}" if item.unit == MINUTES else str(value)


def bulletin_title(tr: Translator, runtime: Runtime, bulletin: Bulletin, kind: str) -> str:
    """The bulletin's heading: which period, from when to when (local time)."""
    tz = runtime.settings.timezone
    return tr._("Duty bulletin ({period}) {start} – {end}").format(
        period=tr._(PERIOD_NAMES[kind]),
        start=local_time(bulletin.start, tz),
        end=local_time(bulletin.end, tz),
    )


def bulletin_text(tr: Translator, runtime: Runtime, bulletin: Bulletin, kind: str = "day") -> str:
    """The bulletin (定期通报) as text: per unit, one line per table of figures."""
    lines = ["📊 " + bulletin_title(tr, runtime, bulletin, kind)]
    for unit in bulletin.units:
        lines += ["", runtime.roster.units[unit].name]
        for table, figures in bulletin.tables():
            values = " · ".join(
                f"{tr._(f.heading)} {figure_value(f, bulletin.value(f.key, unit))}" for f in figures
            )
            lines.append(tr._("{table}: {values}").format(table=tr._(TABLES[table]), values=values))
    lines += ["", tr._("Drills are not counted.")]
    return "\n".join(lines)


def bulletin_chart(tr: Translator, runtime: Runtime, bulletin: Bulletin) -> bytes:
    """Initial reports on time, late and missing per unit, as a PNG with labels in the
    reader's language."""
    # matplotlib and numpy weigh some 40 MB: load them only when a chart is drawn
    from bot.chart import cjk_font, on_time_chart

    def column(key: str) -> list[int]:
        return [int(bulletin.value(key, u) or 0) for u in bulletin.units]

    def label(unit: str) -> str:
        known = runtime.roster.units.get(unit)  # drawn after the fact: the roster may have moved
        name = known.name if known is not None else unit
        return name if not latin_only or name.isascii() else unit

    latin_only = cjk_font() is None
    if latin_only:  # no CJK font on this machine: Latin labels rather than empty boxes
        tr = translator("en")
    return on_time_chart(
        [label(u) for u in bulletin.units],
        [
            (tr._("on time"), column("initial_report_on_time")),
            (tr._("late"), column("initial_report_late")),
            (tr._("missing"), column("initial_report_missing")),
        ],
        title=tr._("Initial reports"),
    )


def export_usage(tr: Translator) -> str:
    """How ``/export`` is used."""
    return tr._(
        "Usage: /export bulletin <day|week|month> [date], for example /export bulletin month "
        "2026-11-01, /export incident <number>, or /export dutylog <unit> [date]"
    )


def export_too_large(tr: Translator) -> str:
    """The file would be over Telegram's 50 MB limit."""
    return tr._(
        "The file is over Telegram's 50 MB limit; ask the administrator for it "
        "(dutybot export on the server)."
    )


def dutylog_export_refusal(tr: Translator) -> str:
    """``/export dutylog`` for a unit the caller may not read."""
    return tr._("You may not export the duty log of that unit.")
