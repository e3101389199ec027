"""The use cases of incidents (SPEC §3.1–3.2): report, accept, transfer, dismiss, merge, take
over, change the level or the marks, add information, and the lists behind ``/myreports`` and
``/mine``.

Each flow asks ``bot.access.may`` at the moment of the change (never trusting a check made when
a form opened or a card was sent), calls the service, and decides who is told what, through
``bot.delivery.notify``, all in the caller's transaction. Each returns an ``Attempt`` that the
domain's messaging turns into the answer. One function per transition and its consequences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Action, Actor, may
from bot.db.models import IncidentRow, OutboxMessage
from bot.delivery.notify import notify, to_chat
from bot.delivery.outbox import (
    ROUTINE,
    backlog,
    enqueue,
    enqueue_edit,
    enqueue_photo,
    rewrite_pending,
)
from bot.directory import languages, telegram_ids
from bot.i18n import Translator, translator
from bot.incidents import messaging
from bot.incidents import service as incidents
from bot.incidents.routing import alert_targets, route_unit
from bot.incidents.service import Attempt, Draft, Outcome, subject
from bot.levels import ALERT_DIGEST_BACKLOG, DIGEST_LINES, OPEN_STATES, priority_of
from bot.parsing import clean_text
from bot.render import local_time
from bot.runtime import Runtime
from bot.settings import Settings
from bot.timeline import record_event

Text = Callable[[Translator], str]


# --- telling people -----------------------------------------------------------------------


async def alert_unit(
    session: AsyncSession,
    runtime: Runtime,
    incident: IncidentRow,
    *,
    duplicate_of: int | None = None,
    actor: str | None = None,
    first: bool = False,
) -> list[str]:
    """Send the alert card (with its buttons and photos) to whoever is on duty for the
    incident's unit, and to its duty group; remember each copy. Return who was alerted.
    ``first``: the incident was just created, so no chat has had its alert yet."""
    roster, settings, now = runtime.roster, runtime.settings, runtime.now()
    targets = alert_targets(roster, incident.unit_id, now)
    people = [person for person, _, _ in targets.people]
    if targets.gap:
        record_event(
            session,
            at=now,
            kind="routing.gap",
            actor=actor,
            subject=subject(incident.id),
            unit=incident.unit_id,
            alerted=people,
        )
    priority = priority_of(incident)

    def card(tr: Translator) -> str:
        return messaging.alert_text(tr, incident, roster, settings, duplicate_of=duplicate_of)

    def buttons(tr: Translator) -> dict[str, object]:
        return messaging.alert_buttons(tr, incident.id, duplicate_of)

    caption = f"#{incident.id}"
    # photos follow the card once per chat: a chat that had this incident's alert before (a
    # transfer back, a second gap) is not sent them again
    had_photos = set() if first else await incidents.alerted_chats(session, incident.id)
    digested = await _digest_people(session, runtime, people)
    told = await notify(
        session,
        runtime.audience,
        [p for p in people if p not in digested],
        card,
        priority=priority,
        markup=buttons,
    )
    for person in told.told:
        chat = told.chats[person]
        if chat not in had_photos:
            for photo in incident.attachments:
                enqueue_photo(session, chat, photo, caption, person_id=person, priority=priority)
    group_card = None
    if targets.duty_chat is not None:
        group_card = to_chat(
            session, targets.duty_chat, settings.language, card, priority=priority, markup=buttons
        )
        if targets.duty_chat not in had_photos:
            for photo in incident.attachments:
                enqueue_photo(session, targets.duty_chat, photo, caption, priority=priority)
    for person in told.told:
        incidents.remember_alert(session, incident, told.cards[person], told.chats[person], person)
    if group_card is not None and targets.duty_chat is not None:
        incidents.remember_alert(session, incident, group_card, targets.duty_chat, None)
    for person, chat in digested.items():
        await _add_to_digest(session, runtime, incident, person, chat)
        told.told.append(person)
    leaders = await tell_leader(session, runtime, incident, exclude=people)
    record_event(
        session,
        at=now,
        kind="incident.alerted",
        actor=actor,
        subject=subject(incident.id),
        unit=incident.unit_id,
        people=told.told,
        unlinked=told.unlinked,
        duty_chat=targets.duty_chat,
        leaders=leaders,
    )
    return told.told


def leader_told_of(settings: Settings, incident: IncidentRow) -> bool:
    """Whether the incident's level (or its sensitive mark) is in ``[intake] tell_leader``."""
    marks = settings.tell_leader
    return incident.level in marks or (incident.sensitive and "sensitive" in marks)


