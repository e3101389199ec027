"""How escalation reads (SPEC §3.3): what is due, how late it is, the reminder before a
deadline, and the escalation card with its Take over button (pressing it is the incidents
domain's ``tko``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot import callback_data
from bot.db.models import Deadline, IncidentRow
from bot.duty_table import with_phone
from bot.i18n import N_, Translator
from bot.incidents.messaging import category_name, level_line
from bot.render import local_time
from bot.roster import Roster
from bot.settings import Settings

WHAT = {
    "accept": N_("acceptance"),
    "flash_report": N_("the flash report"),
    "receipt": N_("acknowledging receipt (签收)"),
    "initial_report": N_("the initial report"),
    "followup": N_("follow-up report no. {number}"),
    "final": N_("the final report"),
}
MINUTES = N_("{minutes} min")
HOURS_MINUTES = N_("{hours} h {minutes} min")


def what(tr: Translator, deadline: Deadline) -> str:
    """The thing due, in the reader's language."""
    return tr._(WHAT[deadline.kind]).format(number=deadline.sequence or 1)


def lateness(delta: timedelta, tr: Translator | None = None) -> str:
    """How late, in whole minutes: ``15 min``, ``1 h 05 min`` (``15分钟``, ``1小时05分``).

    Without a translator this gives the old compact ``15m`` / ``1h05m``, kept only until every
    caller passes the reader's translator; new code passes one.
    """
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, rest = divmod(minutes, 60)
    if tr is None:
        return f"{hours}h{rest:02d}m" if hours else f"{minutes}m"
    if hours:
        return tr._(HOURS_MINUTES).format(hours=hours, minutes=f"{rest:02d}")
    return tr._(MINUTES).format(minutes=minutes)


def reminder(tr: Translator, incident: IncidentRow, due: Deadline, settings: Settings) -> str:
    """To the assignee, ``warn_before`` a report deadline."""
    return "⏰ " + tr._("Reminder: {what} for #{number} is due at {time}.").format(
        what=what(tr, due), number=incident.id, time=local_time(due.due_at, settings.timezone)
    )


def escalation_card(
    tr: Translator,
    roster: Roster,
    settings: Settings,
    incident: IncidentRow,
    missed: Deadline,
    now: datetime,
    waiting_for: list[str] | None = None,
) -> str:
    """To a rung of the chain: what is late, by how much, who is responsible, and — when a
    report waits for sign-off — the leader it waits for."""
    assignee = roster.people.get(incident.assignee_id or "")
    lines = [
        "🔺 "
        + tr._("ESCALATION #{number}: {what} is late by {late} (was due {due}).").format(
            number=incident.id,
            what=what(tr, missed),
            late=lateness(now - missed.due_at, tr),
            due=local_time(missed.due_at, settings.timezone),
        ),
        level_line(tr, incident) + " · " + category_name(tr, incident.category),
        incident.summary,
        tr._("Unit: {unit}").format(unit=roster.units[incident.unit_id].name),
        tr._("Responsible: {name}").format(
            name=with_phone(roster, assignee.id) if assignee else tr._("nobody yet")
        ),
    ]
    on_duty = [
        with_phone(roster, p)
        for p in roster.holders(incident.unit_id, "officer", now)
        if p != incident.assignee_id
    ]
    if on_duty:
        lines.append(tr._("Officer on duty: {people}").format(people="; ".join(on_duty)))
    if waiting_for is not None:
        lines.append(
            tr._("The report is written and waits for sign-off by {names}.").format(
                names=", ".join(waiting_for) or tr._("nobody on duty")
            )
        )
    lines.append(
        tr._(
            "Press Press (催办) to urge the people responsible below, or, as a last resort, "
            "Take over to take charge yourself."
        )
    )
    return "\n".join(lines)


def pressed(
    tr: Translator,
    roster: Roster,
    settings: Settings,
    incident: IncidentRow,
    missed: Deadline | None,
    presser: str,
) -> str:
    """To the people responsible below: the upper rung presses them (催办)."""
    if missed is None:
        return "‼️ " + tr._("{name} presses you (催办) on #{number}: act on it now.").format(
            name=presser, number=incident.id
        )
    return "‼️ " + tr._(
        "{name} presses you (催办) on #{number}: {what} was due {due}. File it now."
    ).format(
        name=presser,
        number=incident.id,
        what=what(tr, missed),
        due=local_time(missed.due_at, settings.timezone),
    )


def press_answer(tr: Translator, done: bool, told: int) -> str:
    """The answer to Press."""
    if not done:
        return tr._("You may not press on this incident, or it is closed.")
    return tr._("Pressed: {count} responsible people told; it stays theirs.").format(count=told)


def take_over_button(tr: Translator, incident_id: int) -> dict[str, Any]:
    """Press (催办) and Take over (接手) under the escalation card."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "‼️ " + tr._("Press"),
                    "callback_data": callback_data.encode("prs", str(incident_id)),
                },
                {
                    "text": "🙋 " + tr._("Take over"),
                    "callback_data": callback_data.encode("tko", str(incident_id)),
                },
            ]
        ]
    }
