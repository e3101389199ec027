"""Directives' use cases (SPEC §3.6) and who is told: issue (and instruct on an incident),
receive, feedback, extension, review, press and take over; and what the clock does — remind,
mark missed, climb the lead unit's chain on the one ladder (``bot.escalation.ladder``).

Every use case asks ``bot.access`` at the moment of the change and tells people only through
``notify``; the state changes are ``service``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Action, Actor, DirectiveSubject, may
from bot.db.models import Deadline, DirectiveRequest, DirectiveRow, Event
from bot.delivery.notify import notify
from bot.directives import messaging, service
from bot.directives.service import Order
from bot.escalation import ladder
from bot.escalation.chain import snapshot_chain
from bot.escalation.service import UNREACHABLE_NOTE
from bot.incidents import service as incidents
from bot.incidents.routing import alert_targets
from bot.levels import (
    MAX_DIRECTIVE_LIMIT,
    OPEN_STATES,
    URGENT,
    directive_due,
    directive_priority,
)
from bot.runtime import Runtime
from bot.timeline import events_about, record_event


@dataclass(frozen=True)
class Attempt:
    """What came of a use case: done or not, the directive (``None``: not found, or not one the
    actor may see: the same answer), and why not."""

    done: bool
    directive: DirectiveRow | None = None
    refusal: str | None = None  # "refused", "closed", "late", "received", "limit"
    told: int = 0


def access_subject(directive: DirectiveRow, on_ladder: set[str] | None = None) -> DirectiveSubject:
    """What the permission rules need to know of a directive."""
    return DirectiveSubject(
        lead_unit=directive.lead_unit_id,
        assisting=frozenset(directive.assisting),
        issuer_id=directive.issuer_id,
        on_ladder=frozenset(on_ladder or ()),
        taken_over_by=directive.received_by,
    )


async def _find(
    session: AsyncSession, actor: Actor, number: int, *, lock: bool = True
) -> tuple[DirectiveRow, DirectiveSubject] | None:
    """The directive, if the actor may see it (else ``None``: unknown and hidden look alike);
    locked for the change about to be made unless only read."""
    directive = await service.get(session, number, lock=lock)
    if directive is None:
        return None
    subject = access_subject(directive, await service.on_ladder(session, directive.id))
    return (directive, subject) if may(actor, Action.VIEW_DIRECTIVE, subject) else None


def _lead_people(runtime: Runtime, directive: DirectiveRow, now: datetime) -> list[str]:
    """Who answers for the lead unit now: its officers on duty (or the next rung at a gap), and
    whoever received it."""
    people = [p for p, _, _ in alert_targets(runtime.roster, directive.lead_unit_id, now).people]
    return [*people, *([directive.received_by] if directive.received_by else [])]


def _assisting_people(runtime: Runtime, directive: DirectiveRow, now: datetime) -> list[str]:
    return [
        p
        for unit in directive.assisting
        for p, _, _ in alert_targets(runtime.roster, unit, now).people
    ]


# --- issuing ------------------------------------------------------------------------------


async def issue(session: AsyncSession, runtime: Runtime, actor: Actor, order: Order) -> Attempt:
    """Issue a directive: the lead unit's officers on duty get it with Receive, the assisting
    units for information. Asked again here: the form may have opened under other rights."""
    subject = DirectiveSubject(lead_unit=order.lead_unit, assisting=frozenset(order.assisting))
    units = runtime.roster.units
    if (
        order.lead_unit not in units
        or any(u not in units or u == order.lead_unit for u in order.assisting)
        or not may(actor, Action.DIRECT, subject)
    ):
        return Attempt(False, refusal="refused")
    now = runtime.now()
    if not now < order.due_at <= now + MAX_DIRECTIVE_LIMIT:
        return Attempt(False, refusal="limit")
    directive = await service.create(session, runtime.settings, actor.id, order, now)
    told = await _deliver(session, runtime, directive, now)
    return Attempt(True, directive, told=told)


async def _deliver(
    session: AsyncSession, runtime: Runtime, directive: DirectiveRow, now: datetime
) -> int:
    roster, settings = runtime.roster, runtime.settings
    priority = directive_priority(directive.urgency)
    photos = [f for kind, f in directive.attachments if kind == "photo"]
    documents = [f for kind, f in directive.attachments if kind == "document"]
    lead = await notify(
        session,
        runtime.audience,
        _lead_people(runtime, directive, now),
        lambda tr: messaging.lead_card(tr, roster, settings, directive),
        priority=priority,
        markup=lambda tr: messaging.receive_button(tr, directive),
        photos=photos,
        documents=documents,
        photo_caption=messaging.code(directive),
    )
    assisting = await notify(
        session,
        runtime.audience,
        [p for p in _assisting_people(runtime, directive, now) if p not in lead.told],
        lambda tr: messaging.assisting_card(tr, roster, settings, directive),
        priority=priority,
        photos=photos,
        documents=documents,
        photo_caption=messaging.code(directive),
    )
    record_event(
        session,
        at=now,
        kind="directive.delivered",
        subject=service.subject(directive.id),
        told=lead.told,
        informed=assisting.told,
        skipped=lead.skipped + assisting.skipped,
    )
    return len(lead.told)


async def instruct(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int, text: str
) -> Attempt:
    """An instruction on an incident (批示): a directive to the incident's unit, urgent by
    default, linked to the incident (its card and timeline show it)."""
    incident = await incidents.get(session, number)
    if incident is None or incident.state not in OPEN_STATES:
        return Attempt(False, refusal="no_incident")
    subject = DirectiveSubject(lead_unit=incident.unit_id)
    if not may(actor, Action.DIRECT, subject):
        return Attempt(False, refusal="no_incident")
    now = runtime.now()
    order = Order(
        lead_unit=incident.unit_id,
        assisting=(),
        urgency=URGENT,
        due_at=directive_due(runtime.settings, URGENT, now),
        text=text,
        incident_id=incident.id,
    )
    return await issue(session, runtime, actor, order)


# --- answering ----------------------------------------------------------------------------


async def receive(session: AsyncSession, runtime: Runtime, actor: Actor, number: int) -> Attempt:
    """Receive (签收): the lead unit's officer takes note; the issuer is told."""
    found = await _find(session, actor, number)
    if found is None:
        return Attempt(False)
    directive, subject = found
    if not may(actor, Action.ANSWER_DIRECTIVE, subject):
        return Attempt(False, directive, "refused")
    if not service.is_open(directive):
        return Attempt(False, directive, "closed")
    if directive.received_at is not None:
        return Attempt(False, directive, "received")
    await _received(session, runtime, directive, actor.id, "button")
    return Attempt(True, directive)


