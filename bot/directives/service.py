"""Directives' state (SPEC §3.6): issued, received (签收), answered (反馈), extended, completed,
accepted (办结) or sent back, and the deadlines that chase each step. Every change writes its
timeline event (subject ``directive:<id>``) in the caller's transaction; nothing here sends
anything or decides who may.

Deadline kinds of this domain (rows owned by the directive, ``Deadline.directive_id``):
``dir_receive`` (the lead unit must press Receive), ``dir_due`` (the feedback deadline: met by a
completion), ``dir_warning`` (the reminder ``warn_before`` it) and ``dir_escalation`` (a rung
of the one ladder, ``bot.escalation.ladder``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline, DirectiveRequest, DirectiveRow
from bot.durations import parse_duration
from bot.escalation import ladder
from bot.levels import DIRECTIVE_OPEN, directive_receive_due, directive_warning_at
from bot.parsing import normalise_digits
from bot.settings import Settings
from bot.timeline import record_event
from scheduling.rows import CANCELLED, FIRED, MET, PENDING, add, stop_children

RECEIVE, DUE, WARNING, ESCALATION = "dir_receive", "dir_due", "dir_warning", "dir_escalation"
KINDS = (RECEIVE, DUE, WARNING, ESCALATION)
ISSUED, RECEIVED, COMPLETED, CLOSED = "issued", "received", "completed", "closed"
PENDING_REQUEST, APPROVED, REFUSED = "pending", "approved", "refused"
PAGE = 10


def subject(directive_id: int) -> str:
    """The event-log subject of a directive's history."""
    return f"directive:{directive_id}"


def parse_code(text: str) -> int | None:
    """``D12``, ``d12``, ``Ｄ１２`` or ``12`` → 12; anything else ``None`` (strict digits)."""
    cleaned = normalise_digits(text.strip()).upper().replace("Ｄ", "D").removeprefix("D")
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 12:
        return None
    return int(cleaned)


@dataclass(frozen=True)
class Order:
    """What the issuer decided in the form (or with ``/instruct``)."""

    lead_unit: str
    assisting: tuple[str, ...]
    urgency: str
    due_at: datetime
    text: str
    attachments: tuple[tuple[str, str], ...] = ()
    incident_id: int | None = None


async def get(
    session: AsyncSession, directive_id: int, *, lock: bool = False
) -> DirectiveRow | None:
    """One directive by number; with ``lock``, its row locked until the transaction ends.

    Every change to a directive locks its row first (``SELECT … FOR UPDATE`` on PostgreSQL),
    before any of its deadlines: two changes at once (an extension approved while the lead unit
    reports it done) then wait for each other instead of deadlocking."""
    return await session.get(
        DirectiveRow, directive_id, populate_existing=True, with_for_update=lock or None
    )


def is_open(directive: DirectiveRow) -> bool:
    """Still to be answered or reviewed."""
    return directive.state in DIRECTIVE_OPEN


def is_answerable(directive: DirectiveRow) -> bool:
    """Still with the lead unit: to be received or answered (not awaiting review, not closed)."""
    return directive.state in (ISSUED, RECEIVED)


async def _add_due(
    session: AsyncSession, settings: Settings, directive: DirectiveRow, now: datetime
) -> None:
    """The feedback deadline and, if there is still time for it, its reminder (its child)."""
    due = add(session, None, DUE, directive.due_at, directive_id=directive.id)
    warn_at = directive_warning_at(settings, directive.due_at)
    if warn_at > now:
        await session.flush()
        add(session, None, WARNING, warn_at, parent=due, directive_id=directive.id)


async def create(
    session: AsyncSession, settings: Settings, issuer: str, order: Order, now: datetime
) -> DirectiveRow:
    """A new directive with its receive and feedback deadlines (and the reminder)."""
    directive = DirectiveRow(
        issuer_id=issuer,
        lead_unit_id=order.lead_unit,
        assisting=list(order.assisting),
        urgency=order.urgency,
        text=order.text,
        attachments=[list(a) for a in order.attachments],
        incident_id=order.incident_id,
        state=ISSUED,
        issued_at=now,
        due_at=order.due_at,
        receive_late=False,
        overdue=False,
        extensions=0,
        sent_back=0,
        version=1,
    )
    session.add(directive)
    await session.flush()
    add(
        session,
        None,
        RECEIVE,
        directive_receive_due(settings, now),
        directive_id=directive.id,
    )
    await _add_due(session, settings, directive, now)
    record_event(
        session,
        at=now,
        kind="directive.issued",
        actor=issuer,
        subject=subject(directive.id),
        lead=order.lead_unit,
        assisting=list(order.assisting),
        urgency=order.urgency,
        due=order.due_at.isoformat(),
        incident=order.incident_id,
    )
    if order.incident_id is not None:
        record_event(
            session,
            at=now,
            kind="incident.instructed",
            actor=issuer,
            subject=f"incident:{order.incident_id}",
            directive=directive.id,
            text=order.text,
        )
    return directive


