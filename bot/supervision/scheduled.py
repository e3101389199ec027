"""The daily bulletin (SPEC §3.5) as a deadline row like any other: booked at start, fired by
the engine at ``bulletin.daily_at``, and booked again for the next day when it fires. Its charts
are rows of their own (``bulletin_chart``), booked by that firing: the engine draws each after
the firing committed, outside any transaction, then queues it in a short one (``Prepared``), so
a restart in between still posts it, once."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline
from bot.runtime import Runtime
from bot.supervision import flows
from bot.supervision import service as supervision
from scheduling.engine import Firer, Prepared

BULLETIN, BULLETIN_CHART = supervision.BULLETIN, supervision.BULLETIN_CHART

__all__ = [
    "BULLETIN",
    "BULLETIN_CHART",
    "bulletin_chart_firer",
    "bulletin_firer",
    "ensure_daily_bulletin",
    "next_bulletin_at",
]


def next_bulletin_at(runtime: Runtime, after: datetime) -> datetime:
    """The next ``bulletin.daily_at`` (local) after ``after``."""
    tz = runtime.settings.timezone
    local = after.astimezone(tz)
    moment: time = runtime.settings.bulletin_daily_at
    candidate = datetime.combine(local.date(), moment, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), moment, tzinfo=tz)
    return candidate.astimezone(after.tzinfo)


async def ensure_daily_bulletin(runtime: Runtime) -> None:
    """Book the next daily bulletin unless one is pending (once, however many processes
    start)."""
    async with runtime.database.transaction() as session:
        await supervision.book_bulletin(
            session,
            next_bulletin_at(runtime, runtime.now()),
            postgresql=runtime.database.is_postgresql,
        )


def bulletin_firer(runtime: Runtime) -> Firer:
    """Post the bulletin to every supervisor (their scope), then book the next one."""

    async def fire(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        await flows.post_daily_bulletin(session, runtime, deadline.due_at)
        supervision.book_next_bulletin(
            session, next_bulletin_at(runtime, max(now, deadline.due_at))
        )

    return fire


def bulletin_chart_firer(runtime: Runtime) -> Prepared[dict[str, bytes]]:
    """Draw a booked bulletin chart with no transaction open, then queue it to its readers."""

    async def draw(deadline: Deadline, now: datetime) -> dict[str, bytes]:
        return await flows.draw_charts(runtime, deadline.data)

    async def send(
        session: AsyncSession, deadline: Deadline, now: datetime, charts: dict[str, bytes]
    ) -> None:
        flows.send_charts(session, deadline.data, charts)

    return Prepared(draw, send)