async def _received(
    session: AsyncSession, runtime: Runtime, directive: DirectiveRow, person: str, how: str
) -> None:
    await service.receive(session, directive, person, runtime.now(), how=how)
    roster, tz = runtime.roster, runtime.settings.timezone
    await notify(
        session,
        runtime.audience,
        [directive.issuer_id],
        lambda tr: messaging.received_notice(tr, roster, tz, directive, how),
        priority=directive_priority(directive.urgency),
    )


async def feedback(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    number: int,
    text: str,
    attachments: tuple[tuple[str, str], ...] = (),
    *,
    completed: bool = False,
) -> Attempt:
    """``/feedback``: progress or completion from the lead unit (answering receives it too), or
    an assisting unit's input, which reaches the lead unit and the issuer."""
    found = await _find(session, actor, number)
    if found is None:
        return Attempt(False)
    directive, subject = found
    lead = may(actor, Action.ANSWER_DIRECTIVE, subject)
    if not lead and not may(actor, Action.ASSIST_DIRECTIVE, subject):
        return Attempt(False, directive, "refused")
    if not service.is_answerable(directive):
        return Attempt(False, directive, "closed")
    completed = completed and lead
    now, roster = runtime.now(), runtime.roster
    if lead and directive.received_at is None:
        await _received(session, runtime, directive, actor.id, "feedback")
    unit = directive.lead_unit_id if lead else _assisting_unit(actor, directive)
    await service.feedback(
        session, directive, actor.id, unit, text, attachments, now, lead=lead, completed=completed
    )
    people = [directive.issuer_id] + ([] if lead else _lead_people(runtime, directive, now))
    photos = [f for kind, f in attachments if kind == "photo"]
    documents = [f for kind, f in attachments if kind == "document"]
    await notify(
        session,
        runtime.audience,
        [p for p in people if p != actor.id],
        lambda tr: messaging.feedback_notice(
            tr, roster, directive, actor.id, unit, text, lead=lead, completed=completed
        ),
        priority=directive_priority(directive.urgency),
        markup=(lambda tr: messaging.review_buttons(tr, directive)) if completed else None,
        photos=photos,
        documents=documents,
        photo_caption=messaging.code(directive),
    )
    return Attempt(True, directive, "lead" if lead else "assist")


