"""The roster in force: the roster file with the one-off shifts kept in the database (approved
swaps, SPEC §3.7) laid over it. Every place that loads or reloads the roster builds it here, so a
swap survives a restart and ``/roster reload`` and shows in ``dutybot roster show``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import SwapRow
from bot.roster import Roster, Shift

APPROVED = "approved"
KEEP_PAST = timedelta(days=60)  # older swaps no longer matter to who is on duty


async def roster_in_force(session: AsyncSession, file_roster: Roster, at: datetime) -> Roster:
    """``file_roster`` with every approved swap still relevant at ``at`` as an override."""
    rows = await session.scalars(
        select(SwapRow)
        .where(SwapRow.state == APPROVED, SwapRow.ends_at > at - KEEP_PAST)
        .order_by(SwapRow.id)
    )
    overrides = [
        Shift(row.unit_id, row.position, row.colleague_id, row.starts_at, row.ends_at)
        for row in rows
        if row.unit_id in file_roster.units and row.colleague_id in file_roster.people
    ]
    return file_roster.with_overrides(overrides)
