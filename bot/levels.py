"""Levels, states and the reporting clock's formulas (SPEC §2, §3.3): the only place a limit
becomes a due time.

Deadline rows, alert cards, ``/mine`` and ``/level`` all ask here, so what a card promises is
what the engine enforces.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.db.models import IncidentRow
from bot.delivery.outbox import LEVEL_PRIORITY
from bot.settings import LevelPolicy, Settings


class Level(StrEnum):
    """An incident's level (I is the most serious); ``unassessed`` until somebody knows."""

    I = "I"  # noqa: E741 - the national plan's own name
    II = "II"
    III = "III"
    IV = "IV"
    UNASSESSED = "unassessed"


class State(StrEnum):
    """Where an incident stands (SPEC §2)."""

    REPORTED = "reported"
    ACCEPTED = "accepted"
    INITIAL_REPORTED = "initial_reported"
    CLOSED = "closed"
    MERGED = "merged"
    DISMISSED = "dismissed"


ASSESSED_LEVELS: tuple[Level, ...] = (Level.I, Level.II, Level.III, Level.IV)
LEVELS: tuple[Level, ...] = (*ASSESSED_LEVELS, Level.UNASSESSED)
OPEN_STATES: tuple[State, ...] = (State.REPORTED, State.ACCEPTED, State.INITIAL_REPORTED)
LEVEL_COLOURS: dict[str, str] = {
    Level.I: "🔴",
    Level.II: "🟠",
    Level.III: "🟡",
    Level.IV: "🔵",
    Level.UNASSESSED: "⚪",
}


def parse_level(text: str) -> Level | None:
    """``I``…``IV`` (any case) or ``unassessed``; anything else is ``None``."""
    wanted = text.strip()
    for level in LEVELS:
        if wanted.upper() == level.value.upper():
            return level
    return None


def is_open(state: str) -> bool:
    """Whether an incident in ``state`` still has work due."""
    return state in OPEN_STATES


def effective_level(level: str, sensitive: bool) -> str:
    """A sensitive report is treated as level II for its deadlines, whatever its level."""
    if sensitive and level in (Level.III, Level.IV, Level.UNASSESSED):
        return Level.II
    return level


def policy_for(
    settings: Settings,
    level: str,
    sensitive: bool = False,
    unit: str | None = None,
    category: str | None = None,
) -> LevelPolicy:
    """The limits of an incident's level (sensitive counts as II), with the ``[[limits]]`` of its
    unit and category applied: the most specific matching rule wins, key by key."""
    effective = effective_level(level, sensitive)
    policy = settings.levels[effective]
    rules = [r for r in settings.limits if r.matches(effective, unit, category)]
    for rule in sorted(rules, key=lambda r: r.specificity):
        policy = replace(policy, **rule.overrides)  # type: ignore[arg-type]
    return policy


def incident_policy(settings: Settings, incident: IncidentRow) -> LevelPolicy:
    """The limits that apply to one incident (its level, marks, unit and category)."""
    return policy_for(
        settings, incident.level, incident.sensitive, incident.unit_id, incident.category
    )


def accept_clock_start(incident: IncidentRow) -> datetime:
    """The acceptance clock runs from when the incident reached its current unit: the report,
    or the last transfer."""
    return incident.unit_since or incident.reported_at


def accept_due(settings: Settings, incident: IncidentRow) -> datetime:
    """When an officer of the incident's current unit must have accepted it."""
    return accept_clock_start(incident) + incident_policy(settings, incident).accept


def initial_report_due(settings: Settings, incident: IncidentRow) -> datetime:
    """When the initial report (首报) is due: counted from ``reported_at``."""
    return incident.reported_at + incident_policy(settings, incident).initial_report


def flash_report_due(settings: Settings, incident: IncidentRow) -> datetime | None:
    """When the flash report (快报/电话报告) is due, counted from ``reported_at``; ``None`` for a
    level without one."""
    flash = incident_policy(settings, incident).flash_report
    return None if flash is None else incident.reported_at + flash


def final_report_due(settings: Settings, incident: IncidentRow) -> datetime | None:
    """When the final report (终报) is due, if the level sets ``close_within``."""
    close_within = incident_policy(settings, incident).close_within
    return None if close_within is None else incident.reported_at + close_within


def warning_at(settings: Settings, incident: IncidentRow, due: datetime) -> datetime:
    """When the reminder for a report due at ``due`` goes to the assignee."""
    return due - incident_policy(settings, incident).warn_before