def _assisting_unit(actor: Actor, directive: DirectiveRow) -> str:
    for unit in directive.assisting:
        if actor.is_staff_of(unit):
            return unit
    return actor.person.unit


async def extend(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    number: int,
    limit: str,
    reason: str,
) -> Attempt:
    """``/extend``: before the deadline, the lead unit asks the issuer for more time — a
    duration counted from the current deadline, or a local date and time after it."""
    found = await _find(session, actor, number)
    if found is None:
        return Attempt(False)
    directive, subject = found
    if not may(actor, Action.ANSWER_DIRECTIVE, subject):
        return Attempt(False, directive, "refused")
    if not service.is_answerable(directive):
        return Attempt(False, directive, "closed")
    now, tz = runtime.now(), runtime.settings.timezone
    until = service.parse_limit(limit, directive.due_at, tz)
    if until is None:
        return Attempt(False, directive, "bad_limit")
    pending = await service.pending_request(session, directive.id)
    if now >= directive.due_at or pending is not None:
        return Attempt(False, directive, "late")
    if until > now + MAX_DIRECTIVE_LIMIT:
        return Attempt(False, directive, "limit")
    request = service.request_extension(session, directive, actor.id, until, reason, now)
    await session.flush()
    roster = runtime.roster
    await notify(
        session,
        runtime.audience,
        [directive.issuer_id],
        lambda tr: messaging.extension_request(tr, roster, tz, directive, actor.id, until, reason),
        priority=directive_priority(directive.urgency),
        markup=lambda tr: messaging.extension_buttons(tr, request.id),
    )
    return Attempt(True, directive)


async def decide_extension(
    session: AsyncSession, runtime: Runtime, actor: Actor, request_id: int, approved: bool
) -> Attempt:
    """The issuer's Approve / Refuse: an approved extension moves the deadline."""
    request: DirectiveRequest | None = await service.request_by_id(session, request_id)
    found = await _find(session, actor, request.directive_id) if request else None
    if request is None or found is None:
        return Attempt(False)
    directive, subject = found
    if not may(actor, Action.REVIEW_DIRECTIVE, subject):
        return Attempt(False, directive, "refused")
    if request.state != service.PENDING_REQUEST or not service.is_answerable(directive):
        return Attempt(False, directive, "decided")
    now, tz = runtime.now(), runtime.settings.timezone
    await service.decide_extension(
        session, runtime.settings, directive, request, approved, actor.id, now
    )
    until = request.until
    await notify(
        session,
        runtime.audience,
        [request.requested_by, *_lead_people(runtime, directive, now)],
        lambda tr: messaging.extension_decided(tr, tz, directive, approved, until),
        priority=directive_priority(directive.urgency),
    )
    return Attempt(True, directive, "approved" if approved else "refused_ext")


