"""Deadline rows: created, met, cancelled and recomputed in the caller's transaction.

The rules of SPEC §3.3: accept, initial report and final report count from ``reported_at``;
follow-ups count from the last official report; a warning goes ``warn_before`` each report
deadline. Nothing here sends anything: the engine fires what falls due.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline, IncidentRow
from bot.settings import Settings
from scheduling.policy import next_followup_due, policy_for

PENDING, MET, FIRED, CANCELLED = "pending", "met", "fired", "cancelled"
ACCEPT, INITIAL, FOLLOWUP, FINAL = "accept", "initial_report", "followup", "final"
WARNING, ESCALATION = "warning", "escalation"
REPORT_KINDS = (INITIAL, FOLLOWUP, FINAL)
MEETABLE = (ACCEPT, *REPORT_KINDS)


def add(
    session: AsyncSession,
    incident_id: int | None,
    kind: str,
    due: datetime,
    *,
    sequence: int | None = None,
    parent: Deadline | None = None,
    data: dict[str, object] | None = None,
) -> Deadline:
    """Add one pending deadline."""
    row = Deadline(
        incident_id=incident_id,
        kind=kind,
        due_at=due,
        state=PENDING,
        sequence=sequence,
        late=False,
        data=data or {},
    )
    if parent is not None:
        row.parent_id = parent.id
    session.add(row)
    return row


async def add_report_deadline(
    session: AsyncSession,
    settings: Settings,
    incident: IncidentRow,
    kind: str,
    due: datetime,
    now: datetime,
    *,
    sequence: int | None = None,
) -> Deadline:
    """A report deadline and, if there is still time for it, its warning."""
    deadline = add(
        session, incident.id, kind, due, sequence=sequence, data={"after": now.isoformat()}
    )
    await session.flush()
    warn_at = due - policy_for(settings, incident.level, incident.sensitive).warn_before
    if warn_at > now:
        add(session, incident.id, WARNING, warn_at, parent=deadline)
    return deadline


async def open_for(session: AsyncSession, incident_id: int, kinds: Sequence[str]) -> list[Deadline]:
    """An incident's deadlines of ``kinds`` that are still to be met (pending, or fired = late)."""
    rows = await session.scalars(
        select(Deadline)
        .where(
            Deadline.incident_id == incident_id,
            Deadline.kind.in_(kinds),
            Deadline.state.in_((PENDING, FIRED)),
        )
        .order_by(Deadline.id)
    )
    return list(rows)


async def stop_children(session: AsyncSession, parents: Sequence[int]) -> None:
    """Cancel the warnings and escalation rungs still pending for these deadlines."""
    if parents:
        await session.execute(
            update(Deadline)
            .where(Deadline.parent_id.in_(parents), Deadline.state == PENDING)
            .values(state=CANCELLED)
        )


async def meet(session: AsyncSession, incident_id: int, kind: str, at: datetime) -> list[Deadline]:
    """The thing due was done: mark the open deadlines of ``kind`` met (late ones stay late) and
    stop their warnings and escalations. Returns the deadlines met."""
    rows = await open_for(session, incident_id, (kind,))
    for row in rows:
        row.late = row.late or row.due_at < at
        row.state, row.met_at = MET, at
    await stop_children(session, [r.id for r in rows])
    return rows


async def cancel_all(session: AsyncSession, incident_id: int) -> None:
    """Nothing more is due for this incident (closed, dismissed, merged)."""
    await session.execute(
        update(Deadline)
        .where(Deadline.incident_id == incident_id, Deadline.state == PENDING)
        .values(state=CANCELLED)
    )
    fired = await open_for(session, incident_id, MEETABLE)
    for row in fired:
        row.state = CANCELLED
    await stop_children(session, [r.id for r in fired])


async def stop_escalations(session: AsyncSession, incident_id: int) -> None:
    """Somebody took over: cancel every escalation rung still pending for the incident."""
    await session.execute(
        update(Deadline)
        .where(
            Deadline.incident_id == incident_id,
            Deadline.kind == ESCALATION,
            Deadline.state == PENDING,
        )
        .values(state=CANCELLED)
    )


async def on_reported(
    session: AsyncSession, settings: Settings, incident: IncidentRow, now: datetime
) -> None:
    """A new report (or one transferred in) must be accepted within the level's limit."""
    policy = policy_for(settings, incident.level, incident.sensitive)
    add(session, incident.id, ACCEPT, incident.reported_at + policy.accept)


