"""The reports domain's firers, registered with the deadline engine by the composition root:
a report delivered upward and not received (签收) within ``receipt_within`` gets one reminder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline
from bot.reports import flows
from bot.reports.service import RECEIPT
from bot.runtime import Runtime
from scheduling.engine import Firer


def firers(runtime: Runtime) -> dict[str, Firer]:
    """The firer of each deadline kind of this domain, bound to the runtime."""

    async def receipt(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.remind_receipt(session, runtime, deadline, now)

    return {RECEIPT: receipt}
