"""The supervisor's use cases (SPEC §3.5): what is open, what is late, one incident in full,
and the bulletin — each asked of ``bot.access`` first, in the actor's scope — and posting the
daily bulletin to the supervisors."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Action, Actor, may, scope
from bot.db.models import Deadline, Event, IncidentRow, OfficialReport
from bot.delivery.notify import notify
from bot.delivery.outbox import enqueue_photo
from bot.directory import languages
from bot.i18n import Translator, translator
from bot.identity.flows import scope_units
from bot.incidents import service as incidents
from bot.runtime import Runtime
from bot.supervision import messaging
from bot.supervision import service as supervision

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7)}


async def watched(
    session: AsyncSession, runtime: Runtime, actor: Actor
) -> list[supervision.Watched] | None:
    """``/status``: the open incidents in the actor's scope with their colours; ``None`` when
    the actor may not watch."""
    if not may(actor, Action.WATCH):
        return None
    return await supervision.watched(
        session, runtime.settings, scope_units(runtime.roster, actor), runtime.now()
    )


async def overdue(
    session: AsyncSession, runtime: Runtime, actor: Actor
) -> list[tuple[IncidentRow, Deadline]] | None:
    """``/overdue``: every missed and still unmet deadline in scope, worst first; ``None`` when
    the actor may not watch."""
    if not may(actor, Action.WATCH):
        return None
    return await supervision.overdue(
        session, runtime.settings, scope_units(runtime.roster, actor), runtime.now()
    )


class Unseen(Enum):
    """Why ``/incident`` shows nothing."""

    MISSING = "missing"  # told only to those who may see every unit
    HIDDEN = "hidden"  # not theirs to see, or missing: the same answer, no numbers mapped


@dataclass(frozen=True)
class IncidentView:
    """One incident in full: the card's data, its deadlines, filed reports and timeline."""

    incident: IncidentRow
    deadlines: list[Deadline]
    reports: list[OfficialReport]
    events: list[Event]


async def incident_view(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int
) -> IncidentView | Unseen:
    """``/incident <#>``: the incident with everything about it, if the actor may see it."""
    incident = await incidents.get(session, number)
    if incident is None:
        return Unseen.MISSING if scope(actor) == actor.all_units else Unseen.HIDDEN
    if not may(actor, Action.VIEW_INCIDENT, await incidents.access_subject(session, incident)):
        return Unseen.HIDDEN
    return IncidentView(
        incident,
        await supervision.incident_deadlines(session, incident.id),
        await supervision.filed_reports(session, incident.id),
        await supervision.timeline(session, incident.id),
    )


def period(kind: str, now: datetime) -> tuple[datetime, datetime]:
    """The day (the last 24 hours) or the week (the last 7 days) before ``now``."""
    return now - PERIODS[kind], now


@dataclass(frozen=True)
class BulletinPost:
    """The bulletin as it is sent: its text and its chart (PNG)."""

    text: str
    chart: bytes


async def _post(
    session: AsyncSession,
    tr: Translator,
    runtime: Runtime,
    units: list[str],
    start: datetime,
    end: datetime,
) -> BulletinPost:
    figures = await supervision.bulletin(session, units, start, end)
    return BulletinPost(
        messaging.bulletin_text(tr, runtime, figures, start, end),
        messaging.bulletin_chart(tr, runtime, figures),
    )


async def bulletin(
    session: AsyncSession, runtime: Runtime, actor: Actor, kind: str, tr: Translator
) -> BulletinPost | None:
    """``/bulletin [day|week]`` for the actor's scope; ``None`` when the actor may not watch."""
    if not may(actor, Action.WATCH):
        return None
    start, end = period(kind, runtime.now())
    return await _post(session, tr, runtime, scope_units(runtime.roster, actor), start, end)


async def post_daily_bulletin(session: AsyncSession, runtime: Runtime, end: datetime) -> None:
    """Send every supervisor the last day's bulletin for their own scope, text then chart."""
    roster, now = runtime.roster, runtime.now()
    start = end - PERIODS["day"]
    by_scope: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for person in roster.people.values():
        if "supervisor" in person.roles:
            actor = Actor.at(roster, person, now)
            by_scope[tuple(scope_units(runtime.roster, actor))].append(person.id)
    for units, people in by_scope.items():
        figures = await supervision.bulletin(session, list(units), start, end)
        told = await notify(
            session,
            runtime.audience,
            people,
            partial(
                messaging.bulletin_text, runtime=runtime, figures=figures, start=start, end=end
            ),
        )
        langs = await languages(session, roster, told.told, runtime.settings.language)
        charts: dict[str, bytes] = {}  # drawn once per language: matplotlib is slow
        for person_id in told.told:
            language = langs[person_id]
            tr = translator(language)
            if language not in charts:
                charts[language] = messaging.bulletin_chart(tr, runtime, figures)
            enqueue_photo(
                session,
                told.chats[person_id],
                charts[language],
                messaging.bulletin_caption(tr),
                person_id=person_id,
            )
