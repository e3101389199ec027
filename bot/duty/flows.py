"""Duty discipline's use cases (SPEC §3.7) and who is told: the handover at each shift change
and its escalation, the duty log, spot checks and swaps. Each asks ``bot.access`` at the moment
of the change and tells people only through ``notify``.

A handover that nobody takes over climbs the unit's chain on the one ladder
(``bot.escalation.ladder``) that incidents and directives climb: the same chain, snapshotted the
same way (officer and backup skipped, as for an unaccepted report); only the card differs, and
the top rung is told once rather than again every ``repeat``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Action, Actor, UnitSubject, may
from bot.db.models import Deadline, DutyShift, Event, SpotCheck, SwapRow
from bot.delivery.notify import notify
from bot.directives import service as directive_service
from bot.duty import messaging, service
from bot.duty.service import OFFICER
from bot.escalation import ladder
from bot.escalation.chain import snapshot_chain
from bot.identity.in_force import roster_in_force
from bot.runtime import Runtime


def duty_unit(actor: Actor) -> str:
    """The unit whose duty an actor speaks for: where they are on duty, else their own."""
    on_duty = sorted(actor.on_duty_units)
    own = actor.person.unit
    return own if own in actor.on_duty_units or not on_duty else on_duty[0]


# --- shift changes and handovers ----------------------------------------------------------


async def book_ahead(session: AsyncSession, runtime: Runtime, after: datetime) -> None:
    """Book each unit's next shift change (idempotent)."""
    await service.book_next_shifts(
        session, runtime.roster, after, postgresql_db=runtime.database.is_postgresql
    )


async def shift_changed(
    session: AsyncSession, runtime: Runtime, deadline: Deadline, now: datetime
) -> None:
    """A shift change fell due: book the shift's random spot checks and the next change, and
    send the incoming officers the handover card when the holders change."""
    roster, settings = runtime.roster, runtime.settings
    found = await service.open_shift(session, deadline, roster)
    if found is None:
        return
    shift, handover = found
    start, end = roster.shift_bounds(shift.unit_id, OFFICER, shift.starts_at)
    service.book_random_checks(
        session,
        shift.unit_id,
        service.random_check_times(
            shift.unit_id,
            start,
            end,
            settings.spotcheck_per_shift,
            settings.spotcheck_answer_within,
        ),
    )
    await service.book_next_shifts(
        session, roster, max(now, shift.starts_at), postgresql_db=runtime.database.is_postgresql
    )
    if not handover:
        return
    before = roster.shift_bounds(shift.unit_id, OFFICER, shift.starts_at - timedelta(seconds=1))
    log = await service.log_entries(session, shift.unit_id, before[0], shift.starts_at)
    incidents = await service.open_incidents(session, shift.unit_id)
    directives = await directive_service.in_scope(session, [shift.unit_id], now)
    tz = settings.timezone
    notified = await notify(
        session,
        runtime.audience,
        shift.incoming,
        lambda tr: messaging.handover_card(
            tr, roster, tz, shift, incidents, log, settings.handover_accept_within, directives
        ),
        markup=lambda tr: messaging.take_over_button(tr, shift.id),
    )
    service.handover_sent(
        session,
        shift,
        notified.told,
        now,
        max(now, shift.starts_at) + settings.handover_accept_within,
    )


async def handover_late(
    session: AsyncSession, runtime: Runtime, deadline: Deadline, now: datetime
) -> None:
    """Not taken over within ``accept_within``: the ladder starts at the leader on duty (officer
    and backup had the card) and climbs while nobody takes over."""
    shift = await service.handover_missed(session, deadline, now)
    if shift is None:
        return
    rungs = snapshot_chain(
        runtime.roster, runtime.settings, shift.unit_id, now, skip=(OFFICER, "backup")
    )
    await session.flush()
    ladder.begin(
        session,
        service.HANDOVER_ESCALATION,
        deadline,
        rungs,
        now,
        data={"shift": shift.id, "unit": shift.unit_id},
    )


async def handover_up(
    session: AsyncSession, runtime: Runtime, row: Deadline, now: datetime
) -> None:
    """One rung, while nobody has taken over; the top rung is told once."""
    shift = await service.shift_by_id(session, int(row.data.get("shift", 0)))
    if await ladder.still_missed(session, row) is None or shift is None or shift.taken_over_at:
        return
    rung = ladder.rung_of(row)
    roster, tz = runtime.roster, runtime.settings.timezone
    notified = await notify(
        session,
        runtime.audience,
        rung.people,
        lambda tr: messaging.handover_late(tr, roster, tz, shift),
        skip_unreachable=True,
    )
    ladder.climb(session, runtime.settings, row, rung, notified.told, now, repeat_at_top=False)