async def tell_leader(
    session: AsyncSession, runtime: Runtime, incident: IncidentRow, *, exclude: list[str]
) -> list[str]:
    """The leader on duty of the unit gets the alert at once, for information (no Accept):
    报 starts with the leader. Returns who was told."""
    if not leader_told_of(runtime.settings, incident):
        return []
    roster, settings = runtime.roster, runtime.settings
    leaders = [
        p for p in roster.holders(incident.unit_id, "leader", runtime.now()) if p not in exclude
    ]
    told = await notify(
        session,
        runtime.audience,
        leaders,
        lambda t: (
            messaging.alert_text(t, incident, roster, settings)
            + "\n\n"
            + messaging.for_information(t)
        ),
        priority=priority_of(incident),
        photos=incident.attachments,
        photo_caption=f"#{incident.id}",
    )
    return told.told


async def _digest_people(
    session: AsyncSession, runtime: Runtime, people: list[str]
) -> dict[str, int]:
    """Those of ``people`` whose private chat is behind (``ALERT_DIGEST_BACKLOG`` urgent
    messages unsent), with their chat: they get a digest line instead of one more card."""
    accounts = await telegram_ids(session, runtime.roster)
    chats = {p: accounts[p] for p in people if p in accounts}
    waiting = await backlog(session, list(chats.values()))
    return {p: c for p, c in chats.items() if waiting.get(c, 0) >= ALERT_DIGEST_BACKLOG}


async def _add_to_digest(
    session: AsyncSession, runtime: Runtime, incident: IncidentRow, person: str, chat: int
) -> None:
    """Add the incident to the chat's unsent digest message (or start one): one message that
    grows, the most serious first, instead of a queue of cards."""
    outbox_id, listed = await incidents.waiting_digest(session, chat)
    merged = {i.id: i for i in [*listed, incident]}.values()
    rows = sorted(merged, key=lambda i: (priority_of(i), i.id))
    tr = translator(
        (await languages(session, runtime.roster, [person], runtime.settings.language))[person]
    )
    priority = min(priority_of(i) for i in rows)
    text = messaging.digest_text(tr, rows, DIGEST_LINES)
    digest: OutboxMessage | int = outbox_id
    if not outbox_id or not await rewrite_pending(session, outbox_id, text, priority):
        # none waiting, or it was sent meanwhile: a new digest with this incident
        text = messaging.digest_text(tr, [incident], DIGEST_LINES)
        *_, digest = enqueue(session, chat, text, person_id=person, priority=priority_of(incident))
    incidents.remember_alert(session, incident, digest, chat, person, digest=True)


async def update_alerts(
    session: AsyncSession,
    runtime: Runtime,
    incident: IncidentRow,
    status: Text,
    *,
    units: tuple[str, ...] | None = None,
) -> None:
    """Edit every active copy of the incident's alert (of ``units``, default all) to show
    ``status`` under the card, without buttons; the copies are then closed."""
    copies = await incidents.close_alerts(session, incident.id, units)
    default = runtime.settings.language
    people = [c.person_id for c in copies if c.person_id]
    langs = await languages(session, runtime.roster, people, default)
    for copy in copies:
        tr = translator(langs.get(copy.person_id or "", default))
        text = messaging.alert_text(tr, incident, runtime.roster, runtime.settings)
        enqueue_edit(
            session,
            copy.chat_id,
            text + "\n\n" + status(tr),
            edit_of=copy.outbox_id,
            priority=priority_of(incident),
        )


async def tell(
    session: AsyncSession,
    runtime: Runtime,
    person_id: str | None,
    text: Text,
    *,
    priority: int = ROUTINE,
) -> bool:
    """Send one person a message in their language; ``False`` if they could not be told."""
    notified = await notify(session, runtime.audience, [person_id], text, priority=priority)
    return bool(notified.told)


