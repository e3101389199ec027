"""What supervisors see (SPEC §3.5): open incidents and their next deadline with a colour,
overdue items, one incident's deadlines, reports and timeline (the periodic bulletin's
numbers are in ``figures``). Read-only but for booking the daily bulletin's deadline row."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline, Event, IncidentRow, OfficialReport
from bot.incidents.deadlines import ESCALATION, MEETABLE, WARNING
from bot.incidents.service import subject
from bot.levels import OPEN_STATES, policy_for
from bot.settings import Settings
from bot.timeline import events_about
from scheduling.rows import FIRED, PENDING, add

RED, YELLOW, BLUE, NONE = "🔴", "🟡", "🔵", "▫️"
LEVEL_ORDER = ("I", "II", "III", "IV", "unassessed")
BULLETIN = "bulletin"  # the deadline kind of the daily bulletin
_BULLETIN_BOOKING_LOCK = 7301001  # PostgreSQL advisory lock key: one booking at a time


@dataclass
class Watched:
    """An open incident with what is due and how worried to be."""

    incident: IncidentRow
    colour: str
    next_due: Deadline | None
    overdue: list[Deadline] = field(default_factory=list)


def _escalated_past_unit(incident: IncidentRow, escalations: list[Deadline]) -> bool:
    for row in escalations:
        if row.state != FIRED:
            continue
        rungs = row.data.get("rungs", [])
        index = min(row.sequence or 0, len(rungs) - 1) if rungs else -1
        if index >= 0 and any(p["unit"] != incident.unit_id for p in rungs[index]):
            return True
    return False


def colour_of(
    incident: IncidentRow, rows: list[Deadline], settings: Settings, now: datetime
) -> tuple[str, Deadline | None, list[Deadline]]:
    """🔴 escalated past the unit or overdue by more than one step; 🟡 late with the chain
    still inside the unit, or a warning ignored; 🔵 a deadline near; otherwise nothing."""
    meetable = [r for r in rows if r.kind in MEETABLE]
    overdue = sorted((r for r in meetable if r.state == FIRED), key=lambda r: r.due_at)
    pending = sorted((r for r in meetable if r.state == PENDING), key=lambda r: r.due_at)
    next_due = overdue[0] if overdue else (pending[0] if pending else None)
    escalations = [r for r in rows if r.kind == ESCALATION]
    step = settings.escalation.step
    if overdue and (_escalated_past_unit(incident, escalations) or now - overdue[0].due_at > step):
        return RED, next_due, overdue
    warned = any(
        r.kind == WARNING and r.state == FIRED and any(p.id == r.parent_id for p in pending)
        for r in rows
    )
    if overdue or warned:
        return YELLOW, next_due, overdue
    near = policy_for(settings, incident.level, incident.sensitive).warn_before
    if pending and pending[0].due_at - now <= near:
        return BLUE, next_due, overdue
    return NONE, next_due, overdue


async def watched(
    session: AsyncSession, settings: Settings, units: list[str], now: datetime
) -> list[Watched]:
    """Open incidents of ``units`` (drills included, marked), by level then number."""
    incidents = list(
        await session.scalars(
            select(IncidentRow).where(
                IncidentRow.unit_id.in_(units), IncidentRow.state.in_(OPEN_STATES)
            )
        )
    )
    by_incident: dict[int, list[Deadline]] = defaultdict(list)
    if incidents:
        for row in await session.scalars(
            select(Deadline).where(
                Deadline.incident_id.in_([i.id for i in incidents]),
                Deadline.state.in_((PENDING, FIRED)),
            )
        ):
            by_incident[row.incident_id or 0].append(row)
    out = []
    for incident in incidents:
        colour, next_due, overdue = colour_of(incident, by_incident[incident.id], settings, now)
        out.append(Watched(incident, colour, next_due, overdue))
    out.sort(key=lambda w: (LEVEL_ORDER.index(w.incident.level), w.incident.id))
    return out


async def overdue(
    session: AsyncSession, settings: Settings, units: list[str], now: datetime
) -> list[tuple[IncidentRow, Deadline]]:
    """Every deadline in scope that was missed and is still not met, worst first."""
    return sorted(
        ((w.incident, d) for w in await watched(session, settings, units, now) for d in w.overdue),
        key=lambda pair: pair[1].due_at,
    )


# --- one incident, in full ---------------------------------------------------------------


async def incident_deadlines(session: AsyncSession, incident_id: int) -> list[Deadline]:
    """The incident's accept and report deadlines, oldest first (warnings and rungs left out)."""
    rows = await session.scalars(
        select(Deadline)
        .where(Deadline.incident_id == incident_id, Deadline.kind.in_(MEETABLE))
        .order_by(Deadline.id)
    )
    return list(rows)


async def filed_reports(session: AsyncSession, incident_id: int) -> list[OfficialReport]:
    """The incident's official reports that count as filed, in filing order."""
    rows = await session.scalars(
        select(OfficialReport)
        .where(OfficialReport.incident_id == incident_id, OfficialReport.state == "filed")
        .order_by(OfficialReport.id)
    )
    return list(rows)


async def timeline(session: AsyncSession, incident_id: int) -> list[Event]:
    """The incident's timeline, oldest first."""
    return await events_about(session, subject(incident_id))


# --- the daily bulletin's deadline row ----------------------------------------------------


async def book_bulletin(session: AsyncSession, due: datetime, *, postgresql: bool) -> bool:
    """Add the daily bulletin's deadline at ``due`` unless one is pending; return whether it
    was added. On PostgreSQL two processes starting at once are serialised, so it is booked
    once."""
    if postgresql:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BULLETIN_BOOKING_LOCK}
        )
    pending = await session.scalar(
        select(Deadline.id).where(Deadline.kind == BULLETIN, Deadline.state == PENDING).limit(1)
    )
    if pending is not None:
        return False
    add(session, None, BULLETIN, due)
    return True


def book_next_bulletin(session: AsyncSession, due: datetime) -> None:
    """Add the next daily bulletin's deadline (from its firer, which holds the claimed row)."""
    add(session, None, BULLETIN, due)