async def take_over(
    session: AsyncSession, runtime: Runtime, actor: Actor, shift_id: int
) -> DutyShift | bool | None:
    """Take over duty: the incoming officer or whoever holds the officer position now.
    ``False`` when the presser may not; ``None`` when it was taken over already."""
    shift = await service.shift_by_id(session, shift_id)
    now = runtime.now()
    if shift is None:
        return None
    holders = runtime.roster.holders(shift.unit_id, OFFICER, now)
    if actor.id not in shift.incoming and actor.id not in holders:
        return False
    return await service.take_over(session, shift_id, actor.id, now)


async def leave_note(session: AsyncSession, runtime: Runtime, actor: Actor, text: str) -> bool:
    """``/handover <notes>``; ``False`` when the actor is not staff of any unit."""
    unit = duty_unit(actor)
    if not may(actor, Action.DUTY, UnitSubject(unit)):
        return False
    service.write_note(session, unit, actor.id, text, runtime.now())
    return True


async def write_log(
    session: AsyncSession, runtime: Runtime, actor: Actor, kind: str, text: str
) -> bool:
    """``/log <kind> <text>``; ``False`` when the actor is not staff of any unit."""
    unit = duty_unit(actor)
    if not may(actor, Action.DUTY, UnitSubject(unit)):
        return False
    service.write_log(session, unit, actor.id, kind, text, runtime.now())
    return True


@dataclass(frozen=True)
class DutyLog:
    """A shift's log, or a refusal (``allowed`` false)."""

    allowed: bool
    unit_id: str
    start: datetime | None = None
    end: datetime | None = None
    events: tuple[Event, ...] = ()


async def duty_log(
    session: AsyncSession, runtime: Runtime, actor: Actor, unit_id: str | None, day: date | None
) -> DutyLog:
    """``/dutylog [unit] [date]``: the officer shift covering now, or midday of ``day``."""
    unit = unit_id or duty_unit(actor)
    if unit not in runtime.roster.units or not may(actor, Action.DUTY_LOG, UnitSubject(unit)):
        return DutyLog(False, unit)
    return await shift_log(session, runtime, unit, day)


async def shift_log(
    session: AsyncSession, runtime: Runtime, unit: str, day: date | None
) -> DutyLog:
    """The log of a unit's officer shift covering now, or midday of ``day`` (no permission
    asked: the caller has, or it is the server's own command line)."""
    roster = runtime.roster
    at = runtime.now()
    if day is not None:
        at = datetime.combine(day, datetime.min.time(), tzinfo=roster.timezone) + timedelta(
            hours=12
        )
    start, end = roster.shift_bounds(unit, OFFICER, at)
    events = await service.log_entries(session, unit, start, end)
    return DutyLog(True, unit, start, end, tuple(events))


# --- spot checks --------------------------------------------------------------------------


async def _ask(
    session: AsyncSession, runtime: Runtime, unit_id: str, asked_by: str | None
) -> SpotCheck:
    now, roster = runtime.now(), runtime.roster
    officers = list(roster.holders(unit_id, OFFICER, now))
    check = await service.ask_spot_check(
        session, unit_id, officers, asked_by, now, runtime.settings.spotcheck_answer_within
    )
    tz = runtime.settings.timezone
    await notify(
        session,
        runtime.audience,
        officers,
        lambda tr: messaging.spot_check(tr, roster, tz, check),
        markup=lambda tr: messaging.here_button(tr, check.id),
    )
    return check


async def spot_check(
    session: AsyncSession, runtime: Runtime, actor: Actor, unit_id: str
) -> SpotCheck | None:
    """``/spotcheck <unit>`` (a supervisor above it); ``None`` when not allowed."""
    if unit_id not in runtime.roster.units or not may(
        actor, Action.SPOT_CHECK, UnitSubject(unit_id)
    ):
        return None
    return await _ask(session, runtime, unit_id, actor.id)


async def random_check(
    session: AsyncSession, runtime: Runtime, deadline: Deadline, now: datetime
) -> None:
    """A random spot check of the shift falls due."""
    unit = str(deadline.data.get("unit", ""))
    if unit in runtime.roster.units:
        await _ask(session, runtime, unit, None)


async def here(
    session: AsyncSession, runtime: Runtime, actor: Actor, check_id: int | None
) -> list[SpotCheck]:
    """I'm here (one check) or ``/here`` (every check waiting for the actor's answer)."""
    now = runtime.now()
    waiting = await service.pending_checks_for(session, actor.id)
    answered = []
    for check in waiting:
        if check_id is not None and check.id != check_id:
            continue
        done = await service.answer_check(session, check.id, actor.id, now)
        if done is None:
            continue
        answered.append(done)
        await _tell_asker(session, runtime, done)
    return answered


async def _tell_asker(session: AsyncSession, runtime: Runtime, check: SpotCheck) -> None:
    roster = runtime.roster
    await notify(
        session,
        runtime.audience,
        [check.asked_by],
        lambda tr: messaging.spot_check_answered_told(tr, roster, check),
    )


