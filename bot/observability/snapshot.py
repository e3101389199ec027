"""The numbers behind the database gauges, read in one short transaction per scrape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import func, select

from bot.db.engine import Database
from bot.db.models import Deadline, IncidentRow, OutboxMessage
from bot.delivery.outbox import UNSENT
from bot.levels import OPEN_STATES
from bot.settings import LEVELS
from scheduling.rows import PENDING as DEADLINE_PENDING


@dataclass(frozen=True)
class DatabaseSnapshot:
    """What waits in the database at one moment."""

    outbox_depth: int  # messages not yet delivered (pending, or claimed and being sent)
    outbox_oldest_age: float  # seconds since the oldest of them was queued; 0 when none
    deadlines_pending: int
    deadline_lag: float  # seconds the most overdue pending deadline is past due; 0 when none
    incidents_open: Mapping[str, int]  # open incidents per level, every level present


def _seconds_since(moment: datetime | None, now: datetime) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment is not None else 0.0


async def take_snapshot(database: Database, now: datetime) -> DatabaseSnapshot:
    """Count the outbox, the deadlines and the open incidents as of ``now`` (aware UTC)."""
    undelivered = OutboxMessage.state.in_(UNSENT)
    pending = Deadline.state == DEADLINE_PENDING
    async with database.sessions() as session:
        depth, oldest = (
            await session.execute(
                select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
                    undelivered
                )
            )
        ).one()
        deadlines = await session.scalar(select(func.count(Deadline.id)).where(pending))
        most_overdue = await session.scalar(
            select(func.min(Deadline.due_at)).where(pending, Deadline.due_at <= now)
        )
        rows = await session.execute(
            select(IncidentRow.level, func.count(IncidentRow.id))
            .where(IncidentRow.state.in_(OPEN_STATES))
            .group_by(IncidentRow.level)
        )
        by_level: dict[str, int] = {level: int(count) for level, count in rows}
    return DatabaseSnapshot(
        outbox_depth=int(depth or 0),
        outbox_oldest_age=_seconds_since(oldest, now),
        deadlines_pending=int(deadlines or 0),
        deadline_lag=_seconds_since(most_overdue, now),
        incidents_open=MappingProxyType(
            {level: by_level.get(level, 0) for level in (*LEVELS, *sorted(by_level))}
        ),
    )