# --- who may ------------------------------------------------------------------------------


async def _authorised(
    session: AsyncSession, actor: Actor, number: int, action: Action
) -> tuple[IncidentRow | None, Attempt]:
    """The incident if ``actor`` may do ``action`` to it now; else why not. Someone who may not
    even see it is told the same as for a number that does not exist."""
    incident = await incidents.get(session, number)
    if incident is None:
        return None, Attempt(number, Outcome.HIDDEN)
    rules = await incidents.subject_for(session, incident, actor, action)
    if may(actor, action, rules):
        return incident, Attempt(number, Outcome.DONE, incident)
    if may(actor, Action.VIEW_INCIDENT, rules):
        return None, Attempt(number, Outcome.FORBIDDEN, incident)
    return None, Attempt(number, Outcome.HIDDEN)


async def check_handle(session: AsyncSession, actor: Actor, number: int) -> Attempt:
    """Whether ``actor`` may transfer or dismiss the incident now (asked before the bot asks
    for a reason, and asked again when the reason comes)."""
    incident, attempt = await _authorised(session, actor, number, Action.HANDLE)
    if incident is not None and incident.state not in OPEN_STATES:
        return Attempt(number, Outcome.NOT_OPEN, incident)
    return attempt


def _unit_name(runtime: Runtime, unit_id: str) -> str:
    return runtime.roster.units[unit_id].name


def _now_text(runtime: Runtime) -> str:
    return local_time(runtime.now(), runtime.settings.timezone)


# --- decisions that need the leader on duty (SPEC §3.2) ------------------------------------


async def _decides(session: AsyncSession, actor: Actor, incident: IncidentRow) -> bool:
    """Whether the actor may dismiss, lower the level or mark a drill directly (a leader, or a
    supervisor above the unit); an officer's request goes to the leader on duty."""
    rules = await incidents.subject_for(session, incident, actor, Action.DECIDE_CHANGE)
    return may(actor, Action.DECIDE_CHANGE, rules)


def leaders_on_duty(runtime: Runtime, unit_id: str, besides: str) -> list[str]:
    """The unit's leader on duty, else the nearest leader on duty above."""
    roster, now = runtime.roster, runtime.now()
    for unit in (unit_id, *roster.ancestors(unit_id)):
        found = [p for p in roster.holders(unit, "leader", now) if p != besides]
        if found:
            return found
    return []


async def _ask_leader(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    incident: IncidentRow,
    action: str,
    value: str,
) -> Attempt:
    """Store the officer's request and send it to the leader on duty with Approve / Refuse."""
    request = await incidents.request_change(
        session, incident, action, value, actor.person, runtime.now()
    )
    roster, name = runtime.roster, actor.person.name
    await notify(
        session,
        runtime.audience,
        leaders_on_duty(runtime, incident.unit_id, actor.id),
        lambda t: messaging.change_request_card(t, roster, incident, action, value, name),
        priority=priority_of(incident),
        markup=lambda t: messaging.change_request_buttons(t, request.id),
    )
    return Attempt(incident.id, Outcome.REQUESTED, incident)


async def decide_change(
    session: AsyncSession, runtime: Runtime, actor: Actor, request_id: int, approve: bool
) -> tuple[bool, Attempt | None]:
    """The leader approves (the change is made now, in the leader's name) or refuses an
    officer's request; the officer is told. ``(False, None)``: not waiting any more or not
    this person's to decide."""
    request = await incidents.get_request(session, request_id)
    if request is None or request.state != "pending":
        return False, None
    incident = await incidents.get(session, request.incident_id)
    if incident is None or not await _decides(session, actor, incident):
        return False, None
    claimed = await incidents.claim_request(session, request_id)
    if claimed is None:
        return False, None
    incidents.decided(session, claimed, actor.person, approve, runtime.now())
    attempt: Attempt | None = None
    if approve:
        if claimed.action == "dismiss":
            attempt = await dismiss(session, runtime, actor, incident.id, claimed.value)
        elif claimed.action == "level":
            attempt = await change_level(session, runtime, actor, incident.id, claimed.value)
        else:
            attempt = await set_flag(session, runtime, actor, incident.id, "drill", True)
    number, action, leader = incident.id, claimed.action, actor.person.name
    await tell(
        session,
        runtime,
        claimed.requested_by,
        lambda t: messaging.change_decided(t, number, action, leader, approve),
    )
    return True, attempt


