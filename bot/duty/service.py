"""Duty discipline's state (SPEC §3.7): shift changes booked ahead, handovers taken over or late,
spot checks asked, answered or missed, swaps and their answers, and the duty log read from the
timeline. Every change writes its timeline event (subject ``unit:<id>``) in the caller's
transaction; nothing here sends anything.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, cast, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Deadline,
    DirectiveRow,
    DutyShift,
    Event,
    IncidentRow,
    SpotCheck,
    SwapRow,
)
from bot.levels import OPEN_STATES
from bot.roster import Roster
from bot.timeline import record_event
from scheduling.rows import MET, PENDING, add, stop_children

# deadline kinds of this domain
SHIFT = "duty.shift"  # a shift change: the handover card, the shift's random spot checks
HANDOVER_LATE = "duty.handover"  # not taken over within accept_within
HANDOVER_ESCALATION = "duty.handover_up"  # the next rung told while nobody took over
RANDOM_CHECK = "duty.spotcheck"  # a random spot check falls due: ask
CHECK_DUE = "duty.spotcheck_due"  # the answer time ran out
KINDS = (SHIFT, HANDOVER_LATE, HANDOVER_ESCALATION, RANDOM_CHECK, CHECK_DUE)

OFFICER = "officer"
LOG_KINDS = ("call", "document", "notice", "other")
REQUESTED, ACCEPTED, APPROVED, REFUSED = "requested", "accepted", "approved", "refused"
ANSWERED, MISSED = "answered", "missed"


def unit_subject(unit_id: str) -> str:
    """The timeline subject of a unit's duty events."""
    return f"unit:{unit_id}"


# --- shift changes and handovers ----------------------------------------------------------


async def book_shift(
    session: AsyncSession, unit_id: str, starts_at: datetime, *, postgresql_db: bool
) -> bool:
    """Book the shift change of ``unit_id`` at ``starts_at`` with its deadline, once however
    often (and by however many processes) it is asked: the row is unique per unit and time."""
    values = {
        "unit_id": unit_id,
        "starts_at": starts_at,
        "incoming": [],
        "outgoing": [],
        "handover": False,
        "late": False,
    }
    dialect = postgresql if postgresql_db else sqlite
    statement = (
        dialect.insert(DutyShift)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["unit_id", "starts_at"])
        .returning(DutyShift.id)
    )
    shift_id = await session.scalar(statement)
    if shift_id is None:
        return False
    add(session, None, SHIFT, starts_at, data={"shift": shift_id, "unit": unit_id})
    return True


async def book_next_shifts(
    session: AsyncSession, roster: Roster, after: datetime, *, postgresql_db: bool
) -> None:
    """Book every unit's next shift change after ``after`` (already booked ones stay as they
    are)."""
    for unit_id in roster.units:
        moment = roster.next_change(unit_id, OFFICER, after)
        if moment is not None:
            await book_shift(session, unit_id, moment, postgresql_db=postgresql_db)


def random_check_times(
    unit_id: str, start: datetime, end: datetime, count: int, answer_within: timedelta
) -> list[datetime]:
    """``count`` unpredictable moments inside the shift ``[start, end)`` (leaving time to
    answer before it ends), the same for the same unit and shift — a seeded draw, so tests are
    deterministic — and different from one shift to the next."""
    span = (end - start - answer_within).total_seconds()
    if count <= 0 or span <= 60:
        return []
    draw = random.Random(f"{unit_id}|{start.isoformat()}")
    seconds = sorted(draw.uniform(60, span) for _ in range(count))
    return [start + timedelta(seconds=int(s)) for s in seconds]


def book_random_checks(session: AsyncSession, unit_id: str, times: list[datetime]) -> None:
    """The shift's random spot checks, as deadlines (booked by the shift change, once)."""
    for moment in times:
        add(session, None, RANDOM_CHECK, moment, data={"unit": unit_id})


