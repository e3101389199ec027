"""The supervisor's use cases (SPEC §3.5): what is open, what is late, one incident in full,
and the bulletin — each asked of ``bot.access`` first, in the actor's scope — and posting the
daily bulletin to the supervisors."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
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
from bot.i18n import translator
from bot.identity.flows import scope_units
from bot.incidents import service as incidents
from bot.runtime import Runtime
from bot.supervision import messaging
from bot.supervision import service as supervision

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7)}


@dataclass(frozen=True)
class StatusPage:
    """One page of ``/status``: its lines' incidents, the counts (first page only), the page
    number and where the next page starts (``None`` on the last)."""

    rows: list[supervision.Watched]
    counts: supervision.StatusCounts | None
    page: int
    next_key: supervision.StatusKey | None


async def status_page(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    *,
    page: int = 1,
    after: supervision.StatusKey | None = None,
    fits: Callable[[list[supervision.Watched]], int] | None = None,
) -> StatusPage | None:
    """``/status``: one page of the open incidents in the actor's scope with their colours
    (the scope is asked again on every page: it may have changed); ``None`` when the actor may
    not watch. ``fits`` says how many of the rows read fit on one screen (messaging knows)."""
    if not may(actor, Action.WATCH):
        return None
    units, now = scope_units(runtime.roster, actor), runtime.now()
    rows, more = await supervision.watched_page(session, runtime.settings, units, now, after)
    shown = fits(rows) if fits is not None else len(rows)
    more = more or shown < len(rows)
    rows = rows[:shown]
    counts = (
        await supervision.status_counts(session, runtime.settings, units, now)
        if after is None
        else None
    )
    last = rows[-1].incident if rows else None
    key = supervision.StatusKey(supervision.rank_of(last), last.id) if more and last else None
    return StatusPage(rows, counts, page, key)


@dataclass(frozen=True)
class OverduePage:
    """One page of ``/overdue``: the count (first page), the rows, where the next page starts."""

    rows: list[tuple[IncidentRow, Deadline]]
    count: int | None
    page: int
    next_after: int | None


async def overdue_page(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    *,
    page: int = 1,
    after: int | None = None,
) -> OverduePage | None:
    """``/overdue``: one page of the missed and still unmet deadlines in scope, worst first;
    ``None`` when the actor may not watch."""
    if not may(actor, Action.WATCH):
        return None
    units = scope_units(runtime.roster, actor)
    rows, more = await supervision.overdue_page(session, units, after)
    count = await supervision.overdue_count(session, units) if after is None else None
    return OverduePage(rows, count, page, rows[-1][1].id if more and rows else None)


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
class BulletinFigures:
    """The bulletin's numbers for a period: drawn and worded by the caller, outside the
    transaction (the chart takes a while)."""

    figures: list[supervision.UnitFigures]
    start: datetime
    end: datetime


async def bulletin_figures(
    session: AsyncSession, runtime: Runtime, actor: Actor, kind: str
) -> BulletinFigures | None:
    """``/bulletin [day|week]`` for the actor's scope; ``None`` when the actor may not watch."""
    if not may(actor, Action.WATCH):
        return None
    start, end = period(kind, runtime.now())
    units = scope_units(runtime.roster, actor)
    return BulletinFigures(await supervision.bulletin(session, units, start, end), start, end)


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
            if language not in charts:  # off the event loop: other chats go on meanwhile
                charts[language] = await asyncio.to_thread(
                    messaging.bulletin_chart, tr, runtime, figures
                )
            enqueue_photo(
                session,
                told.chats[person_id],
                charts[language],
                messaging.bulletin_caption(tr),
                person_id=person_id,
            )