# --- the use cases ------------------------------------------------------------------------


def preview_report(runtime: Runtime, actor: Actor, draft: Draft) -> IncidentRow:
    """The report as it would be routed and shown, before the reporter sends it."""
    unit = route_unit(runtime.settings, runtime.roster, draft.category, actor.person.unit)
    return incidents.preview_incident(draft, actor.person, unit, runtime.now())


async def submit_report(
    session: AsyncSession, runtime: Runtime, actor: Actor, draft: Draft
) -> IncidentRow:
    """Store a report, route it, look for a duplicate, and alert the unit on duty; the incident
    is what the reporter's receipt needs. Anyone on the roster may report."""
    assert may(actor, Action.REPORT)
    unit = route_unit(runtime.settings, runtime.roster, draft.category, actor.person.unit)
    incident = await incidents.create_incident(
        session,
        draft=draft,
        reporter=actor.person,
        unit_id=unit,
        at=runtime.now(),
        settings=runtime.settings,
    )
    duplicate = await incidents.duplicate_candidate(session, incident)
    await alert_unit(
        session,
        runtime,
        incident,
        duplicate_of=duplicate.id if duplicate else None,
        actor=actor.id,
        first=True,
    )
    return incident


async def log_call(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    draft: Draft,
    received_at: datetime,
) -> IncidentRow | None:
    """``/call`` (来电登记): a report taken by phone from a caller outside the roster. It is
    created in the officer's unit with source ``phone`` and accepted by that officer from the
    start (首问负责: whoever takes the call owns it); every clock runs from ``received_at``.
    The leader on duty is told as for any report. ``None`` if the actor may not log calls."""
    if not may(actor, Action.CALL):
        return None
    settings = runtime.settings
    incident = await incidents.create_incident(
        session,
        draft=replace(draft, source="phone"),
        reporter=actor.person,
        unit_id=actor.person.unit,
        at=received_at,
        settings=settings,
    )
    change = await incidents.accept(session, incident, actor.person, received_at, settings)
    await tell_leader(session, runtime, change.incident, exclude=[actor.id])
    return change.incident


async def accept(session: AsyncSession, runtime: Runtime, actor: Actor, number: int) -> Attempt:
    """First press wins; every copy of the alert shows who accepted and when, the reporter is
    told, and so is an assignee of the old unit after a transfer."""
    incident, attempt = await _authorised(session, actor, number, Action.ACCEPT)
    if incident is None:
        return attempt
    previous = incident.assignee_id
    change = await incidents.accept(
        session, incident, actor.person, runtime.now(), runtime.settings
    )
    current = change.incident
    if change.outcome is Outcome.DONE:
        name, when = actor.person.name, _now_text(runtime)
        unit = _unit_name(runtime, current.unit_id)
        await update_alerts(
            session, runtime, current, lambda t: messaging.accepted_status(t, name, when)
        )
        await tell(
            session,
            runtime,
            current.reporter_id,
            lambda t: messaging.reporter_accepted(t, number, name, unit),
            priority=priority_of(current),
        )
        if previous and previous != actor.id:
            await tell(
                session,
                runtime,
                previous,
                lambda t: messaging.no_longer_yours(t, number, name, unit),
            )
    return Attempt(number, change.outcome, current)


