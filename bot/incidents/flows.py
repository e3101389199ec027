"""Alerts and notifications about incidents, queued in the caller's transaction.

``alert_unit`` sends the alert card to whoever is on duty for the incident's unit (and its duty
group) and remembers each copy; ``update_alerts`` edits every copy in place; ``tell`` notifies
one person in their own language.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import IncidentAlert, IncidentRow
from bot.delivery.outbox import ROUTINE, enqueue, enqueue_edit, enqueue_photo
from bot.directory import languages, telegram_ids
from bot.i18n import Translator, translator
from bot.incidents.messaging import alert_buttons, alert_text
from bot.incidents.routing import alert_targets
from bot.incidents.service import subject
from bot.levels import priority_of
from bot.runtime import Runtime
from bot.timeline import record_event


async def alert_unit(
    session: AsyncSession,
    runtime: Runtime,
    incident: IncidentRow,
    *,
    duplicate_of: int | None = None,
    actor: str | None = None,
) -> list[str]:
    """Alert the officers on duty of the incident's unit; return who was alerted."""
    roster, settings, now = runtime.roster, runtime.settings, runtime.now()
    targets = alert_targets(roster, incident.unit_id, now)
    if targets.gap:
        record_event(
            session,
            at=now,
            kind="routing.gap",
            actor=actor,
            subject=subject(incident.id),
            unit=incident.unit_id,
            alerted=[p for p, _, _ in targets.people],
        )
    accounts = await telegram_ids(session, roster)
    people = [person for person, _, _ in targets.people]
    langs = await languages(session, roster, people, settings.language)
    priority = priority_of(incident)
    alerted, unlinked = [], []
    recipients: list[tuple[int, str | None, Translator]] = []
    for person in people:
        chat = accounts.get(person)
        if chat is None:
            unlinked.append(person)
            continue
        recipients.append((chat, person, translator(langs[person])))
    if targets.duty_chat is not None:
        recipients.append((targets.duty_chat, None, translator(settings.language)))
    for chat, recipient, tr in recipients:
        text = alert_text(tr, incident, roster, settings, duplicate_of=duplicate_of)
        markup = alert_buttons(tr, incident.id, duplicate_of)
        *_, card = enqueue(
            session, chat, text, person_id=recipient, priority=priority, reply_markup=markup
        )
        await session.flush()
        session.add(
            IncidentAlert(
                incident_id=incident.id,
                outbox_id=card.id,
                chat_id=chat,
                person_id=recipient,
                unit_id=incident.unit_id,
                active=True,
            )
        )
        for photo in incident.attachments:
            enqueue_photo(
                session, chat, photo, f"#{incident.id}", person_id=recipient, priority=priority
            )
        if recipient is not None:
            alerted.append(recipient)
    record_event(
        session,
        at=now,
        kind="incident.alerted",
        actor=actor,
        subject=subject(incident.id),
        unit=incident.unit_id,
        people=alerted,
        unlinked=unlinked,
        duty_chat=targets.duty_chat,
    )
    return alerted


async def update_alerts(
    session: AsyncSession,
    runtime: Runtime,
    incident: IncidentRow,
    status: Callable[[Translator], str],
    *,
    units: tuple[str, ...] | None = None,
) -> None:
    """Edit every active copy of the incident's alert (of ``units``, default all) to show
    ``status`` under the card, without buttons; the copies are then closed."""
    query = select(IncidentAlert).where(
        IncidentAlert.incident_id == incident.id, IncidentAlert.active.is_(True)
    )
    if units is not None:
        query = query.where(IncidentAlert.unit_id.in_(units))
    copies = list(await session.scalars(query))
    people = [c.person_id for c in copies if c.person_id]
    langs = await languages(session, runtime.roster, people, runtime.settings.language)
    for copy in copies:
        tr = translator(langs.get(copy.person_id or "", runtime.settings.language))
        text = alert_text(tr, incident, runtime.roster, runtime.settings) + "\n\n" + status(tr)
        enqueue_edit(
            session, copy.chat_id, text, edit_of=copy.outbox_id, priority=priority_of(incident)
        )
    if copies:
        await session.execute(
            update(IncidentAlert)
            .where(IncidentAlert.id.in_([c.id for c in copies]))
            .values(active=False)
        )


async def tell(
    session: AsyncSession,
    runtime: Runtime,
    person_id: str | None,
    text: Callable[[Translator], str],
    *,
    priority: int = ROUTINE,
) -> bool:
    """Send one person a message in their language; ``False`` if they have no account."""
    if person_id is None:
        return False
    chat = (await telegram_ids(session, runtime.roster)).get(person_id)
    if chat is None:
        return False
    language = (await languages(session, runtime.roster, [person_id], runtime.settings.language))[
        person_id
    ]
    enqueue(session, chat, text(translator(language)), person_id=person_id, priority=priority)
    return True