async def _open_deadlines(
    session: AsyncSession, directive_id: int, kinds: Sequence[str]
) -> list[Deadline]:
    rows = await session.scalars(
        select(Deadline)
        .where(
            Deadline.directive_id == directive_id,
            Deadline.kind.in_(kinds),
            Deadline.state.in_((PENDING, FIRED)),
        )
        .order_by(Deadline.id)
    )
    return list(rows)


async def _meet(session: AsyncSession, directive_id: int, kind: str, at: datetime) -> bool:
    """Meet the open deadlines of ``kind`` (late ones stay late) and stop their reminders and
    rungs. Returns whether any of them was late."""
    rows = await _open_deadlines(session, directive_id, (kind,))
    for row in rows:
        row.late = row.late or row.due_at < at
        row.state, row.met_at = MET, at
    await stop_children(session, [r.id for r in rows])
    return any(r.late for r in rows)


async def receive(
    session: AsyncSession, directive: DirectiveRow, person: str, now: datetime, *, how: str
) -> None:
    """Received (签收): by pressing Receive, by answering it, or by an upper rung taking it
    over. Late when the receive deadline had passed."""
    late = await _meet(session, directive.id, RECEIVE, now)
    if directive.state == ISSUED:
        directive.state = RECEIVED
    directive.received_at, directive.received_by = now, person
    directive.receive_late = late
    directive.version += 1
    record_event(
        session,
        at=now,
        kind="directive.received",
        actor=person,
        subject=subject(directive.id),
        late=late,
        how=how,
    )


async def feedback(
    session: AsyncSession,
    directive: DirectiveRow,
    person: str,
    unit: str,
    text: str,
    attachments: Sequence[tuple[str, str]],
    now: datetime,
    *,
    lead: bool,
    completed: bool,
) -> None:
    """Feedback (反馈) recorded: progress or completion from the lead unit (a completion meets
    the feedback deadline and waits for the issuer's review), or an assisting unit's input."""
    if lead:
        directive.feedback_at = now
    if completed:
        late = await _meet(session, directive.id, DUE, now)
        directive.state, directive.completed_at = COMPLETED, now
        directive.overdue = directive.overdue or late
    directive.version += 1
    record_event(
        session,
        at=now,
        kind="directive.completed" if completed else "directive.feedback",
        actor=person,
        subject=subject(directive.id),
        unit=unit,
        lead=lead,
        text=text,
        attachments=[list(a) for a in attachments],
    )


def request_extension(
    session: AsyncSession,
    directive: DirectiveRow,
    person: str,
    until: datetime,
    reason: str,
    now: datetime,
) -> DirectiveRequest:
    """``/extend``: more time asked, pending until the issuer decides."""
    request = DirectiveRequest(
        directive_id=directive.id,
        until=until,
        reason=reason,
        requested_by=person,
        requested_at=now,
        state=PENDING_REQUEST,
    )
    session.add(request)
    directive.feedback_at = now
    record_event(
        session,
        at=now,
        kind="directive.extension_asked",
        actor=person,
        subject=subject(directive.id),
        until=until.isoformat(),
        reason=reason,
    )
    return request


async def pending_request(session: AsyncSession, directive_id: int) -> DirectiveRequest | None:
    """The extension request waiting for the issuer, if any."""
    return await session.scalar(
        select(DirectiveRequest).where(
            DirectiveRequest.directive_id == directive_id,
            DirectiveRequest.state == PENDING_REQUEST,
        )
    )


async def request_by_id(session: AsyncSession, request_id: int) -> DirectiveRequest | None:
    """One extension request."""
    return await session.get(DirectiveRequest, request_id, populate_existing=True)


async def _new_deadline(
    session: AsyncSession,
    settings: Settings,
    directive: DirectiveRow,
    due: datetime,
    now: datetime,
) -> None:
    """The feedback deadline moves: the pending one (and its reminder) is cancelled, a missed one
    stays late and stops climbing, and the new one is chased from now on."""
    rows = await _open_deadlines(session, directive.id, (DUE,))
    for row in rows:
        row.state = CANCELLED if row.state == PENDING else row.state
    await stop_children(session, [r.id for r in rows])
    for row in rows:
        if row.state == FIRED:  # missed: stays late, stops being chased
            row.state = CANCELLED
    directive.due_at = due
    await _add_due(session, settings, directive, now)


