"""What supervisors see (SPEC §3.5): open incidents and their next deadline with a colour,
overdue items, one incident's deadlines, reports and timeline (the periodic bulletin's
numbers are in ``figures``). Read-only but for booking the daily bulletin's deadline row."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline, Event, IncidentRow, OfficialReport
from bot.db.types import UTCDateTime
from bot.incidents.deadlines import ESCALATION, MEETABLE, WARNING
from bot.incidents.service import subject
from bot.levels import OPEN_STATES, effective_level, policy_for
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


# --- /status and /overdue, one page at a time (keyset pagination in the database) ---------

PAGE_ROWS = 40  # incidents read for one /status page at most (fewer may fit)
OVERDUE_ROWS = 20  # missed deadlines on one /overdue page: ≤ ~180 characters a line


@dataclass(frozen=True)
class StatusKey:
    """Where a ``/status`` page ends: the level's rank and the incident number of its last
    line; the next page starts after it."""

    rank: int
    incident_id: int


@dataclass(frozen=True)
class StatusCounts:
    """The counts heading the first ``/status`` page."""

    total: int
    red: int
    yellow: int
    blue: int


def _open_in(units: list[str]) -> ColumnElement[bool]:
    return and_(IncidentRow.unit_id.in_(units), IncidentRow.state.in_(OPEN_STATES))


async def _colours(
    session: AsyncSession, settings: Settings, incidents: list[IncidentRow], now: datetime
) -> list[Watched]:
    """The colours of one page's incidents (a bounded list: one query for their deadlines)."""
    by_incident: dict[int, list[Deadline]] = defaultdict(list)
    if incidents:
        for row in await session.scalars(
            # by incident only (the state is filtered here): a condition on the state would
            # tempt SQLite, which keeps no statistics, to walk every pending deadline
            select(Deadline).where(Deadline.incident_id.in_([i.id for i in incidents]))
        ):
            if row.state in (PENDING, FIRED):
                by_incident[row.incident_id or 0].append(row)
    out = []
    for incident in incidents:
        colour, next_due, overdue_rows = colour_of(
            incident, by_incident[incident.id], settings, now
        )
        out.append(Watched(incident, colour, next_due, overdue_rows))
    return out


async def watched_page(
    session: AsyncSession,
    settings: Settings,
    units: list[str],
    now: datetime,
    after: StatusKey | None,
    limit: int = PAGE_ROWS,
) -> tuple[list[Watched], bool]:
    """Up to ``limit`` open incidents of ``units`` after ``after``, ordered by level rank then
    number, and whether more follow. One indexed range per level (``level = ? AND id > ?`` on
    ``ix_incidents_level_id``): the cost of a page does not grow with the number of open
    incidents."""
    rows: list[IncidentRow] = []
    start_rank = after.rank if after else 0
    for rank in range(start_rank, len(LEVEL_ORDER)):
        wanted = limit + 1 - len(rows)
        if wanted <= 0:
            break
        query = select(IncidentRow).where(IncidentRow.level == LEVEL_ORDER[rank], _open_in(units))
        if after is not None and rank == after.rank:
            query = query.where(IncidentRow.id > after.incident_id)
        rows += await session.scalars(query.order_by(IncidentRow.id).limit(wanted))
    more = len(rows) > limit
    return await _colours(session, settings, rows[:limit], now), more


def rank_of(incident: IncidentRow) -> int:
    """The place of an incident's level in ``/status`` (I first, unassessed last)."""
    return LEVEL_ORDER.index(incident.level)


async def status_counts(
    session: AsyncSession, settings: Settings, units: list[str], now: datetime
) -> StatusCounts:
    """Total and colour counts of the open incidents in scope, computed in the database (one
    aggregate query; no incident is loaded). 🔴 here is "overdue by more than one escalation
    step"; the per-line colour also counts an escalation that left the unit earlier."""
    parent = Deadline.__table__.alias("parent")
    warned_ids = (
        select(Deadline.incident_id.label("incident_id"))
        .join(parent, parent.c.id == Deadline.parent_id)
        .where(Deadline.kind == WARNING, Deadline.state == FIRED, parent.c.state == PENDING)
        .distinct()
        .subquery()
    )

    def at(moment: datetime) -> ColumnElement[datetime]:
        return literal(moment, UTCDateTime())

    near = case(
        *(
            (
                and_(IncidentRow.level == level, IncidentRow.sensitive.is_(sensitive)),
                at(now + policy_for(settings, effective_level(level, sensitive)).warn_before),
            )
            for level in LEVEL_ORDER
            for sensitive in (False, True)
        ),
        else_=at(now),
    )
    # one pass: each open incident in scope with its meetable deadlines, grouped (no
    # correlated subqueries: SQLite would run them again for every use of a column)
    per_incident = (
        select(
            IncidentRow.id.label("id"),
            func.min(case((Deadline.state == FIRED, Deadline.due_at))).label("first_overdue"),
            func.min(case((Deadline.state == PENDING, Deadline.due_at))).label("next_pending"),
            func.max(near).label("near"),
            func.max(case((warned_ids.c.incident_id.is_not(None), 1), else_=0)).label("warned"),
        )
        .select_from(IncidentRow)
        .outerjoin(
            Deadline,
            and_(
                Deadline.incident_id == IncidentRow.id,
                Deadline.kind.in_(MEETABLE),
                Deadline.state.in_((PENDING, FIRED)),
            ),
        )
        .outerjoin(warned_ids, warned_ids.c.incident_id == IncidentRow.id)
        .where(_open_in(units))
        .group_by(IncidentRow.id)
        .subquery()
    )
    c = per_incident.c
    red = c.first_overdue < at(now - settings.escalation.step)
    yellow = and_(~red, or_(c.first_overdue.is_not(None), c.warned == 1))
    blue = and_(c.first_overdue.is_(None), c.warned == 0, c.next_pending <= c.near)
    row = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((red, 1), else_=0)),
                func.sum(case((yellow, 1), else_=0)),
                func.sum(case((blue, 1), else_=0)),
            ).select_from(per_incident)
        )
    ).one()
    return StatusCounts(int(row[0]), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))


async def overdue_page(
    session: AsyncSession, units: list[str], after: int | None, limit: int = OVERDUE_ROWS
) -> tuple[list[tuple[IncidentRow, Deadline]], bool]:
    """Up to ``limit`` missed and still unmet deadlines in scope after the deadline ``after``,
    worst (oldest due) first, and whether more follow: keyset on (due time, id)."""
    query = (
        select(IncidentRow, Deadline)
        .join(Deadline, Deadline.incident_id == IncidentRow.id)
        .where(Deadline.state == FIRED, Deadline.kind.in_(MEETABLE), _open_in(units))
    )
    if after is not None:
        key = await session.get(Deadline, after)
        if key is not None:
            query = query.where(
                or_(
                    Deadline.due_at > key.due_at,
                    and_(Deadline.due_at == key.due_at, Deadline.id > key.id),
                )
            )
    result = await session.execute(query.order_by(Deadline.due_at, Deadline.id).limit(limit + 1))
    pairs = [(incident, deadline) for incident, deadline in result.all()]
    return pairs[:limit], len(pairs) > limit


async def overdue_count(session: AsyncSession, units: list[str]) -> int:
    """How many missed deadlines in scope are still unmet (the ``/overdue`` heading)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Deadline)
        .join(IncidentRow, Deadline.incident_id == IncidentRow.id)
        .where(Deadline.state == FIRED, Deadline.kind.in_(MEETABLE), _open_in(units))
    )
    return int(count or 0)


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
