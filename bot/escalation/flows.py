"""What happens when a deadline falls due (SPEC §3.3), and who is told: the assignee is
reminded before a report deadline; a missed deadline is marked late and walks up the chain,
each rung told with the escalation card and Take over, skipping people the bot cannot reach.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline
from bot.delivery.notify import notify
from bot.escalation import messaging, service
from bot.levels import priority_of
from bot.runtime import Runtime


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
    notified = await notify(
        session,
        runtime.audience,
        step.people,
        lambda tr: messaging.escalation_card(tr, roster, settings, incident, step.missed, now),
        priority=priority_of(incident),
        markup=lambda tr: messaging.take_over_button(tr, incident.id),
        skip_unreachable=True,
    )
    service.rung_told(session, settings, row, step, notified.told, notified.skipped, now)