async def open_shift(
    session: AsyncSession, deadline: Deadline, roster: Roster
) -> tuple[DutyShift, bool] | None:
    """The shift change a ``duty.shift`` row is about, with its holders filled in, and whether
    the holders change (a handover); ``None`` for a row without its shift."""
    shift = await session.get(DutyShift, deadline.data.get("shift"))
    if shift is None or shift.unit_id not in roster.units:
        return None
    moment = shift.starts_at
    shift.incoming = list(roster.holders(shift.unit_id, OFFICER, moment))
    shift.outgoing = list(roster.holders(shift.unit_id, OFFICER, moment - timedelta(seconds=1)))
    shift.handover = bool(shift.incoming) and set(shift.incoming) != set(shift.outgoing)
    return shift, shift.handover


def handover_sent(
    session: AsyncSession, shift: DutyShift, told: list[str], now: datetime, due: datetime
) -> None:
    """The card went to the incoming officers: the take-over deadline runs from now."""
    record_event(
        session,
        at=now,
        kind="duty.handover",
        subject=unit_subject(shift.unit_id),
        shift=shift.id,
        incoming=shift.incoming,
        outgoing=shift.outgoing,
        told=told,
    )
    add(session, None, HANDOVER_LATE, due, data={"shift": shift.id, "unit": shift.unit_id})


