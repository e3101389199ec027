"""Deadline rows, generically: add one, find the open ones, meet, cancel. No business rule.

A deadline row is ``pending`` until the engine claims it (``fired``: it fell due unmet) or the
thing due is done (``met``) or no longer due (``cancelled``). Children (warnings, escalation
rungs) point at their parent and stop with it. Every function works in the caller's
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BindParameter, and_, bindparam, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import attributes

from bot.db.models import Deadline, table_of
from bot.db.statements import execute

PENDING, MET, FIRED, CANCELLED = "pending", "met", "fired", "cancelled"


def add(
    session: AsyncSession,
    incident_id: int | None,
    kind: str,
    due: datetime,
    *,
    sequence: int | None = None,
    parent: Deadline | None = None,
    data: dict[str, object] | None = None,
    directive_id: int | None = None,
) -> Deadline:
    """Add one pending deadline (a child of ``parent`` when given) of an incident or of a
    directive (or of neither: a shift change)."""
    row = Deadline(
        incident_id=incident_id,
        directive_id=directive_id,
        kind=kind,
        due_at=due,
        state=PENDING,
        sequence=sequence,
        late=False,
        data=data or {},
    )
    if parent is not None:
        if parent.id is None:  # added in this flush: linked as both are inserted
            row.parent = parent
        else:
            row.parent_id = parent.id
    session.add(row)
    return row


# built once: these run on the path of every report filed and every acceptance, where composing
# a statement per call costs more than running it
_OPEN_FOR = (
    select(Deadline)
    .where(
        Deadline.incident_id == bindparam("incident_id"),
        Deadline.kind.in_(bindparam("kinds", expanding=True)),
        Deadline.state.in_((PENDING, FIRED)),
    )
    .order_by(Deadline.id)
)
_TABLE = table_of(Deadline)
_MET_IDS: BindParameter[int] = bindparam("ids", expanding=True)
# met, and their pending children stopped, in one statement (a Core one: ``bot.db.statements``)
_MEET = (
    update(_TABLE)
    .where(
        or_(
            _TABLE.c.id.in_(_MET_IDS),
            and_(_TABLE.c.parent_id.in_(_MET_IDS), _TABLE.c.state == PENDING),
        )
    )
    .values(
        state=case((_TABLE.c.id.in_(_MET_IDS), MET), else_=CANCELLED),
        met_at=case(
            (_TABLE.c.id.in_(_MET_IDS), bindparam("at", type_=_TABLE.c.met_at.type)),
            else_=_TABLE.c.met_at,
        ),
        late=case((_TABLE.c.id.in_(bindparam("late", expanding=True)), True), else_=_TABLE.c.late),
    )
)
_STOP_CHILDREN = (
    update(_TABLE)
    .where(_TABLE.c.parent_id.in_(bindparam("parents", expanding=True)), _TABLE.c.state == PENDING)
    .values(state=CANCELLED)
)


async def open_for(session: AsyncSession, incident_id: int, kinds: Sequence[str]) -> list[Deadline]:
    """A subject's deadlines of ``kinds`` still to be met (pending, or fired = late), oldest
    first."""
    rows = await session.scalars(_OPEN_FOR, {"incident_id": incident_id, "kinds": list(kinds)})
    return list(rows)


async def stop_children(session: AsyncSession, parents: Sequence[int]) -> None:
    """Cancel the warnings and escalation rungs still pending for these deadlines."""
    if parents:
        await execute(session, _STOP_CHILDREN, {"parents": list(parents)})
        _stopped_in_session(session, set(parents))


async def meet(
    session: AsyncSession,
    incident_id: int,
    kind: str,
    at: datetime,
    *,
    known: Sequence[Deadline] | None = None,
) -> list[Deadline]:
    """The thing due was done: mark the open deadlines of ``kind`` met (late ones stay late) and
    stop their children. ``known``: those deadlines, already read in this transaction. Returns
    the deadlines met."""
    rows = list(known) if known is not None else await open_for(session, incident_id, (kind,))
    if not rows:
        return rows
    ids = [row.id for row in rows]
    late = [row.id for row in rows if row.late or row.due_at < at]
    await execute(session, _MEET, {"ids": ids, "late": late, "at": at})
    for row in rows:
        for key, value in (("state", MET), ("met_at", at), ("late", row.id in late)):
            attributes.set_committed_value(row, key, value)
    _stopped_in_session(session, set(ids))
    return rows


def _stopped_in_session(session: AsyncSession, parents: set[int]) -> None:
    """Children of ``parents`` loaded in this session: cancelled, as the statement made them."""
    for row in session.identity_map.values():
        if isinstance(row, Deadline) and row.parent_id in parents and row.state == PENDING:
            attributes.set_committed_value(row, "state", CANCELLED)


async def cancel_pending(
    session: AsyncSession, incident_id: int, kinds: Sequence[str] | None = None
) -> None:
    """Cancel a subject's pending deadlines (of ``kinds``, default all)."""
    query = update(Deadline).where(Deadline.incident_id == incident_id, Deadline.state == PENDING)
    if kinds is not None:
        query = query.where(Deadline.kind.in_(kinds))
    await session.execute(query.values(state=CANCELLED))
