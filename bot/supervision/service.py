"""What supervisors see (SPEC §3.5): open incidents and their next deadline with a colour,
overdue items, one incident's deadlines, reports and timeline (the periodic bulletin's
numbers are in ``figures``). Read-only but for booking the daily bulletin's deadline row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.models import Deadline, Event, IncidentRow, OfficialReport
from bot.db.types import UTCDateTime
from bot.incidents.deadlines import ESCALATION, MEETABLE
from bot.incidents.service import subject
from bot.levels import OPEN_STATES, effective_level, policy_for
from bot.settings import Settings
from bot.timeline import events_about
from scheduling.rows import FIRED, PENDING, add

RED, YELLOW, BLUE, NONE = "🔴", "🟡", "🔵", "▫️"
LEVEL_ORDER = ("I", "II", "III", "IV", "unassessed")
BULLETIN = "bulletin"  # the deadline kind of the daily bulletin
BULLETIN_CHART = "bulletin_chart"  # its chart, drawn after the bulletin committed
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
    warned = any(r.warned_at is not None for r in pending)
    if overdue or warned:
        return YELLOW, next_due, overdue
    near = policy_for(settings, incident.level, incident.sensitive).warn_before
    if pending and pending[0].due_at - now <= near:
        return BLUE, next_due, overdue
    return NONE, next_due, overdue


# --- /status and /overdue, one page at a time (keyset pagination in the database) ---------

PAGE_ROWS = 40  # incidents read for one /status page at most (fewer may fit)
OVERDUE_ROWS = 20  # missed deadlines on one /overdue page: ≤ ~180 characters a line
COUNT_CAP = 1000  # a /status count reads at most this many rows; at the cap it shows "1000+"


@dataclass(frozen=True)
class StatusKey:
    """Where a ``/status`` page ends: the level's rank and the incident number of its last
    line; the next page starts after it."""

    rank: int
    incident_id: int


@dataclass(frozen=True)
class StatusCounts:
    """The counts heading the first ``/status`` page: each exact below ``COUNT_CAP``, and
    ``COUNT_CAP`` when there are at least that many (shown "1000+")."""

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


def _overdue(row: type[Deadline]) -> ColumnElement[bool]:
    """A deadline people had to meet, missed and still not met (late)."""
    return and_(row.state == FIRED, row.kind.in_(MEETABLE))


def _due(row: type[Deadline]) -> ColumnElement[bool]:
    """A deadline people have to meet, not yet due."""
    return and_(row.state == PENDING, row.kind.in_(MEETABLE))


def _warned(row: type[Deadline]) -> ColumnElement[bool]:
    """A deadline not yet due whose warning has fired (read through ``ix_deadlines_warned``)."""
    return and_(row.state == PENDING, row.warned_at.is_not(None))


def _moment(name: str) -> BindParameter[datetime]:
    return bindparam(name, type_=UTCDateTime())


def _near_key(level: str, sensitive: bool) -> str:
    return f"near_{LEVEL_ORDER.index(level)}_{int(sensitive)}"


@cache
def _counts_query() -> Select[int, int, int, int, int]:
    """The five capped counts of ``status_counts`` as one statement, built once (the scope,
    the moments and each level's warning time are parameters)."""
    d = aliased(Deadline, name="d")
    red_before, horizon = _moment("red_before"), _moment("horizon")
    in_scope = and_(
        IncidentRow.unit_id.in_(bindparam("units", expanding=True)),
        IncidentRow.state.in_(OPEN_STATES),
    )
    near = case(
        *(
            (
                and_(IncidentRow.level == level, IncidentRow.sensitive.is_(sensitive)),
                _moment(_near_key(level, sensitive)),
            )
            for level in LEVEL_ORDER
            for sensitive in (False, True)
        ),
        else_=_moment("now"),
    )

    def open_incident(*also: ColumnElement[bool]) -> ColumnElement[bool]:
        return (
            select(IncidentRow.id).where(IncidentRow.id == d.incident_id, in_scope, *also).exists()
        )

    def none_of_its(which: Callable[[type[Deadline]], ColumnElement[bool]]) -> ColumnElement[bool]:
        """No other deadline of d's incident is ``which`` (one anti-join per condition: each
        probes ``ix_deadlines_incident``)."""
        e = aliased(Deadline)
        return ~select(e.id).where(e.incident_id == d.incident_id, which(e)).exists()

    def count(*where: ColumnElement[bool], of: Any = d.id) -> ScalarSelect[int]:
        capped = select(of).where(*where).limit(COUNT_CAP).subquery()
        return select(func.count()).select_from(capped).scalar_subquery()

    total = count(in_scope, of=IncidentRow.id)
    # 🔴: late by more than a step (counted on the first such deadline)
    red = count(
        _overdue(d),
        d.due_at < red_before,
        none_of_its(lambda e: and_(_overdue(e), e.due_at < red_before, e.id < d.id)),
        open_incident(),
    )
    # 🟡: late, none by more than a step (on its first late deadline) ...
    late = count(
        _overdue(d),
        d.due_at >= red_before,
        none_of_its(lambda e: and_(_overdue(e), e.due_at < red_before)),
        none_of_its(lambda e: and_(_overdue(e), e.id < d.id)),
        open_incident(),
    )
    # ... or not late but warned (on its first warned deadline)
    warned = count(
        _warned(d),
        none_of_its(_overdue),
        none_of_its(lambda e: and_(_warned(e), e.id < d.id)),
        open_incident(),
    )
    # 🔵: neither, and its next deadline (d) is within its level's warning time
    blue = count(
        _due(d),
        d.due_at <= horizon,
        none_of_its(_overdue),
        none_of_its(_warned),
        none_of_its(
            lambda e: and_(_due(e), e.due_at <= d.due_at, or_(e.due_at < d.due_at, e.id < d.id))
        ),
        open_incident(d.due_at <= near),
    )
    return select(total, red, late, warned, blue)


async def status_counts(
    session: AsyncSession, settings: Settings, units: list[str], now: datetime
) -> StatusCounts:
    """Total and colour counts of the open incidents in scope, each exact below ``COUNT_CAP``
    and ``COUNT_CAP`` (shown "1000+") from there, so the first page costs the same over 100 or
    100,000 open incidents. No incident is loaded: each count walks an index of what it counts
    (open incidents by unit; late deadlines; deadlines near; warned deadlines, whatever the
    history) and counts an incident once, on one of its deadlines (the representative: no
    other of its deadlines comes before it). 🔴 here is "overdue by more than one escalation
    step"; the per-line colour also counts an escalation that left the unit earlier."""
    near = {
        _near_key(level, sensitive): now
        + policy_for(settings, effective_level(level, sensitive)).warn_before
        for level in LEVEL_ORDER
        for sensitive in (False, True)
    }
    params = {
        "units": units,
        "now": now,
        "red_before": now - settings.escalation.step,
        "horizon": max(near.values()),
        **near,
    }
    row = (await session.execute(_counts_query(), params)).one()
    total, red, late, warned, blue = (int(n) for n in row)
    return StatusCounts(total, red, min(late + warned, COUNT_CAP), blue)


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


def book_bulletin_chart(session: AsyncSession, due: datetime, job: dict[str, object]) -> None:
    """Book the drawing of a bulletin's chart (its numbers and readers in ``job``): the engine
    draws it outside any transaction, then queues it in a short one of its own, once."""
    add(session, None, BULLETIN_CHART, due, data=job)