async def transfer(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int, unit_id: str, reason: str
) -> Attempt:
    """Hand the incident to another unit: the old unit's cards say so, the new unit is alerted
    (its accept clock starts now), and the reporter is told."""
    incident, attempt = await _authorised(session, actor, number, Action.HANDLE)
    if incident is None:
        return attempt
    old_unit = incident.unit_id
    change = await incidents.transfer(
        session, incident, unit_id, reason, actor.person, runtime.now(), runtime.settings
    )
    current = change.incident
    if change.outcome is Outcome.DONE:
        to_name, by = _unit_name(runtime, unit_id), actor.person.name
        await update_alerts(
            session,
            runtime,
            current,
            lambda t: messaging.transferred_status(t, to_name, by, reason),
            units=(old_unit,),
        )
        await alert_unit(session, runtime, current, actor=actor.id)
        await tell(
            session,
            runtime,
            current.reporter_id,
            lambda t: messaging.reporter_transferred(t, number, to_name),
        )
    return Attempt(number, change.outcome, current)


async def dismiss(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int, reason: str
) -> Attempt:
    """Not an incident: closed with the reason; every card and the reporter are told."""
    incident, attempt = await _authorised(session, actor, number, Action.HANDLE)
    if incident is None:
        return attempt
    if incident.state not in OPEN_STATES:
        return Attempt(number, Outcome.NOT_OPEN, incident)
    if not await _decides(session, actor, incident):
        return await _ask_leader(session, runtime, actor, incident, "dismiss", reason)
    change = await incidents.dismiss(session, incident, reason, actor.person, runtime.now())
    current = change.incident
    if change.outcome is Outcome.DONE:
        by = actor.person.name
        await update_alerts(
            session, runtime, current, lambda t: messaging.dismissed_status(t, by, reason)
        )
        await tell(
            session,
            runtime,
            current.reporter_id,
            lambda t: messaging.reporter_dismissed(t, number, reason),
            priority=priority_of(current),
        )
    return Attempt(number, change.outcome, current)


async def merge(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int, into: int
) -> Attempt:
    """A duplicate: linked to ``into`` and closed; every card and the reporter are told. The
    actor must be able to handle both incidents."""
    incident, attempt = await _authorised(session, actor, number, Action.HANDLE)
    if incident is None:
        return attempt
    if into == number:
        return Attempt(number, Outcome.SAME_INCIDENT, incident)
    target, refused = await _authorised(session, actor, into, Action.HANDLE)
    if target is None:
        return refused
    change = await incidents.merge(session, incident, target, actor.person, runtime.now())
    current = change.incident
    if change.outcome is Outcome.DONE:
        by = actor.person.name
        await update_alerts(
            session, runtime, current, lambda t: messaging.merged_status(t, into, by)
        )
        await tell(
            session,
            runtime,
            current.reporter_id,
            lambda t: messaging.reporter_merged(t, number, into),
            priority=priority_of(current),
        )
    elif change.outcome is Outcome.NOT_OPEN and current.id == into:
        return Attempt(into, Outcome.NOT_OPEN, current)
    return Attempt(number, change.outcome, current)


async def take_over(session: AsyncSession, runtime: Runtime, actor: Actor, number: int) -> Attempt:
    """Somebody the escalation reached takes charge: the escalation stops, the cards say so,
    the previous assignee is told (or, if nobody had accepted, the reporter)."""
    incident, attempt = await _authorised(session, actor, number, Action.TAKE_OVER)
    if incident is None:
        return attempt
    previous = incident.assignee_id
    change = await incidents.take_over(
        session, incident, actor.person, runtime.now(), runtime.settings
    )
    current = change.incident
    if change.outcome is Outcome.DONE:
        name, when = actor.person.name, _now_text(runtime)
        await update_alerts(
            session, runtime, current, lambda t: messaging.taken_over_status(t, name, when)
        )
        if previous and previous != actor.id:
            await tell(
                session,
                runtime,
                previous,
                lambda t: messaging.taken_over_from_you(t, number, name),
            )
        if previous is None:
            unit = _unit_name(runtime, actor.person.unit)
            await tell(
                session,
                runtime,
                current.reporter_id,
                lambda t: messaging.reporter_accepted(t, number, name, unit),
            )
    return Attempt(number, change.outcome, current)


