"""How duty discipline reads (SPEC §3.7): the handover card with Take over duty, the spot check
with I'm here, the swap questions, the duty log and every answer. Functions of a
``Translator``; button markups are plain dicts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import callback_data
from bot.db.models import (
    Deadline,
    DirectiveRow,
    DutyShift,
    Event,
    IncidentRow,
    SpotCheck,
    SwapRow,
)
from bot.i18n import N_, Translator
from bot.render import inline_quoted, local_time, position_name
from bot.roster import Roster

LOG_KIND_NAMES = {
    "call": N_("Call"),
    "document": N_("Document"),
    "notice": N_("Notice"),
    "other": N_("Other"),
}
# what the duty log says of each timeline event it shows (others are left out)
EVENT_LINES = {
    "incident.reported": N_("Report received: #{number}"),
    "incident.alerted": N_("Alert sent for #{number}"),
    "incident.accepted": N_("#{number} accepted by {who}"),
    "incident.transferred": N_("#{number} transferred"),
    "incident.dismissed": N_("#{number} dismissed by {who}"),
    "incident.taken_over": N_("#{number} taken over by {who}"),
    "report.filed": N_("Official report on #{number} filed by {who}"),
    "report.delivered": N_("Official report on #{number} received"),
    "deadline.missed": N_("A deadline on #{number} was missed"),
    "escalation.rung": N_("#{number} pressed up the chain"),
    "duty.handover": N_("Handover card sent to {incoming} (outgoing: {outgoing})"),
    "duty.handover.taken": N_("Duty taken over by {who}"),
    "duty.handover.late": N_("Duty not taken over in time"),
    "duty.note": N_("Handover notes by {who}: {note}"),
    "duty.spotcheck.asked": N_("Spot check asked of {officers}"),
    "duty.spotcheck.answered": N_("Spot check answered by {who} after {minutes} min"),
    "duty.spotcheck.missed": N_("Spot check missed by {officers}"),
    "duty.swap.approved": N_("Swap approved: {colleague} takes {requester}'s shift"),
    "duty.swap.refused": N_("Swap refused: {requester} keeps the shift"),
    "directive.delivered": N_("Directive {code} arrived (督办)"),
    "directive.received": N_("Directive {code} received (签收) by {who}"),
    "directive.feedback": N_("Feedback on directive {code} by {who}"),
    "directive.completed": N_("Directive {code} reported done by {who}"),
    "directive.closed": N_("Directive {code} closed (办结)"),
    "directive.missed": N_("A deadline of directive {code} was missed"),
    "directive.pressed": N_("Directive {code} pressed (催办) by {who}"),
}
PAGE_SIZE = 15


def person_line(roster: Roster, person_id: str) -> str:
    """A name with the phone number (Telegram makes it tappable), when the roster has one."""
    person = roster.people.get(person_id)
    if person is None:
        return person_id
    return f"{person.name} ☎ {person.phone}" if person.phone else person.name


def names(roster: Roster, people: list[str]) -> str:
    """People's names, or a dash."""
    return ", ".join(roster.people[p].name if p in roster.people else p for p in people) or "—"


