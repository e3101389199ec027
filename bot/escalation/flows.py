"""What happens when a deadline falls due (SPEC §3.3), and who is told: the assignee is
reminded before a report deadline; a missed deadline is marked late and walks up the chain,
each rung told with the escalation card and Take over, skipping people the bot cannot reach.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Action, Actor, may
from bot.db.models import Deadline
from bot.delivery.notify import notify
from bot.escalation import messaging, service
from bot.incidents import service as incidents
from bot.incidents.deadlines import MEETABLE
from bot.incidents.routing import alert_targets
from bot.levels import OPEN_STATES, priority_of
from bot.reports import flows as report_flows
from bot.reports import service as report_service
from bot.runtime import Runtime
from bot.timeline import record_event
from scheduling.rows import FIRED, open_for


async def missed(
    session: AsyncSession, runtime: Runtime, deadline: Deadline, now: datetime
) -> None:
    """A deadline passed unmet: late for good, and the ladder starts (its first rung fires at
    once, as its own row)."""
    incident = await service.open_incident(session, deadline)
    if incident is not None:
        await service.start(session, runtime.roster, runtime.settings, incident, deadline, now)


async def warn(session: AsyncSession, runtime: Runtime, warning: Deadline, now: datetime) -> None:
    """``warn_before`` a report deadline: remind the assignee."""
    found = await service.warned_deadline(session, warning)
    if found is None:
        return
    incident, due = found
    settings = runtime.settings
    await notify(
        session,
        runtime.audience,
        [incident.assignee_id],
        lambda tr: messaging.reminder(tr, incident, due, settings),
        priority=priority_of(incident),
    )
    service.record_warning(session, incident, due, now)


async def escalate(session: AsyncSession, runtime: Runtime, row: Deadline, now: datetime) -> None:
    """One rung of the ladder: tell its reachable people, then schedule the next rung."""
    step = await service.next_step(session, row)
    if step is None:
        return
    roster, settings, incident = runtime.roster, runtime.settings, step.incident
    waiting = await report_service.awaiting_signoff(session, incident.id)
    signers = (
        None
        if waiting is None
        else [
            roster.people[p].name
            for p in report_flows.signers(runtime, incident.unit_id, waiting.author_id)
        ]
    )
    notified = await notify(
        session,
        runtime.audience,
        step.people,
        lambda tr: messaging.escalation_card(
            tr, roster, settings, incident, step.missed, now, signers
        ),
        priority=priority_of(incident),
        markup=lambda tr: messaging.take_over_button(tr, incident.id),
        skip_unreachable=True,
    )
    service.rung_told(session, settings, row, step, notified.told, notified.skipped, now)


async def press(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int
) -> tuple[bool, int]:
    """Press (催办): an urgent reminder to the people responsible below — the assignee, else
    the unit's officers on duty — recorded on the timeline with who pressed. Responsibility
    stays below (下级对上级负责). Returns whether it was done and how many were told."""
    incident = await incidents.get(session, number)
    if incident is None or incident.state not in OPEN_STATES:
        return False, 0
    if not may(
        actor, Action.PRESS, await incidents.subject_for(session, incident, actor, Action.PRESS)
    ):
        return False, 0
    now, roster, settings = runtime.now(), runtime.roster, runtime.settings
    late = [d for d in await open_for(session, incident.id, MEETABLE) if d.state == FIRED]
    missed = late[0] if late else None
    if incident.assignee_id:
        people: list[str] = [incident.assignee_id]
    else:
        people = [p for p, _, _ in alert_targets(roster, incident.unit_id, now).people]
    name = actor.person.name
    notified = await notify(
        session,
        runtime.audience,
        [p for p in people if p != actor.id],
        lambda tr: messaging.pressed(tr, roster, settings, incident, missed, name),
        priority=priority_of(incident),
    )
    record_event(
        session,
        at=now,
        kind="escalation.pressed",
        actor=actor.id,
        subject=incidents.subject(incident.id),
        told=notified.told,
        what=missed.kind if missed else None,
    )
    return True, len(notified.told)
