"""Deadline rows: created, met, cancelled and recomputed in the caller's transaction.

The rules of SPEC §3.3: accept, flash report, initial report and final report count from
``reported_at``; follow-ups count from the last official report; a warning goes ``warn_before``
each report deadline. Each row carries the unit that holds it (``data["unit"]``): a transfer moves
the pending ones to the new unit, while one already missed stays charged to the old unit.
Nothing here sends anything: the engine fires what falls due.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline, IncidentRow
from bot.levels import (
    accept_due,
    final_report_due,
    flash_report_due,
    followup_on_change_due,
    incident_policy,
    initial_report_due,
    next_followup_due,
    warning_at,
)
from bot.settings import Settings
from scheduling.rows import CANCELLED, FIRED, PENDING, add, meet, open_for, stop_children

ACCEPT, INITIAL, FOLLOWUP, FINAL = "accept", "initial_report", "followup", "final"
FLASH = "flash_report"
WARNING, ESCALATION = "warning", "escalation"
REPORT_KINDS = (FLASH, INITIAL, FOLLOWUP, FINAL)
MEETABLE = (ACCEPT, *REPORT_KINDS)


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
        session,
        incident.id,
        kind,
        due,
        sequence=sequence,
        data={"after": now.isoformat(), "unit": incident.unit_id},
    )
    warn_at = warning_at(settings, incident, due)
    if warn_at > now:
        add(session, incident.id, WARNING, warn_at, parent=deadline)
    return deadline


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
    """A new report must be accepted within the level's limit, and — for the levels that have
    one — the flash report (快报) sent within its limit, whoever holds the incident then."""
    add(session, incident.id, ACCEPT, accept_due(settings, incident), data=_unit(incident))
    flash_due = flash_report_due(settings, incident)
    if flash_due is not None:
        await add_report_deadline(session, settings, incident, FLASH, flash_due, now)


def _unit(incident: IncidentRow) -> dict[str, object]:
    return {"unit": incident.unit_id}


async def on_transferred(
    session: AsyncSession, settings: Settings, incident: IncidentRow, now: datetime
) -> None:
    """The new unit must accept within the level's limit, counted from the transfer
    (``incident.unit_since``); the old unit's acceptance clock stops. Report deadlines still
    pending move to the new unit; one already missed stays charged to the unit that missed it."""
    await meet(session, incident.id, ACCEPT, now)
    add(session, incident.id, ACCEPT, accept_due(settings, incident), data=_unit(incident))
    pending = await session.scalars(
        select(Deadline).where(
            Deadline.incident_id == incident.id,
            Deadline.state == PENDING,
            Deadline.kind.in_(REPORT_KINDS),
        )
    )
    for row in pending:
        row.data = {**row.data, "unit": incident.unit_id}


async def on_accepted(
    session: AsyncSession, settings: Settings, incident: IncidentRow, now: datetime
) -> None:
    """Accepted: the accept deadline is met; the initial report (first time only) falls due."""
    await meet(session, incident.id, ACCEPT, now)
    if await open_for(session, incident.id, (INITIAL, FOLLOWUP, FINAL)):
        return
    if incident.state != "accepted":
        return
    already = await session.scalar(
        select(Deadline.id).where(Deadline.incident_id == incident.id, Deadline.kind == INITIAL)
    )
    if already is not None:
        return
    await add_report_deadline(
        session, settings, incident, INITIAL, initial_report_due(settings, incident), now
    )
    final_due = final_report_due(settings, incident)
    if final_due is not None:
        await add_report_deadline(session, settings, incident, FINAL, final_due, now)


async def on_report_filed(
    session: AsyncSession,
    settings: Settings,
    incident: IncidentRow,
    kind: str,
    number: int,
    now: datetime,
    known: Mapping[str, Sequence[Deadline]] | None = None,
) -> None:
    """An official report was filed: its deadline is met; after a written report the next
    follow-up falls due (a flash report only meets the flash deadline). ``known``: open
    deadlines by kind, already read in this transaction (not read again)."""
    known = known or {}

    async def met(deadline_kind: str) -> None:
        await meet(session, incident.id, deadline_kind, now, known=known.get(deadline_kind))

    if kind == "flash":
        await met(FLASH)
        return
    if kind == "final":
        await met(FINAL)
        await cancel_all(session, incident.id)
        return
    if kind == "initial":
        # A written 首报 also stands for the flash report if none was sent.
        await met(FLASH)
    await met(INITIAL if kind == "initial" else FOLLOWUP)
    if kind == "followup" or not await open_for(session, incident.id, (FOLLOWUP,)):
        due = next_followup_due(
            settings, incident.level, incident.sensitive, now, incident.unit_id, incident.category
        )
        if due is not None:
            await add_report_deadline(
                session, settings, incident, FOLLOWUP, due, now, sequence=number + 1
            )


async def on_casualties_rose(
    session: AsyncSession, settings: Settings, incident: IncidentRow, number: int, now: datetime
) -> Deadline | None:
    """Casualties rose after the 首报: a 续报 falls due ``followup_on_change`` from now (sooner
    than the one already due, if any). Returns the follow-up deadline moved or added."""
    due = followup_on_change_due(settings, incident, now)
    if due is None or incident.state != "initial_reported":
        return None
    pending = [r for r in await open_for(session, incident.id, (FOLLOWUP,)) if r.state == PENDING]
    if pending:
        row = pending[0]
        if row.due_at <= due:
            return None
        row.due_at = due
        await stop_children(session, [row.id])
        await session.flush()
        warn_at = warning_at(settings, incident, due)
        if warn_at > now:
            add(session, incident.id, WARNING, warn_at, parent=row)
        return row
    return await add_report_deadline(
        session, settings, incident, FOLLOWUP, due, now, sequence=number
    )


async def recompute(
    session: AsyncSession, settings: Settings, incident: IncidentRow, now: datetime
) -> list[Deadline]:
    """The level changed: move the pending deadlines to the new level's limits (one the new
    level makes overdue fires at once) and renew their warnings; a flash report the new level
    asks for (and nobody sent yet) falls due, one it does not ask for is no longer due.
    Returns the deadlines moved or added."""
    rows = list(
        await session.scalars(
            select(Deadline).where(
                Deadline.incident_id == incident.id,
                Deadline.state == PENDING,
                Deadline.kind.in_(MEETABLE),
            )
        )
    )
    policy = incident_policy(settings, incident)
    flash_due = flash_report_due(settings, incident)
    moved: list[Deadline] = []
    for row in rows:
        final_due = final_report_due(settings, incident)
        due: datetime | None
        if row.kind == ACCEPT:
            due = accept_due(settings, incident)
        elif row.kind == FLASH:
            if flash_due is None:
                row.state = CANCELLED
                await stop_children(session, [row.id])
                continue
            due = flash_due
        elif row.kind == INITIAL:
            due = initial_report_due(settings, incident)
        elif row.kind == FINAL and final_due is not None:
            due = final_due
        elif row.kind == FOLLOWUP:
            last = row.data.get("after")
            if not isinstance(last, str) or row.data.get("on_change"):
                continue
            following = next_followup_due(
                settings,
                incident.level,
                incident.sensitive,
                datetime.fromisoformat(last),
                incident.unit_id,
                incident.category,
            )
            due = row.due_at if following is None else min(row.due_at, following)
        else:
            continue
        if due != row.due_at:
            row.due_at = due
            moved.append(row)
    await stop_children(session, [r.id for r in moved])
    await session.flush()
    for row in moved:
        if row.kind != ACCEPT:
            warn_at = warning_at(settings, incident, row.due_at)
            if warn_at > now:
                add(session, incident.id, WARNING, warn_at, parent=row)
    if flash_due is not None and policy.flash_report is not None:
        ever = await session.scalar(
            select(Deadline.id).where(Deadline.incident_id == incident.id, Deadline.kind == FLASH)
        )
        if ever is None:
            moved.append(
                await add_report_deadline(session, settings, incident, FLASH, flash_due, now)
            )
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
                data={**missed.data, "renews": missed.id, "unit": missed.data.get("unit")},
            )
        )
    return renewed