async def change_level(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int, level: str
) -> Attempt:
    """Raise or lower the level; the pending deadlines follow the new level's limits (the
    accept deadline still counts from when the incident reached its unit)."""
    incident, attempt = await _authorised(session, actor, number, Action.HANDLE)
    if incident is None:
        return attempt
    if incident.state not in OPEN_STATES:
        return Attempt(number, Outcome.NOT_OPEN, incident)
    if incidents.lowers(incident.level, level) and not await _decides(session, actor, incident):
        return await _ask_leader(session, runtime, actor, incident, "level", level)
    change = await incidents.change_level(
        session, incident, level, actor.person, runtime.now(), runtime.settings
    )
    return Attempt(number, change.outcome, change.incident)


async def set_flag(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int, flag: str, value: bool
) -> Attempt:
    """Mark the incident sensitive or a drill, or clear the mark."""
    incident, attempt = await _authorised(session, actor, number, Action.HANDLE)
    if incident is None:
        return attempt
    if incident.state not in OPEN_STATES:
        return Attempt(number, Outcome.NOT_OPEN, incident)
    if flag == "drill" and value and not await _decides(session, actor, incident):
        return await _ask_leader(session, runtime, actor, incident, "drill", "")
    change = await incidents.set_flag(
        session, incident, flag, value, actor.person, runtime.now(), runtime.settings
    )
    return Attempt(number, change.outcome, change.incident)


async def add_info(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    number: int,
    *,
    text: str | None,
    photo: str | None,
) -> Attempt:
    """The reporter adds text or a photo to their report; the assignee is told (before anyone
    accepted, the officers on duty of the unit)."""
    incident, attempt = await _authorised(session, actor, number, Action.ADD_INFO)
    if incident is None:
        return Attempt(number, Outcome.HIDDEN)
    text = clean_text(text).strip() or None if text else None
    outcome = await incidents.add_info(
        session,
        incident,
        actor.person,
        runtime.now(),
        text=text,
        photo=photo,
        settings=runtime.settings,
    )
    if outcome is not Outcome.DONE:
        return Attempt(number, outcome, incident)
    if incident.assignee_id:
        people = [incident.assignee_id]
    else:
        targets = alert_targets(runtime.roster, incident.unit_id, runtime.now())
        people = [person for person, _, _ in targets.people]
    name = actor.person.name
    await notify(
        session,
        runtime.audience,
        people,
        lambda t: messaging.new_information(t, number, name, text),
        photos=[photo] if photo else (),
        photo_caption=f"#{number}",
    )
    return attempt


async def my_reports(session: AsyncSession, actor: Actor) -> list[IncidentRow]:
    """``/myreports``: the actor's own reports, newest first."""
    if not may(actor, Action.REPORT):
        return []
    return await incidents.reported_by(session, actor.id)


MINE_PAGE = 25  # incidents on one /mine page


@dataclass(frozen=True)
class MinePage:
    """One page of ``/mine``: the actor's own open incidents (``None`` for someone without a
    desk), those waiting for acceptance in their units, the page number, and where the next
    page starts: (0 = own, 1 = waiting, the last number shown), or ``None`` on the last page."""

    assigned: list[IncidentRow] | None
    waiting: list[IncidentRow]
    page: int = 1
    starts_with_own: bool = True
    next_key: tuple[int, int] | None = None


async def mine(
    session: AsyncSession, actor: Actor, *, page: int = 1, section: int = 0, after: int = 0
) -> MinePage:
    """``/mine``: one page of the actor's open incidents and of those waiting for acceptance
    in their unit and the units where they are on duty (keyset pagination by number)."""
    if not may(actor, Action.MINE):
        return MinePage(None, [])
    assigned: list[IncidentRow] = []
    if section == 0:
        assigned = await incidents.assigned_to(session, actor.id, after, MINE_PAGE + 1)
        if len(assigned) > MINE_PAGE:
            assigned = assigned[:MINE_PAGE]
            return MinePage(assigned, [], page, True, (0, assigned[-1].id))
        after = 0
    room = MINE_PAGE - len(assigned)
    units = sorted(actor.on_duty_units | {actor.person.unit})
    waiting = await incidents.awaiting_acceptance(session, units, after, room + 1)
    key = None
    if len(waiting) > room:
        waiting = waiting[:room]
        key = (1, waiting[-1].id) if waiting else (1, 0)
    return MinePage(assigned, waiting, page, section == 0, key)
