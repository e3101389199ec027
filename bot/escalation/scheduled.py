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
from bot.runtime import Runtime
from scheduling.engine import Firer

__all__ = ["firers", "lateness", "what"]  # lateness, what: until every caller imports messaging


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