async def check_due(
    session: AsyncSession, runtime: Runtime, deadline: Deadline, now: datetime
) -> None:
    """The answer time ran out: the leader on duty and the supervisor who asked are told."""
    check = await service.check_missed(session, deadline, now)
    if check is None:
        return
    roster, tz = runtime.roster, runtime.settings.timezone
    leaders = list(roster.holders(check.unit_id, "leader", now))
    await notify(
        session,
        runtime.audience,
        [*leaders, check.asked_by],
        lambda tr: messaging.spot_check_missed(tr, roster, tz, check),
        priority=2,
    )


# --- swaps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwapAsked:
    """What ``/swap`` did: the swap, or why none (``no_shift``, ``bad_colleague``,
    ``not_allowed``)."""

    swap: SwapRow | None = None
    refusal: str = ""


async def ask_swap(
    session: AsyncSession, runtime: Runtime, actor: Actor, day: date, colleague: str
) -> SwapAsked:
    """``/swap <date> <person>``: the colleague is asked."""
    roster = runtime.roster
    if not may(actor, Action.DUTY):
        return SwapAsked(refusal="not_allowed")
    span = service.shift_on(roster, actor.id, day)
    if span is None:
        return SwapAsked(refusal="no_shift")
    other = roster.people.get(colleague)
    if other is None or other.id == actor.id or other.unit != span.unit_id:
        return SwapAsked(refusal="bad_colleague")
    now, tz = runtime.now(), runtime.settings.timezone
    swap = service.request_swap(session, span, actor.id, colleague, now)
    await session.flush()
    service.swap_event(session, swap, "requested", actor.id, now)
    await notify(
        session,
        runtime.audience,
        [colleague],
        lambda tr: messaging.swap_question(tr, roster, tz, swap),
        markup=lambda tr: messaging.swap_buttons(tr, "swc", swap.id),
    )
    return SwapAsked(swap)


def _approvers(runtime: Runtime, unit_id: str, now: datetime) -> list[str]:
    """The leader on duty of the unit, else its leaders, else the supervisors above it."""
    roster = runtime.roster
    on_duty = list(roster.holders(unit_id, "leader", now))
    if on_duty:
        return on_duty
    leaders = [p.id for p in roster.people.values() if p.unit == unit_id and "leader" in p.roles]
    if leaders:
        return leaders
    above = set(roster.ancestors(unit_id))
    return [p.id for p in roster.people.values() if p.unit in above and "supervisor" in p.roles]


async def colleague_answers(
    session: AsyncSession, runtime: Runtime, actor: Actor, swap_id: int, yes: bool
) -> SwapRow | bool | None:
    """The colleague accepts (the leader is asked) or refuses (the requester is told).
    ``False`` when the presser is not the colleague; ``None`` when answered already."""
    swap = await service.swap_by_id(session, swap_id)
    if swap is None or swap.colleague_id != actor.id:
        return False if swap is not None else None
    now, roster, tz = runtime.now(), runtime.roster, runtime.settings.timezone
    state = service.ACCEPTED if yes else service.REFUSED
    moved = await service.decide_swap(session, swap_id, service.REQUESTED, state, actor.id, now)
    if moved is None:
        return None
    service.swap_event(session, moved, state, actor.id, now)
    if yes:
        await notify(
            session,
            runtime.audience,
            _approvers(runtime, moved.unit_id, now),
            lambda tr: messaging.swap_approval(tr, roster, tz, moved),
            markup=lambda tr: messaging.swap_buttons(tr, "swl", moved.id),
        )
    else:
        await notify(
            session,
            runtime.audience,
            [moved.requester_id],
            lambda tr: messaging.swap_refused(tr, roster, tz, moved),
        )
    return moved


async def leader_answers(
    session: AsyncSession, runtime: Runtime, actor: Actor, swap_id: int, yes: bool
) -> SwapRow | bool | None:
    """The leader approves (the swap is in force at once) or refuses; both sides are told.
    ``False`` when the presser may not decide; ``None`` when decided already."""
    swap = await service.swap_by_id(session, swap_id)
    if swap is None:
        return None
    if not may(actor, Action.APPROVE_SWAP, UnitSubject(swap.unit_id)):
        return False
    now, tz = runtime.now(), runtime.settings.timezone
    state = service.APPROVED if yes else service.REFUSED
    moved = await service.decide_swap(session, swap_id, service.ACCEPTED, state, actor.id, now)
    if moved is None:
        return None
    service.swap_event(session, moved, state, actor.id, now)
    if yes:
        await session.flush()
        runtime.roster = await roster_in_force(session, runtime.roster, now)
        await book_ahead(session, runtime, now)
    roster = runtime.roster
    render = messaging.swap_approved if yes else messaging.swap_refused
    await notify(
        session,
        runtime.audience,
        [moved.requester_id, moved.colleague_id] if yes else [moved.requester_id],
        lambda tr: render(tr, roster, tz, moved),
    )
    return moved