async def decide_extension(
    session: AsyncSession,
    settings: Settings,
    directive: DirectiveRow,
    request: DirectiveRequest,
    approved: bool,
    person: str,
    now: datetime,
) -> None:
    """The issuer approves (the deadline moves) or refuses an extension."""
    request.state = APPROVED if approved else REFUSED
    request.decided_by, request.decided_at = person, now
    if approved:
        directive.extensions += 1
        await _new_deadline(session, settings, directive, request.until, now)
    directive.version += 1
    record_event(
        session,
        at=now,
        kind="directive.extended" if approved else "directive.extension_refused",
        actor=person,
        subject=subject(directive.id),
        until=request.until.isoformat(),
        request=request.id,
    )


async def close(session: AsyncSession, directive: DirectiveRow, person: str, now: datetime) -> None:
    """Accepted (办结): closed; on time when completed within the deadline and never overdue."""
    directive.state, directive.closed_at = CLOSED, now
    completed = directive.completed_at or now
    directive.closed_on_time = not directive.overdue and completed <= directive.due_at
    directive.version += 1
    await _cancel_all(session, directive.id)
    record_event(
        session,
        at=now,
        kind="directive.closed",
        actor=person,
        subject=subject(directive.id),
        on_time=directive.closed_on_time,
    )


async def send_back(
    session: AsyncSession,
    settings: Settings,
    directive: DirectiveRow,
    person: str,
    reason: str,
    due: datetime,
    now: datetime,
) -> None:
    """Sent back (退回): back to work with a reason and a new deadline."""
    directive.state, directive.completed_at = RECEIVED, None
    directive.sent_back += 1
    directive.reminded_at = None
    await _new_deadline(session, settings, directive, due, now)
    directive.version += 1
    record_event(
        session,
        at=now,
        kind="directive.sent_back",
        actor=person,
        subject=subject(directive.id),
        reason=reason,
        due=due.isoformat(),
    )


async def _cancel_all(session: AsyncSession, directive_id: int) -> None:
    """Nothing more is due for this directive (a missed deadline stays late on the history)."""
    await session.execute(
        update(Deadline)
        .where(Deadline.directive_id == directive_id, Deadline.state == PENDING)
        .values(state=CANCELLED)
    )


# --- the clock: reminders, misses, the ladder ----------------------------------------------


async def owner_of(session: AsyncSession, row: Deadline) -> DirectiveRow | None:
    """The directive a deadline row chases, while it is open."""
    directive = await get(session, row.directive_id, lock=True) if row.directive_id else None
    return directive if directive is not None and is_open(directive) else None


def reminded(
    session: AsyncSession, directive: DirectiveRow, now: datetime, *, at_due: bool
) -> None:
    """The lead unit was reminded (before the deadline, or at it). An earlier reminder still
    unanswered stays the one that counts (it was ignored: 🔴)."""
    earlier = directive.reminded_at
    unanswered = earlier is not None and (
        directive.feedback_at is None or directive.feedback_at < earlier
    )
    if not unanswered:
        directive.reminded_at = now
    record_event(
        session,
        at=now,
        kind="directive.reminded",
        subject=subject(directive.id),
        at_due=at_due,
    )


def missed(session: AsyncSession, directive: DirectiveRow, row: Deadline, now: datetime) -> None:
    """A receive or feedback deadline passed unmet: late for good, and the directive overdue."""
    row.late = True
    if row.kind == DUE:
        directive.overdue = True
    else:
        directive.receive_late = True
    directive.version += 1
    record_event(
        session,
        at=now,
        kind="directive.missed",
        subject=subject(directive.id),
        what=row.kind,
        due=row.due_at.isoformat(),
    )


async def on_ladder(session: AsyncSession, directive_id: int) -> set[str]:
    """Everyone the directive's escalation ladders name (who may press and take over)."""
    rows = await session.scalars(
        select(Deadline.data).where(
            Deadline.directive_id == directive_id, Deadline.kind == ESCALATION
        )
    )
    return ladder.on_ladder(rows)


async def missed_deadline(session: AsyncSession, directive_id: int) -> Deadline | None:
    """The receive or feedback deadline missed and still unmet, if any."""
    rows = await _open_deadlines(session, directive_id, (RECEIVE, DUE))
    late = [r for r in rows if r.state == FIRED]
    return late[0] if late else None


async def stop_ladder(session: AsyncSession, missed_row: Deadline) -> None:
    """Somebody above took it over: the rungs still pending stop."""
    await stop_children(session, [missed_row.id])


# --- lists --------------------------------------------------------------------------------


async def open_directives(session: AsyncSession) -> list[DirectiveRow]:
    """Every open directive, most pressing deadline first (there are tens, not thousands)."""
    rows = await session.scalars(
        select(DirectiveRow)
        .where(DirectiveRow.state.in_(DIRECTIVE_OPEN))
        .order_by(DirectiveRow.due_at, DirectiveRow.id)
    )
    return list(rows)


