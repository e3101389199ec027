"""The escalation ladder, for anything with a deadline that escalates (SPEC §3.3, §3.6, §3.7):
incidents, directives and handovers climb the same rungs the same way.

The rungs are the chain snapshotted when the deadline was missed (``chain.snapshot_chain``); each
rung is one deadline row of the owner's escalation kind, child of the missed deadline, carrying
the rungs in ``data``. Firing a rung tells its people (the owner's flow decides what they read)
and ``climb`` schedules the next: ``escalation.step`` later, at once when nobody on the rung
could be told, and at the top either the same rung again after ``escalation.repeat`` or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline
from bot.escalation.chain import Rung
from bot.settings import Settings
from scheduling.rows import FIRED, add


@dataclass(frozen=True)
class OnRung:
    """One rung about to be told: its place on the ladder and its people."""

    index: int
    last: bool
    people: list[str]


def begin(
    session: AsyncSession,
    kind: str,
    missed: Deadline,
    rungs: list[Rung],
    now: datetime,
    *,
    data: dict[str, Any] | None = None,
) -> Deadline | None:
    """Put the first rung on the engine (it fires at once), for the same owner as ``missed``.
    ``None`` when the chain is empty. ``missed`` must have been flushed (it needs its id)."""
    if not rungs:
        return None
    return add(
        session,
        missed.incident_id,
        kind,
        now,
        sequence=0,
        parent=missed,
        data={"rungs": rungs, **(data or {})},
        directive_id=missed.directive_id,
    )


async def still_missed(session: AsyncSession, row: Deadline) -> Deadline | None:
    """The missed deadline a rung climbs for, while it stays unmet (``None`` once it was met,
    cancelled or taken over: the ladder stops)."""
    missed = await session.get(Deadline, row.parent_id) if row.parent_id else None
    return missed if missed is not None and missed.state == FIRED else None


def rung_of(row: Deadline) -> OnRung:
    """The rung a ladder row stands for (at the top, the top rung again)."""
    rungs: list[Rung] = row.data["rungs"]
    index = min(row.sequence or 0, len(rungs) - 1)
    return OnRung(
        index=index, last=index >= len(rungs) - 1, people=[p["person"] for p in rungs[index]]
    )


def climb(
    session: AsyncSession,
    settings: Settings,
    row: Deadline,
    rung: OnRung,
    told: list[str],
    now: datetime,
    *,
    repeat_at_top: bool = True,
) -> Deadline | None:
    """Schedule the next rung after ``rung`` was told: ``step`` later (at once when nobody
    could be told), or at the top the same rung after ``repeat`` (or nothing)."""
    limits = settings.escalation
    if rung.last:
        if not repeat_at_top:
            return None
        # At the top, wait ``repeat`` even if nobody was reachable: do not spin.
        wait, sequence = limits.repeat, rung.index
    else:
        wait, sequence = (limits.step if told else timedelta(0)), rung.index + 1
    following = add(
        session,
        row.incident_id,
        row.kind,
        now + wait,
        sequence=sequence,
        data=row.data,
        directive_id=row.directive_id,
    )
    following.parent_id = row.parent_id
    return following


def on_ladder(datas: Iterable[dict[str, Any]]) -> set[str]:
    """Everyone on the rungs of these ladder rows' ``data`` (who may take over)."""
    return {p["person"] for data in datas for rung in data.get("rungs", []) for p in rung}