async def accept(session: AsyncSession, runtime: Runtime, actor: Actor, number: int) -> Attempt:
    """Accept (办结): the issuer closes a completed directive."""
    found = await _review(session, actor, number)
    if not isinstance(found, DirectiveRow):
        return found
    directive = found
    now = runtime.now()
    await service.close(session, directive, actor.id, now)
    await notify(
        session,
        runtime.audience,
        _lead_people(runtime, directive, now),
        lambda tr: messaging.closed_notice(tr, directive),
        priority=directive_priority(directive.urgency),
    )
    return Attempt(True, directive)


async def _review(
    session: AsyncSession, actor: Actor, number: int, *, lock: bool = True
) -> DirectiveRow | Attempt:
    found = await _find(session, actor, number, lock=lock)
    if found is None:
        return Attempt(False)
    directive, subject = found
    if not may(actor, Action.REVIEW_DIRECTIVE, subject):
        return Attempt(False, directive, "refused")
    if directive.state != service.COMPLETED:
        return Attempt(False, directive, "not_completed")
    return directive


async def check_review(session: AsyncSession, actor: Actor, number: int) -> Attempt:
    """Whether the actor may review the directive now (Send back asks before the reason)."""
    found = await _review(session, actor, number, lock=False)
    return Attempt(True, found) if isinstance(found, DirectiveRow) else found


async def send_back(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    number: int,
    due: datetime,
    reason: str,
) -> Attempt:
    """Send back: the lead unit works on with a reason and a new deadline."""
    found = await _review(session, actor, number)
    if not isinstance(found, DirectiveRow):
        return found
    directive = found
    now, tz = runtime.now(), runtime.settings.timezone
    if not now < due <= now + MAX_DIRECTIVE_LIMIT:
        return Attempt(False, directive, "limit")
    await service.send_back(session, runtime.settings, directive, actor.id, reason, due, now)
    await notify(
        session,
        runtime.audience,
        _lead_people(runtime, directive, now),
        lambda tr: messaging.sent_back_notice(tr, tz, directive, reason),
        priority=directive_priority(directive.urgency),
    )
    return Attempt(True, directive)


# --- chasing: press and take over ---------------------------------------------------------


async def press(session: AsyncSession, runtime: Runtime, actor: Actor, number: int) -> Attempt:
    """Press (催办): the people responsible in the lead unit are urged; it stays theirs."""
    found = await _find(session, actor, number)
    if found is None:
        return Attempt(False)
    directive, subject = found
    if not may(actor, Action.CHASE_DIRECTIVE, subject) or not service.is_answerable(directive):
        return Attempt(False, directive, "refused")
    now, tz = runtime.now(), runtime.settings.timezone
    name = actor.person.name
    notified = await notify(
        session,
        runtime.audience,
        [p for p in _lead_people(runtime, directive, now) if p != actor.id],
        lambda tr: messaging.pressed(tr, tz, directive, name),
        priority=directive_priority(URGENT),
    )
    record_event(
        session,
        at=now,
        kind="directive.pressed",
        actor=actor.id,
        subject=service.subject(directive.id),
        told=notified.told,
    )
    return Attempt(True, directive, told=len(notified.told))


async def take_over(session: AsyncSession, runtime: Runtime, actor: Actor, number: int) -> Attempt:
    """Take over (接手): somebody the ladder reached takes charge; the ladder stops. An
    unreceived directive counts as received by them; a missed feedback deadline stays late."""
    found = await _find(session, actor, number)
    if found is None:
        return Attempt(False)
    directive, subject = found
    if not may(actor, Action.CHASE_DIRECTIVE, subject) or not service.is_answerable(directive):
        return Attempt(False, directive, "refused")
    now = runtime.now()
    missed = await service.missed_deadline(session, directive.id)
    if missed is not None:
        await service.stop_ladder(session, missed)
    if directive.received_at is None:
        await _received(session, runtime, directive, actor.id, "take_over")
    else:
        directive.received_by = actor.id
        directive.version += 1
    record_event(
        session,
        at=now,
        kind="directive.taken_over",
        actor=actor.id,
        subject=service.subject(directive.id),
    )
    return Attempt(True, directive)