async def take_over(
    session: AsyncSession, shift_id: int, person_id: str, now: datetime
) -> DutyShift | None:
    """Take over duty (接班), once; ``None`` when it was taken over already."""
    taken = await session.execute(
        update(DutyShift)
        .where(DutyShift.id == shift_id, DutyShift.taken_over_at.is_(None))
        .values(taken_over_at=now, taken_over_by=person_id)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    shift = await session.get(DutyShift, shift_id)
    assert shift is not None
    await session.refresh(shift)
    rows = list(
        await session.scalars(
            select(Deadline).where(
                Deadline.kind == HANDOVER_LATE,
                Deadline.state.in_((PENDING, "fired")),
                Deadline.data["shift"].as_integer() == shift_id,
            )
        )
    )
    for row in rows:
        row.late = row.late or row.due_at < now
        row.state, row.met_at = MET, now
    await stop_children(session, [r.id for r in rows])
    record_event(
        session,
        at=now,
        kind="duty.handover.taken",
        actor=person_id,
        subject=unit_subject(shift.unit_id),
        shift=shift.id,
        late=shift.late,
    )
    return shift


async def handover_missed(
    session: AsyncSession, deadline: Deadline, now: datetime
) -> DutyShift | None:
    """Nobody took over in time: late for good (``None`` when taken over meanwhile)."""
    shift = await session.get(DutyShift, deadline.data.get("shift"))
    if shift is None or shift.taken_over_at is not None:
        return None
    deadline.late = True
    shift.late = True
    record_event(
        session,
        at=now,
        kind="duty.handover.late",
        subject=unit_subject(shift.unit_id),
        shift=shift.id,
    )
    return shift


async def shift_by_id(session: AsyncSession, shift_id: int) -> DutyShift | None:
    """A shift change."""
    return await session.get(DutyShift, shift_id)


async def open_incidents(
    session: AsyncSession, unit_id: str
) -> list[tuple[IncidentRow, Deadline | None]]:
    """The unit's open incidents, each with its next deadline still to be met."""
    incidents = list(
        await session.scalars(
            select(IncidentRow)
            .where(IncidentRow.unit_id == unit_id, IncidentRow.state.in_(tuple(OPEN_STATES)))
            .order_by(IncidentRow.id)
        )
    )
    out: list[tuple[IncidentRow, Deadline | None]] = []
    for incident in incidents:
        due = await session.scalar(
            select(Deadline)
            .where(
                Deadline.incident_id == incident.id,
                Deadline.kind.in_(("accept", "initial_report", "followup", "final")),
                Deadline.state.in_((PENDING, "fired")),
            )
            .order_by(Deadline.due_at)
            .limit(1)
        )
        out.append((incident, due))
    return out


def write_note(
    session: AsyncSession, unit_id: str, person_id: str, text: str, now: datetime
) -> None:
    """``/handover <notes>``: notes for the incoming officer."""
    record_event(
        session, at=now, kind="duty.note", actor=person_id, subject=unit_subject(unit_id), note=text
    )


def write_log(
    session: AsyncSession, unit_id: str, person_id: str, kind: str, text: str, now: datetime
) -> None:
    """``/log <kind> <text>``: an entry the officer writes."""
    record_event(
        session,
        at=now,
        kind="duty.log",
        actor=person_id,
        subject=unit_subject(unit_id),
        note=text,
        entry=kind,
    )


# --- the duty log -----------------------------------------------------------------------


async def log_entries(
    session: AsyncSession, unit_id: str, start: datetime, end: datetime
) -> list[Event]:
    """What happened in the unit's shift ``[start, end)``, oldest first: the unit's duty events
    and the timelines of its incidents and of the directives it leads (read from the timeline,
    not written twice)."""
    incident_ids = select(literal("incident:") + cast(IncidentRow.id, String)).where(
        IncidentRow.unit_id == unit_id
    )
    directive_ids = select(literal("directive:") + cast(DirectiveRow.id, String)).where(
        DirectiveRow.lead_unit_id == unit_id
    )
    rows = await session.scalars(
        select(Event)
        .where(
            Event.at >= start,
            Event.at < end,
            or_(
                Event.subject == unit_subject(unit_id),
                Event.subject.in_(incident_ids),
                Event.subject.in_(directive_ids),
            ),
        )
        .order_by(Event.at, Event.id)
    )
    return list(rows)


# --- spot checks ------------------------------------------------------------------------


async def ask_spot_check(
    session: AsyncSession,
    unit_id: str,
    officers: list[str],
    asked_by: str | None,
    now: datetime,
    answer_within: timedelta,
) -> SpotCheck:
    """A spot check asked now of the officers on duty, with its answer deadline."""
    check = SpotCheck(
        unit_id=unit_id,
        asked_by=asked_by,
        asked_at=now,
        due_at=now + answer_within,
        officers=officers,
        state=PENDING,
    )
    session.add(check)
    await session.flush()
    add(session, None, CHECK_DUE, check.due_at, data={"check": check.id, "unit": unit_id})
    record_event(
        session,
        at=now,
        kind="duty.spotcheck.asked",
        actor=asked_by,
        subject=unit_subject(unit_id),
        check=check.id,
        officers=officers,
    )
    return check


async def pending_checks_for(session: AsyncSession, person_id: str) -> list[SpotCheck]:
    """The spot checks waiting for this person's answer."""
    rows = await session.scalars(
        select(SpotCheck).where(SpotCheck.state == PENDING).order_by(SpotCheck.id)
    )
    return [c for c in rows if person_id in c.officers]


async def answer_check(
    session: AsyncSession, check_id: int, person_id: str, now: datetime
) -> SpotCheck | None:
    """I'm here: the check answered, once, in time (``None`` when no longer pending)."""
    done = await session.execute(
        update(SpotCheck)
        .where(SpotCheck.id == check_id, SpotCheck.state == PENDING, SpotCheck.due_at > now)
        .values(state=ANSWERED, answered_at=now, answered_by=person_id)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return None
    check = await session.get(SpotCheck, check_id)
    assert check is not None
    await session.refresh(check)
    await session.execute(
        update(Deadline)
        .where(
            Deadline.kind == CHECK_DUE,
            Deadline.state == PENDING,
            Deadline.data["check"].as_integer() == check_id,
        )
        .values(state=MET, met_at=now)
    )
    record_event(
        session,
        at=now,
        kind="duty.spotcheck.answered",
        actor=person_id,
        subject=unit_subject(check.unit_id),
        check=check.id,
        seconds=int((now - check.asked_at).total_seconds()),
    )
    return check


async def check_missed(
    session: AsyncSession, deadline: Deadline, now: datetime
) -> SpotCheck | None:
    """The answer time ran out: missed (``None`` when answered meanwhile)."""
    check = await session.get(SpotCheck, deadline.data.get("check"))
    if check is None or check.state != PENDING:
        return None
    check.state = MISSED
    deadline.late = True
    record_event(
        session,
        at=now,
        kind="duty.spotcheck.missed",
        subject=unit_subject(check.unit_id),
        check=check.id,
        officers=check.officers,
    )
    return check


@dataclass(frozen=True)
class DisciplineFigures:
    """One unit's duty discipline in a period, for the bulletin."""

    handovers: int = 0
    handovers_late: int = 0
    checks_answered: int = 0
    checks_missed: int = 0

    @property
    def answer_rate(self) -> float | None:
        """Answered spot checks over all decided ones, or ``None`` without any."""
        decided = self.checks_answered + self.checks_missed
        return self.checks_answered / decided if decided else None


async def discipline_figures(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[str, DisciplineFigures]:
    """Per unit, in ``[start, end)``: handovers and how many were late (by the shift change's
    time), spot checks answered and missed (by the time they were asked; pending ones are not
    counted). The one function the bulletin calls."""
    counts: dict[str, dict[str, int]] = {}
    shifts = await session.execute(
        select(DutyShift.unit_id, DutyShift.late, func.count())
        .where(DutyShift.handover, DutyShift.starts_at >= start, DutyShift.starts_at < end)
        .group_by(DutyShift.unit_id, DutyShift.late)
    )
    for unit, late, n in shifts:
        row = counts.setdefault(unit, {})
        row["handovers"] = row.get("handovers", 0) + n
        if late:
            row["handovers_late"] = row.get("handovers_late", 0) + n
    checks = await session.execute(
        select(SpotCheck.unit_id, SpotCheck.state, func.count())
        .where(SpotCheck.asked_at >= start, SpotCheck.asked_at < end)
        .group_by(SpotCheck.unit_id, SpotCheck.state)
    )
    for unit, state, n in checks:
        if state in (ANSWERED, MISSED):
            row = counts.setdefault(unit, {})
            row[f"checks_{state}"] = n
    return {unit: DisciplineFigures(**row) for unit, row in counts.items()}


# --- swaps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShiftSpan:
    """One person's shift on a position of a unit."""

    unit_id: str
    position: str
    start: datetime
    end: datetime


def shift_on(roster: Roster, person_id: str, day: date) -> ShiftSpan | None:
    """The person's shift that starts on ``day`` (local), if any."""
    tz = roster.timezone
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    found = roster.next_holding(person_id, midnight - timedelta(microseconds=1))
    if found is None:
        return None
    moment, holding = found
    if moment.astimezone(tz).date() != day:
        return None
    end = holding.until or moment + timedelta(days=1)
    return ShiftSpan(holding.unit, holding.position, moment, end)


def request_swap(
    session: AsyncSession, span: ShiftSpan, requester: str, colleague: str, now: datetime
) -> SwapRow:
    """A swap asked for."""
    swap = SwapRow(
        unit_id=span.unit_id,
        position=span.position,
        requester_id=requester,
        colleague_id=colleague,
        starts_at=span.start,
        ends_at=span.end,
        state=REQUESTED,
        requested_at=now,
    )
    session.add(swap)
    return swap


def swap_event(session: AsyncSession, swap: SwapRow, kind: str, actor: str, now: datetime) -> None:
    """A swap's step on the unit's timeline."""
    record_event(
        session,
        at=now,
        kind=f"duty.swap.{kind}",
        actor=actor,
        subject=unit_subject(swap.unit_id),
        swap=swap.id,
        requester=swap.requester_id,
        colleague=swap.colleague_id,
        start=swap.starts_at.isoformat(),
        end=swap.ends_at.isoformat(),
    )


async def decide_swap(
    session: AsyncSession, swap_id: int, expected: str, new_state: str, actor: str, now: datetime
) -> SwapRow | None:
    """Move a swap from ``expected`` to ``new_state``, once (``None`` when it moved already)."""
    moved = await session.execute(
        update(SwapRow)
        .where(SwapRow.id == swap_id, SwapRow.state == expected)
        .values(state=new_state, decided_at=now, decided_by=actor)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    swap = await session.get(SwapRow, swap_id)
    assert swap is not None
    await session.refresh(swap)
    return swap


async def swap_by_id(session: AsyncSession, swap_id: int) -> SwapRow | None:
    """A swap."""
    return await session.get(SwapRow, swap_id)