async def on_transferred(
    session: AsyncSession, settings: Settings, incident: IncidentRow, now: datetime
) -> None:
    """The new unit must accept within the level's limit, counted from the transfer."""
    await meet(session, incident.id, ACCEPT, now)  # the old unit's acceptance clock stops
    add(
        session,
        incident.id,
        ACCEPT,
        now + policy_for(settings, incident.level, incident.sensitive).accept,
    )


async def on_accepted(
    session: AsyncSession, settings: Settings, incident: IncidentRow, now: datetime
) -> None:
    """Accepted: the accept deadline is met; the initial report (first time only) falls due."""
    await meet(session, incident.id, ACCEPT, now)
    if await open_for(session, incident.id, REPORT_KINDS) or incident.state != "accepted":
        return
    already = await session.scalar(
        select(Deadline.id).where(Deadline.incident_id == incident.id, Deadline.kind == INITIAL)
    )
    if already is not None:
        return
    policy = policy_for(settings, incident.level, incident.sensitive)
    await add_report_deadline(
        session, settings, incident, INITIAL, incident.reported_at + policy.initial_report, now
    )
    if policy.close_within is not None:
        await add_report_deadline(
            session, settings, incident, FINAL, incident.reported_at + policy.close_within, now
        )


async def on_report_filed(
    session: AsyncSession,
    settings: Settings,
    incident: IncidentRow,
    kind: str,
    number: int,
    now: datetime,
) -> None:
    """An official report was filed: its deadline is met; the next follow-up falls due."""
    if kind == "final":
        await meet(session, incident.id, FINAL, now)
        await cancel_all(session, incident.id)
        return
    await meet(session, incident.id, INITIAL if kind == "initial" else FOLLOWUP, now)
    if kind == "followup" or not await open_for(session, incident.id, (FOLLOWUP,)):
        due = next_followup_due(settings, incident.level, incident.sensitive, now)
        await add_report_deadline(
            session, settings, incident, FOLLOWUP, due, now, sequence=number + 1
        )


async def recompute(
    session: AsyncSession, settings: Settings, incident: IncidentRow, now: datetime
) -> list[Deadline]:
    """The level changed: move the pending deadlines to the new level's limits (one the new
    level makes overdue fires at once) and renew their warnings. Returns those moved."""
    policy = policy_for(settings, incident.level, incident.sensitive)
    rows = list(
        await session.scalars(
            select(Deadline).where(
                Deadline.incident_id == incident.id,
                Deadline.state == PENDING,
                Deadline.kind.in_(MEETABLE),
            )
        )
    )
    moved = []
    for row in rows:
        if row.kind == ACCEPT:
            due = incident.reported_at + policy.accept
        elif row.kind == INITIAL:
            due = incident.reported_at + policy.initial_report
        elif row.kind == FINAL and policy.close_within is not None:
            due = incident.reported_at + policy.close_within
        elif row.kind == FOLLOWUP:
            last = row.data.get("after")
            base = (
                datetime.fromisoformat(last)
                if isinstance(last, str)
                else row.due_at - (policy.followup_every)
            )
            due = min(
                row.due_at, next_followup_due(settings, incident.level, incident.sensitive, base)
            )
        else:
            continue
        if due != row.due_at:
            row.due_at = due
            moved.append(row)
    await stop_children(session, [r.id for r in moved])
    await session.flush()
    for row in moved:
        if row.kind != ACCEPT:
            warn_at = row.due_at - policy.warn_before
            if warn_at > now:
                add(session, incident.id, WARNING, warn_at, parent=row)
    return moved


async def renew_missed_reports(
    session: AsyncSession, settings: Settings, incident_id: int, now: datetime
) -> list[Deadline]:
    """Taking over stops an escalation, not the obligation: a report that is still missing
    falls due again ``escalation.repeat`` later (the missed one stays late)."""
    renewed = []
    for missed in await open_for(session, incident_id, REPORT_KINDS):
        if missed.state != FIRED:
            continue
        renewed.append(
            add(
                session,
                incident_id,
                missed.kind,
                now + settings.escalation.repeat,
                sequence=missed.sequence,
                data={**missed.data, "renews": missed.id},
            )
        )
    return renewed