def _minutes(delta: timedelta) -> int:
    return max(int(delta.total_seconds() // 60), 0)


# --- handover -----------------------------------------------------------------------------


def handover_card(
    tr: Translator,
    roster: Roster,
    tz: ZoneInfo,
    shift: DutyShift,
    incidents: list[tuple[IncidentRow, Deadline | None]],
    log: list[Event],
    accept_within: timedelta,
    directives: Sequence[DirectiveRow] = (),
) -> str:
    """To the incoming officer: what they take over (open incidents and directives, notes,
    the outgoing shift's log)."""
    unit = roster.units[shift.unit_id].name
    lines = [
        "🔁 "
        + tr._("Handover (交接班) at {unit}, {time}").format(
            unit=unit, time=local_time(shift.starts_at, tz)
        ),
        tr._("Outgoing: {people}").format(
            people="; ".join(person_line(roster, p) for p in shift.outgoing) or "—"
        ),
        tr._("Leader on duty: {people}").format(
            people="; ".join(
                person_line(roster, p)
                for p in roster.holders(shift.unit_id, "leader", shift.starts_at)
            )
            or "—"
        ),
        "",
    ]
    if incidents:
        lines.append(tr._("Open incidents:"))
        for incident, due in incidents:
            when = (
                tr._("next deadline {time}").format(time=local_time(due.due_at, tz))
                if due is not None
                else tr._("no deadline pending")
            )
            lines.append(f"• #{incident.id} {incident.summary} — {when}")
    else:
        lines.append(tr._("No open incidents."))
    if directives:
        lines.append(tr._("Open directives:"))
        lines += [
            "• D{number} {text} — {due}".format(
                number=d.id,
                text=inline_quoted(d.text[:60]),
                due=tr._("feedback due {time}").format(time=local_time(d.due_at, tz)),
            )
            for d in directives
        ]
    notes = [e for e in log if e.kind == "duty.note"]
    entries = [e for e in log if e.kind != "duty.note"]
    lines.append("")
    if notes:
        lines.append(tr._("Notes from the outgoing shift:"))
        lines += [f"• {e.note}" for e in notes]
    else:
        lines.append(tr._("No notes from the outgoing shift."))
    counts = Counter(e.kind for e in entries if e.kind in EVENT_LINES or e.kind == "duty.log")
    written = [e for e in entries if e.kind == "duty.log"]
    lines.append(
        tr._("The outgoing shift's duty log: {count} entries.").format(count=sum(counts.values()))
    )
    for event in written[-5:]:
        kind = LOG_KIND_NAMES.get(str(event.data.get("entry")), LOG_KIND_NAMES["other"])
        lines.append(f"• {local_time(event.at, tz)[11:]} {tr._(kind)}: {event.note}")
    lines.append("")
    lines.append(
        tr._("Press Take over duty within {minutes} min.").format(minutes=_minutes(accept_within))
    )
    return "\n".join(lines)


def take_over_button(tr: Translator, shift_id: int) -> dict[str, Any]:
    """Take over duty (接班) under the handover card."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "✅ " + tr._("Take over duty"),
                    "callback_data": callback_data.encode("hto", str(shift_id)),
                }
            ]
        ]
    }


def handover_late(tr: Translator, roster: Roster, tz: ZoneInfo, shift: DutyShift) -> str:
    """To the leader on duty (then up the chain): nobody took over."""
    return "⚠️ " + tr._(
        "Duty at {unit} was not taken over: the shift changed at {time} and {people} "
        "has not pressed Take over duty."
    ).format(
        unit=roster.units[shift.unit_id].name,
        time=local_time(shift.starts_at, tz),
        people="; ".join(person_line(roster, p) for p in shift.incoming) or "—",
    )


def taken_over(tr: Translator, roster: Roster, shift: DutyShift | None) -> str:
    """The answer to Take over duty."""
    if shift is None:
        return tr._("Duty has already been taken over.")
    return tr._("You have taken over duty at {unit}.").format(unit=roster.units[shift.unit_id].name)


def not_yours(tr: Translator) -> str:
    """A duty button pressed by someone it is not for."""
    return tr._("This is not yours to answer.")


def note_saved(tr: Translator) -> str:
    """``/handover <notes>`` saved."""
    return tr._("Noted: the next officer on duty will see this on the handover card.")


def handover_usage(tr: Translator) -> str:
    """How ``/handover`` is used."""
    return tr._("Usage: /handover <notes for the next shift>")


def not_on_duty(tr: Translator) -> str:
    """A duty command from someone who is not staff of any unit now."""
    return tr._("Only the duty officers and leaders of a unit can do this.")


# --- duty log ---------------------------------------------------------------------------


def log_usage(tr: Translator) -> str:
    """How ``/log`` is used."""
    return tr._(
        "Usage: /log <kind> <text>; kinds: call (来电), document (来文), notice (要情), "
        "other (其他). For example /log call the district asked about the flood warning"
    )


def log_saved(tr: Translator, kind: str) -> str:
    """``/log`` saved."""
    return tr._("Written in the duty log ({kind}).").format(kind=tr._(LOG_KIND_NAMES[kind]))


def event_line(tr: Translator, roster: Roster, tz: ZoneInfo, event: Event) -> str | None:
    """One line of the duty log, or ``None`` for an event the log leaves out."""
    time = local_time(event.at, tz)[11:]
    if event.kind == "duty.log":
        kind = LOG_KIND_NAMES.get(str(event.data.get("entry")), LOG_KIND_NAMES["other"])
        who = names(roster, [event.actor_id]) if event.actor_id else ""
        return f"{time} 📝 {tr._(kind)} ({who}): {event.note}"
    template = EVENT_LINES.get(event.kind)
    if template is None:
        return None
    data = event.data
    number = (event.subject or "").removeprefix("incident:")
    text = tr._(template).format(
        number=number,
        code="D" + (event.subject or "").removeprefix("directive:"),
        who=names(roster, [event.actor_id]) if event.actor_id else "—",
        note=event.note or "",
        incoming=names(roster, list(data.get("incoming", []))),
        outgoing=names(roster, list(data.get("outgoing", []))),
        officers=names(roster, list(data.get("officers", []))),
        minutes=int(data.get("seconds", 0)) // 60,
        colleague=names(roster, [str(data.get("colleague", ""))]),
        requester=names(roster, [str(data.get("requester", ""))]),
    )
    return f"{time} {text}"


def dutylog_page(
    tr: Translator,
    roster: Roster,
    tz: ZoneInfo,
    unit_id: str,
    start: datetime,
    end: datetime,
    events: list[Event],
    page: int,
) -> tuple[str, int]:
    """One page of a shift's duty log, and how many pages there are."""
    lines = [line for e in events if (line := event_line(tr, roster, tz, e)) is not None]
    pages = max((len(lines) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 0), pages - 1)
    head = tr._("Duty log (值班日志) of {unit}, shift {start} → {end}").format(
        unit=roster.units[unit_id].name, start=local_time(start, tz), end=local_time(end, tz)
    )
    body = lines[page * PAGE_SIZE : (page + 1) * PAGE_SIZE] or [tr._("Nothing logged.")]
    foot = [tr._("Page {page} of {pages}").format(page=page + 1, pages=pages)] if pages > 1 else []
    return "\n".join([head, *body, *foot]), pages


def dutylog_buttons(
    tr: Translator, unit_id: str, day: str, page: int, pages: int
) -> dict[str, Any] | None:
    """Earlier / Later pages of the duty log."""
    row = []
    if page > 0:
        row.append(
            {
                "text": "◀ " + tr._("Earlier"),
                "callback_data": callback_data.encode("dlp", unit_id, day, str(page - 1)),
            }
        )
    if page + 1 < pages:
        row.append(
            {
                "text": tr._("Later") + " ▶",
                "callback_data": callback_data.encode("dlp", unit_id, day, str(page + 1)),
            }
        )
    return {"inline_keyboard": [row]} if row else None


def dutylog_usage(tr: Translator) -> str:
    """How ``/dutylog`` is used."""
    return tr._("Usage: /dutylog [unit] [YYYY-MM-DD], for example /dutylog water 2026-11-27")


def dutylog_refusal(tr: Translator, unit_id: str) -> str:
    """``/dutylog`` of a unit outside the reader's scope (or unknown)."""
    return tr._("You may not read the duty log of {id}.").format(id=unit_id[:64])


# --- spot checks --------------------------------------------------------------------------


def spot_check(tr: Translator, roster: Roster, tz: ZoneInfo, check: SpotCheck) -> str:
    """To the officer on duty: are you at the post?"""
    return "📍 " + tr._(
        "Spot check (查岗) at {unit}: press I'm here or send /here by {time}."
    ).format(unit=roster.units[check.unit_id].name, time=local_time(check.due_at, tz))


def here_button(tr: Translator, check_id: int) -> dict[str, Any]:
    """I'm here (在岗) under a spot check."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "🙋 " + tr._("I'm here"),
                    "callback_data": callback_data.encode("here", str(check_id)),
                }
            ]
        ]
    }


def spot_check_asked(tr: Translator, roster: Roster, check: SpotCheck) -> str:
    """The answer to ``/spotcheck``."""
    if not check.officers:
        return tr._(
            "Nobody is on duty as officer at {unit} now: the check is logged as missed."
        ).format(unit=roster.units[check.unit_id].name)
    return tr._("Spot check sent to {people}; you will be told if it is missed.").format(
        people="; ".join(person_line(roster, p) for p in check.officers)
    )


def spot_check_answered(tr: Translator, roster: Roster, checks: list[SpotCheck]) -> str:
    """The answer to I'm here or ``/here``."""
    if not checks:
        return tr._("No spot check is waiting for your answer.")
    return tr._("Thank you: your presence at {unit} is logged.").format(
        unit=", ".join(roster.units[c.unit_id].name for c in checks)
    )


def spot_check_answered_told(tr: Translator, roster: Roster, check: SpotCheck) -> str:
    """To the supervisor who asked: answered."""
    return "✅ " + tr._("Spot check at {unit} answered by {name} after {minutes} min.").format(
        unit=roster.units[check.unit_id].name,
        name=names(roster, [check.answered_by or ""]),
        minutes=_minutes((check.answered_at or check.asked_at) - check.asked_at),
    )


def spot_check_missed(tr: Translator, roster: Roster, tz: ZoneInfo, check: SpotCheck) -> str:
    """To the leader on duty and the supervisor who asked: nobody answered."""
    return "❗ " + tr._(
        "Spot check missed at {unit}: asked at {time}, no answer from {people}."
    ).format(
        unit=roster.units[check.unit_id].name,
        time=local_time(check.asked_at, tz),
        people="; ".join(person_line(roster, p) for p in check.officers) or "—",
    )


def spotcheck_usage(tr: Translator) -> str:
    """How ``/spotcheck`` is used."""
    return tr._("Usage: /spotcheck <unit>, for example /spotcheck water")


def spotcheck_refusal(tr: Translator, unit_id: str) -> str:
    """``/spotcheck`` by someone who may not check that unit."""
    return tr._("You may not spot-check {id}: only a supervisor of a unit above it can.").format(
        id=unit_id[:64]
    )


# --- swaps --------------------------------------------------------------------------------


def _span(tr: Translator, roster: Roster, tz: ZoneInfo, swap: SwapRow) -> str:
    return tr._("{position} at {unit}, {start} → {end}").format(
        position=position_name(tr, swap.position),
        unit=roster.units[swap.unit_id].name,
        start=local_time(swap.starts_at, tz),
        end=local_time(swap.ends_at, tz),
    )


def swap_usage(tr: Translator) -> str:
    """How ``/swap`` is used."""
    return tr._("Usage: /swap <YYYY-MM-DD> <person-id>, for example /swap 2026-11-28 li.lei")


def swap_no_shift(tr: Translator) -> str:
    """``/swap`` for a date without one's shift."""
    return tr._("You have no shift starting on that date.")


def swap_bad_colleague(tr: Translator) -> str:
    """``/swap`` to someone who cannot take the shift."""
    return tr._("Choose a colleague of the same unit (their person id, as in /oncall).")


def swap_requested(tr: Translator, roster: Roster, tz: ZoneInfo, swap: SwapRow) -> str:
    """The answer to ``/swap``."""
    return tr._("Swap asked: {colleague} is asked to take your shift ({span}).").format(
        colleague=person_line(roster, swap.colleague_id), span=_span(tr, roster, tz, swap)
    )


def swap_question(tr: Translator, roster: Roster, tz: ZoneInfo, swap: SwapRow) -> str:
    """To the colleague: will you take the shift?"""
    return "🔄 " + tr._("{name} asks you to take their shift (换班): {span}.").format(
        name=person_line(roster, swap.requester_id), span=_span(tr, roster, tz, swap)
    )


def swap_approval(tr: Translator, roster: Roster, tz: ZoneInfo, swap: SwapRow) -> str:
    """To the leader on duty: approve?"""
    return "🔄 " + tr._("Swap to approve: {colleague} takes {requester}'s shift, {span}.").format(
        colleague=names(roster, [swap.colleague_id]),
        requester=names(roster, [swap.requester_id]),
        span=_span(tr, roster, tz, swap),
    )


def swap_buttons(tr: Translator, action: str, swap_id: int) -> dict[str, Any]:
    """Accept / Refuse (the colleague, ``swc``) or Approve / Refuse (the leader, ``swl``)."""
    yes = tr._("Accept") if action == "swc" else tr._("Approve")
    return {
        "inline_keyboard": [
            [
                {
                    "text": "✅ " + yes,
                    "callback_data": callback_data.encode(action, str(swap_id), "y"),
                },
                {
                    "text": "✖ " + tr._("Refuse"),
                    "callback_data": callback_data.encode(action, str(swap_id), "n"),
                },
            ]
        ]
    }


def swap_answered(tr: Translator, swap: SwapRow | None) -> str:
    """The answer to a swap button."""
    if swap is None:
        return tr._("This swap has already been answered.")
    if swap.state == "accepted":
        return tr._("Accepted; the leader on duty is asked to approve.")
    if swap.state == "approved":
        return tr._("Swap approved.")
    return tr._("Swap refused.")


def swap_approved(tr: Translator, roster: Roster, tz: ZoneInfo, swap: SwapRow) -> str:
    """To both sides: approved."""
    return "✅ " + tr._("Swap approved: {colleague} takes the shift {span}.").format(
        colleague=names(roster, [swap.colleague_id]), span=_span(tr, roster, tz, swap)
    )


def swap_refused(tr: Translator, roster: Roster, tz: ZoneInfo, swap: SwapRow) -> str:
    """To the requester: refused; nothing changes."""
    return "✖ " + tr._("Swap refused by {name}: you keep your shift {span}.").format(
        name=names(roster, [swap.decided_by or ""]), span=_span(tr, roster, tz, swap)
    )