def next_followup_due(
    settings: Settings,
    level: str,
    sensitive: bool,
    after: datetime,
    unit: str | None = None,
    category: str | None = None,
) -> datetime | None:
    """The next follow-up (续报) after the last official report at ``after``: the next fixed
    daily time (``followup_at``, local) that is at least ``followup_min_gap`` after it, or
    ``followup_every`` after it when set, whichever comes first; ``None`` when nothing is due."""
    policy = policy_for(settings, level, sensitive, unit, category)
    candidates = [] if policy.followup_every is None else [after + policy.followup_every]
    tz = settings.timezone
    earliest = (after + policy.followup_min_gap).astimezone(tz)
    local = after.astimezone(tz)
    for day in range(0, 3):
        for moment in policy.followup_at:
            candidate = datetime.combine(local.date() + timedelta(days=day), moment, tzinfo=tz)
            if candidate > local and candidate >= earliest:
                candidates.append(candidate.astimezone(UTC))
    return min(candidates) if candidates else None


def followup_on_change_due(
    settings: Settings, incident: IncidentRow, at: datetime
) -> datetime | None:
    """When a 续报 falls due after the casualties rose at ``at`` (``None``: no such rule)."""
    within = incident_policy(settings, incident).followup_on_change
    return None if within is None else at + within


def priority_of(incident: IncidentRow) -> int:
    """Outbox priority of what is sent about an incident: its level (sensitive counts as II)."""
    return LEVEL_PRIORITY[effective_level(incident.level, incident.sensitive)]


# What one incident takes from its reporter after the report (``/addinfo``, captioned photos)
MAX_ADDITIONS = 30  # additions (text or photo) per incident
MAX_ADDED_TEXT = 20_000  # characters of added text per incident, all additions together
MAX_PHOTOS = 20  # photos per incident, the report's own included

# An officer's private chat with this many urgent messages still unsent gets new alerts merged
# into one digest message instead of one card each (a flood must not bury a real report)
ALERT_DIGEST_BACKLOG = 3
DIGEST_LINES = 40  # incidents listed in one digest message at most


# --- directives (SPEC §3.6) ------------------------------------------------------------------

URGENT, PRESSING, NORMAL, COMPLEX, SET = "urgent", "pressing", "normal", "complex", "set"
URGENCIES: tuple[str, ...] = (URGENT, PRESSING, NORMAL, COMPLEX)
DIRECTIVE_OPEN = ("issued", "received", "completed")
MAX_DIRECTIVE_TEXT = 2000
MAX_DIRECTIVE_FEEDBACK = 2000
MAX_DIRECTIVE_LIMIT = timedelta(days=366)  # an explicit due time or extension, at most this far


def directive_due(settings: Settings, urgency: str, issued_at: datetime) -> datetime:
    """The feedback deadline an urgency sets (``[directives.urgency]``)."""
    return issued_at + settings.directives.urgency[urgency]


def directive_receive_due(settings: Settings, issued_at: datetime) -> datetime:
    """When the lead unit must have pressed Receive (签收)."""
    return issued_at + settings.directives.receive_within


def directive_warning_at(settings: Settings, due: datetime) -> datetime:
    """When the lead unit is reminded of a feedback deadline."""
    return due - settings.directives.warn_before


def directive_priority(urgency: str) -> int:
    """The outbox priority of a directive's messages: urgent ones like a level II incident."""
    return LEVEL_PRIORITY[Level.II] if urgency == URGENT else LEVEL_PRIORITY[Level.IV]


def directive_colour(
    settings: Settings,
    *,
    state: str,
    issued_at: datetime,
    due_at: datetime,
    reminded_at: datetime | None,
    feedback_at: datetime | None,
    now: datetime,
) -> str:
    """🔵 when 20 % of the time or less is left, 🟡 overdue, 🔴 overdue and a reminder ignored
    (the lead unit was reminded and has said nothing since: a reminder before the deadline, or
    the one at the deadline once ``escalation.step`` has passed); "" otherwise or once done."""
    if state not in ("issued", "received"):
        return ""
    if now >= due_at:
        ignored = reminded_at is not None and (feedback_at is None or feedback_at < reminded_at)
        if (
            ignored
            and reminded_at is not None
            and (reminded_at < due_at or now - reminded_at >= settings.escalation.step)
        ):
            return "🔴"
        return "🟡"
    if (due_at - now) * 5 <= due_at - issued_at:
        return "🔵"
    return ""
