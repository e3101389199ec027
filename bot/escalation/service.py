"""The escalation ladder's state (SPEC §3.3): late marks, the chain snapshot, the rung rows and
their timeline events, in the engine's transaction. Nothing here sends anything: the flows
decide who is told.

A missed deadline is marked late for good and starts an ``escalation`` row carrying the chain
as it stood then; each escalation row is one rung, and firing it schedules the next rung
(``escalation.step`` later) or, at the top, the same rung again (``escalation.repeat``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline, IncidentRow
from bot.escalation import ladder
from bot.escalation.chain import Rung, snapshot_chain
from bot.incidents.deadlines import ACCEPT, ESCALATION
from bot.incidents.service import subject
from bot.levels import OPEN_STATES
from bot.roster import Roster
from bot.settings import Settings
from bot.timeline import record_event

UNREACHABLE_NOTE = "skipped: no Telegram account or unreachable"


@dataclass(frozen=True)
class Step:
    """One rung about to be told: the incident, the missed deadline, and the rung's people."""

    incident: IncidentRow
    missed: Deadline
    rung: ladder.OnRung

    @property
    def people(self) -> list[str]:
        """The rung's people."""
        return self.rung.people


async def open_incident(session: AsyncSession, deadline: Deadline) -> IncidentRow | None:
    """The deadline's incident, if it is still open (a closed one escalates nothing)."""
    incident = await session.get(IncidentRow, deadline.incident_id)
    return incident if incident is not None and incident.state in OPEN_STATES else None


async def start(
    session: AsyncSession,
    roster: Roster,
    settings: Settings,
    incident: IncidentRow,
    deadline: Deadline,
    now: datetime,
) -> list[Rung]:
    """A deadline passed unmet: mark it late and start the ladder from the chain as it stands
    now (an accept deadline skips officer and backup, who had the alert). Returns the rungs."""
    deadline.late = True
    record_event(
        session,
        at=now,
        kind="deadline.missed",
        subject=subject(incident.id),
        deadline=deadline.id,
        what=deadline.kind,
        due=deadline.due_at.isoformat(),
    )
    skip = ("officer", "backup") if deadline.kind == ACCEPT else ()
    rungs = snapshot_chain(roster, settings, incident.unit_id, now, skip=skip)
    if not rungs:
        record_event(session, at=now, kind="escalation.empty", subject=subject(incident.id))
        return rungs
    await session.flush()
    ladder.begin(
        session,
        ESCALATION,
        deadline,
        rungs,
        now,
        data={
            "missed": deadline.kind,
            "due": deadline.due_at.isoformat(),
            "number": deadline.sequence,
        },
    )
    record_event(
        session,
        at=now,
        kind="escalation.started",
        subject=subject(incident.id),
        deadline=deadline.id,
        rungs=[[p["person"] for p in r] for r in rungs],
    )
    return rungs


async def warned_deadline(
    session: AsyncSession, warning: Deadline
) -> tuple[IncidentRow, Deadline] | None:
    """The incident and the report deadline a warning row is about, if both still matter."""
    parent = await session.get(Deadline, warning.parent_id) if warning.parent_id else None
    incident = await open_incident(session, warning)
    return (incident, parent) if parent is not None and incident is not None else None


def record_warning(
    session: AsyncSession, incident: IncidentRow, due: Deadline, now: datetime
) -> None:
    """The assignee was reminded: the deadline remembers it (``/status`` reads "a warning was
    ignored" from it) and the timeline says so."""
    due.warned_at = due.warned_at or now
    record_event(
        session,
        at=now,
        kind="deadline.warned",
        subject=subject(incident.id),
        deadline=due.id,
        person=incident.assignee_id,
    )


async def next_step(session: AsyncSession, row: Deadline) -> Step | None:
    """The rung an escalation row stands for, or ``None`` when the missed deadline was met,
    cancelled or taken over meanwhile, or the incident is closed."""
    incident = await session.get(IncidentRow, row.incident_id)
    missed = await ladder.still_missed(session, row)
    if incident is None or missed is None or incident.state not in OPEN_STATES:
        return None
    return Step(incident=incident, missed=missed, rung=ladder.rung_of(row))


def rung_told(
    session: AsyncSession,
    settings: Settings,
    row: Deadline,
    step: Step,
    told: list[str],
    skipped: list[str],
    now: datetime,
) -> None:
    """Record who the rung reached and who was skipped, and schedule the next rung: at once when
    nobody here could be told, ``step`` later, or — at the top — again after ``repeat``."""
    record_event(
        session,
        at=now,
        kind="escalation.rung",
        subject=subject(step.incident.id),
        rung=step.rung.index,
        told=told,
        skipped=skipped,
        note=UNREACHABLE_NOTE if skipped else None,
    )
    ladder.climb(session, settings, row, step.rung, told, now)