async def linked_to(session: AsyncSession, incident_id: int) -> list[DirectiveRow]:
    """The instructions (批示) given on an incident, oldest first."""
    rows = await session.scalars(
        select(DirectiveRow)
        .where(DirectiveRow.incident_id == incident_id)
        .order_by(DirectiveRow.id)
    )
    return list(rows)


async def for_units(
    session: AsyncSession, units: frozenset[str], *, issued_by: str | None = None
) -> list[DirectiveRow]:
    """Open directives that name one of ``units`` (lead or assisting) or that ``issued_by``
    issued, most pressing first."""
    found = []
    for directive in await open_directives(session):
        named = {directive.lead_unit_id, *directive.assisting}
        if named & units or directive.issuer_id == issued_by:
            found.append(directive)
    return found


_LOCAL = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2})[:：](\d{2})$")


def parse_limit(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    """A time limit typed by a person: a duration from now (``3d``, ``36h``, ``1d12h``) or a
    local ``YYYY-MM-DD HH:MM`` in the future; ``None`` for anything else."""
    cleaned = normalise_digits(text.strip()).lower()
    if not cleaned.isascii():
        return None
    try:
        return now + parse_duration(cleaned)
    except ValueError:
        pass
    match = _LOCAL.match(cleaned)
    if match is None:
        return None
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)
    except ValueError:
        return None
    return moment if moment > now else None


_LEADING_LOCAL = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}[:：]\d{2})(?:\s+(.*))?$", re.S)


def split_limit(text: str) -> tuple[str, str]:
    """A typed ``<limit> <rest>``: the limit (a duration, or a local date and time) and the
    words after it."""
    match = _LEADING_LOCAL.match(normalise_digits(text))
    if match is not None:
        return match.group(1), (match.group(2) or "").strip()
    limit, _, rest = text.strip().partition(" ")
    return limit, rest.strip()


def is_overdue(directive: DirectiveRow, now: datetime) -> bool:
    """Late now: its feedback deadline passed unanswered, or it is still not received after
    its receive deadline was missed."""
    if not is_answerable(directive):
        return False
    return directive.due_at <= now or (directive.received_at is None and directive.receive_late)


async def in_scope(
    session: AsyncSession, units: Collection[str], now: datetime, *, overdue_only: bool = False
) -> list[DirectiveRow]:
    """Open directives led by one of ``units`` (a watcher's scope), most pressing first; only
    the overdue ones when asked."""
    wanted = set(units)
    return [
        d
        for d in await open_directives(session)
        if d.lead_unit_id in wanted and (not overdue_only or is_overdue(d, now))
    ]


# --- the bulletin (SPEC §3.6): per lead unit ------------------------------------------------


@dataclass
class DirectiveFigures:
    """One lead unit's directive figures over a period."""

    received: int = 0  # received (签收) in the period
    received_late: int = 0  # of those, after the receive deadline
    closed_on_time: int = 0  # accepted as done (办结) in the period, on time
    overdue: int = 0  # feedback deadlines missed in the period
    extended: int = 0  # extensions approved in the period


async def bulletin_figures(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[str, DirectiveFigures]:
    """Each lead unit's directive figures over ``[start, end)``."""
    out: dict[str, DirectiveFigures] = {}

    def of(unit: str) -> DirectiveFigures:
        return out.setdefault(unit, DirectiveFigures())

    for d in await session.scalars(
        select(DirectiveRow).where(
            DirectiveRow.received_at >= start, DirectiveRow.received_at < end
        )
    ):
        of(d.lead_unit_id).received += 1
        of(d.lead_unit_id).received_late += int(d.receive_late)
    for d in await session.scalars(
        select(DirectiveRow).where(
            DirectiveRow.closed_at >= start,
            DirectiveRow.closed_at < end,
            DirectiveRow.closed_on_time.is_(True),
        )
    ):
        of(d.lead_unit_id).closed_on_time += 1
    missed = await session.scalars(
        select(DirectiveRow.lead_unit_id)
        .join(Deadline, Deadline.directive_id == DirectiveRow.id)
        .where(Deadline.kind == DUE, Deadline.fired_at >= start, Deadline.fired_at < end)
    )
    for unit in missed:
        of(unit).overdue += 1
    extended = await session.scalars(
        select(DirectiveRow.lead_unit_id)
        .join(DirectiveRequest, DirectiveRequest.directive_id == DirectiveRow.id)
        .where(
            DirectiveRequest.state == APPROVED,
            DirectiveRequest.decided_at >= start,
            DirectiveRequest.decided_at < end,
        )
    )
    for unit in extended:
        of(unit).extended += 1
    return out
