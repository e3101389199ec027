"""Duty discipline's firers (SPEC §3.7), registered with the deadline engine by the composition
root, and the booking of each unit's next shift change at start.

A shift change is a deadline row booked ahead (unique per unit and time), so a restart neither
skips it (the row waits, and fires at the first tick) nor repeats it (the engine claims it once,
and booking it again changes nothing).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline
from bot.duty import flows, service
from bot.identity.in_force import roster_in_force
from bot.runtime import Runtime
from scheduling.engine import Firer

__all__ = ["ensure_shifts", "firers"]


async def ensure_shifts(runtime: Runtime) -> None:
    """On taking up the duties: the roster in force again (a standby may have been waiting while
    the active process approved swaps), then every unit's next shift change booked unless it is
    (once, however many processes start)."""
    async with runtime.database.transaction() as session:
        runtime.roster = await roster_in_force(session, runtime.roster, runtime.now())
        await flows.book_ahead(session, runtime, runtime.now())


def firers(runtime: Runtime) -> dict[str, Firer]:
    """The firer of each duty deadline kind, bound to the runtime."""

    async def shift(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.shift_changed(session, runtime, deadline, now)

    async def late(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.handover_late(session, runtime, deadline, now)

    async def up(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.handover_up(session, runtime, deadline, now)

    async def ask(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.random_check(session, runtime, deadline, now)

    async def due(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.check_due(session, runtime, deadline, now)

    return {
        service.SHIFT: shift,
        service.HANDOVER_LATE: late,
        service.HANDOVER_ESCALATION: up,
        service.RANDOM_CHECK: ask,
        service.CHECK_DUE: due,
    }
