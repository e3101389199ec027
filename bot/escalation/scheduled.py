"""The escalation domain's firers, registered with the deadline engine by the composition root.

Each runs inside the engine's transaction, so the late mark, the timeline events, the messages
(outbox rows) and the next rung commit together or not at all. They only dispatch: the rules
are in ``flows`` (who is told) and ``service`` (the ladder's state).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline
from bot.escalation import flows
from bot.escalation.messaging import lateness, what
from bot.incidents.deadlines import (
    ACCEPT,
    ESCALATION,
    FINAL,
    FLASH,
    FOLLOWUP,
    INITIAL,
    WARNING,
)
from bot.levels import ASSESSED_LEVELS
from bot.runtime import Runtime
from scheduling.engine import Firer, Urgency

__all__ = [
    "URGENCY",
    "firers",
    "lateness",
    "what",
]  # lateness, what: until every caller imports messaging


# After an outage the engine catches up most urgent first: missed accepts and flash reports,
# then escalation rungs, then warnings and the first written report, then the later reports;
# within each, level I first. Deadlines of other domains (duty, bulletin) come after.
URGENCY = Urgency(
    kinds={ACCEPT: 0, FLASH: 0, ESCALATION: 1, WARNING: 2, INITIAL: 2, FOLLOWUP: 3, FINAL: 3},
    levels={level.value: rank for rank, level in enumerate(ASSESSED_LEVELS)},
)


def firers(runtime: Runtime) -> dict[str, Firer]:
    """The firer of each deadline kind, bound to the runtime."""

    async def missed(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.missed(session, runtime, deadline, now)

    async def warning(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.warn(session, runtime, deadline, now)

    async def escalate(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.escalate(session, runtime, deadline, now)

    return {
        ACCEPT: missed,
        FLASH: missed,
        INITIAL: missed,
        FOLLOWUP: missed,
        FINAL: missed,
        WARNING: warning,
        ESCALATION: escalate,
    }
