"""Directives' firers (SPEC §3.6), registered with the deadline engine by the composition root.

Each runs inside the engine's transaction: the late mark, the reminder, the rung's cards and the
next rung commit together or not at all, so a restart neither loses nor repeats one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline
from bot.directives import flows, service
from bot.runtime import Runtime
from scheduling.engine import Firer

# The order of catch-up after an outage (with the incident kinds' ranks of
# ``bot.escalation.scheduled.URGENCY``): a missed receipt and the rungs climbing for it like an
# escalation, then the feedback deadline, then its reminder.
URGENCY_RANKS = {service.RECEIVE: 1, service.ESCALATION: 1, service.DUE: 2, service.WARNING: 3}


def firers(runtime: Runtime) -> dict[str, Firer]:
    """The firer of each directive deadline kind, bound to the runtime."""

    async def missed(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.missed(session, runtime, deadline, now)

    async def remind(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.remind(session, runtime, deadline, now)

    async def escalate(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.escalate(session, runtime, deadline, now)

    return {
        service.RECEIVE: missed,
        service.DUE: missed,
        service.WARNING: remind,
        service.ESCALATION: escalate,
    }