# --- the clock --------------------------------------------------------------------------


async def remind(session: AsyncSession, runtime: Runtime, row: Deadline, now: datetime) -> None:
    """``warn_before`` the feedback deadline: remind the lead unit."""
    directive = await service.owner_of(session, row)
    if directive is None or not service.is_answerable(directive):
        return
    await _remind(session, runtime, directive, now, at_due=False)


async def _remind(
    session: AsyncSession, runtime: Runtime, directive: DirectiveRow, now: datetime, *, at_due: bool
) -> None:
    tz = runtime.settings.timezone
    await notify(
        session,
        runtime.audience,
        _lead_people(runtime, directive, now),
        lambda tr: messaging.reminder(tr, tz, directive, at_due=at_due),
        priority=directive_priority(directive.urgency),
    )
    service.reminded(session, directive, now, at_due=at_due)


async def missed(session: AsyncSession, runtime: Runtime, row: Deadline, now: datetime) -> None:
    """A receive or feedback deadline passed unmet: late for good; at the feedback deadline the
    lead unit is reminded; and the lead unit's chain is told, rung by rung (逐级催报)."""
    directive = await service.owner_of(session, row)
    if directive is None or not service.is_answerable(directive):
        return
    service.missed(session, directive, row, now)
    if row.kind == service.DUE:
        await _remind(session, runtime, directive, now, at_due=True)
    rungs = snapshot_chain(
        runtime.roster, runtime.settings, directive.lead_unit_id, now, skip=("officer", "backup")
    )
    await session.flush()
    if ladder.begin(session, service.ESCALATION, row, rungs, now, data={"what": row.kind}) is None:
        record_event(
            session, at=now, kind="escalation.empty", subject=service.subject(directive.id)
        )


async def escalate(session: AsyncSession, runtime: Runtime, row: Deadline, now: datetime) -> None:
    """One rung of the ladder: tell its reachable people with Press and Take over, then
    schedule the next."""
    directive = await service.owner_of(session, row)
    missed_row = await ladder.still_missed(session, row)
    if directive is None or missed_row is None or not service.is_answerable(directive):
        return
    rung = ladder.rung_of(row)
    roster, tz = runtime.roster, runtime.settings.timezone
    notified = await notify(
        session,
        runtime.audience,
        rung.people,
        lambda tr: messaging.escalation_card(
            tr, roster, tz, directive, missed_row.kind, missed_row.due_at, now
        ),
        priority=directive_priority(URGENT),
        markup=lambda tr: messaging.chase_buttons(tr, directive),
        skip_unreachable=True,
    )
    record_event(
        session,
        at=now,
        kind="directive.rung",
        subject=service.subject(directive.id),
        rung=rung.index,
        told=notified.told,
        skipped=notified.skipped,
        note=UNREACHABLE_NOTE if notified.skipped else None,
    )
    ladder.climb(session, runtime.settings, row, rung, notified.told, now)


# --- reading --------------------------------------------------------------------------------


async def view(
    session: AsyncSession, actor: Actor, number: int
) -> tuple[DirectiveRow, list[Event]] | None:
    """``/directive D#``: the directive and its history, if the actor may see it."""
    found = await _find(session, actor, number, lock=False)
    if found is None:
        return None
    return found[0], await events_about(session, service.subject(number))


async def mine(
    session: AsyncSession, actor: Actor, after: int = 0
) -> tuple[list[DirectiveRow], bool]:
    """``/directives``: the open directives the actor issued or their units must answer or
    assist with, most pressing first; one page from position ``after``."""
    units = frozenset({actor.person.unit}) | actor.on_duty_units
    found = await service.for_units(session, units, issued_by=actor.id)
    page = found[after : after + service.PAGE]
    return page, len(found) > after + service.PAGE
