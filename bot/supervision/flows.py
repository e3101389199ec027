"""The supervisor's use cases (SPEC §3.5): what is open, what is late, one incident in full,
the bulletin and its exports — each asked of ``bot.access`` first, in the actor's scope — and
posting the daily bulletin to the supervisors and to each unit's leader on duty."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Action, Actor, DirectiveSubject, may, scope
from bot.db.models import Deadline, DirectiveRow, Event, IncidentRow, OfficialReport
from bot.delivery.notify import notify
from bot.delivery.outbox import enqueue_photo
from bot.directives import service as directives
from bot.directory import languages
from bot.duty import flows as duty_flows
from bot.i18n import Translator, translator
from bot.identity.flows import scope_units
from bot.incidents import service as incidents
from bot.levels import OPEN_STATES
from bot.runtime import Runtime
from bot.supervision import documents, messaging, periods
from bot.supervision import service as supervision
from bot.supervision.documents import Document
from bot.supervision.figures import Bulletin, compute_bulletin

PERIODS = periods.PERIODS


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


async def directives_in_scope(
    session: AsyncSession, runtime: Runtime, actor: Actor, *, overdue_only: bool
) -> list[DirectiveRow] | None:
    """The open (or only the overdue) directives led by units in the actor's scope, for
    ``/status`` and ``/overdue``; ``None`` when the actor may not watch."""
    if not may(actor, Action.WATCH):
        return None
    units = scope_units(runtime.roster, actor)
    return await directives.in_scope(session, units, runtime.now(), overdue_only=overdue_only)


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
    directives: list[DirectiveRow] = field(default_factory=list)  # instructions (批示) on it
    may_instruct: bool = False


async def incident_view(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int
) -> IncidentView | Unseen:
    """``/incident <#>``: the incident with everything about it, if the actor may see it."""
    incident = await incidents.get(session, number)
    if incident is None:
        return Unseen.MISSING if scope(actor) == actor.all_units else Unseen.HIDDEN
    rules = await incidents.subject_for(session, incident, actor, Action.VIEW_INCIDENT)
    if not may(actor, Action.VIEW_INCIDENT, rules):
        return Unseen.HIDDEN
    return IncidentView(
        incident,
        await supervision.incident_deadlines(session, incident.id),
        await supervision.filed_reports(session, incident.id),
        await supervision.timeline(session, incident.id),
        await directives.linked_to(session, incident.id),
        may(actor, Action.DIRECT, DirectiveSubject(lead_unit=incident.unit_id))
        and incident.state in OPEN_STATES,
    )


def bulletin_period(runtime: Runtime, kind: str, day: date | None) -> tuple[datetime, datetime]:
    """The ``kind`` period (duty days from ``bulletin.daily_at``, local) holding ``day``, or
    the current one so far."""
    settings, now = runtime.settings, runtime.now()
    handover, tz = settings.bulletin_daily_at, settings.timezone
    return periods.period_of(
        kind, day or periods.duty_date(now, handover, tz), handover, tz, now=now
    )


@dataclass(frozen=True)
class BulletinPost:
    """The bulletin as it is sent: its numbers and its text (the chart is drawn by the caller,
    off the event loop and outside any transaction: matplotlib takes a while)."""

    figures: Bulletin
    text: str


async def bulletin(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    kind: str,
    tr: Translator,
    day: date | None = None,
) -> BulletinPost | None:
    """``/bulletin [day|week|month] [date]`` for the actor's scope; ``None`` when the actor may
    not watch."""
    if not may(actor, Action.WATCH):
        return None
    start, end = bulletin_period(runtime, kind, day)
    numbers = await compute_bulletin(session, scope_units(runtime.roster, actor), start, end)
    return BulletinPost(numbers, messaging.bulletin_text(tr, runtime, numbers, kind))


def _subset(numbers: Bulletin, units: list[str]) -> Bulletin:
    return Bulletin(
        units,
        numbers.start,
        numbers.end,
        {
            key: {u: v for u, v in by_unit.items() if u in units}
            for key, by_unit in numbers.values.items()
        },
    )


async def post_daily_bulletin(session: AsyncSession, runtime: Runtime, end: datetime) -> None:
    """The duty day that ends at ``end``: every supervisor gets the bulletin of their scope, and
    each unit's leader on duty (not already told as a supervisor) that unit's own figures, each
    as text then chart. Here (in the firing's transaction) the texts are queued and each chart
    is booked with its numbers and readers; it is drawn after the commit (``draw_charts``)."""
    roster, now = runtime.roster, runtime.now()
    settings = runtime.settings
    day = periods.duty_date(
        end - timedelta(seconds=1), settings.bulletin_daily_at, settings.timezone
    )
    start, end = periods.period_of(periods.DAY, day, settings.bulletin_daily_at, settings.timezone)
    numbers = await compute_bulletin(session, list(roster.units), start, end)
    audiences: dict[tuple[str, ...], list[str]] = defaultdict(list)
    supervisors = set()
    for person in roster.people.values():
        if "supervisor" in person.roles:
            actor = Actor.at(roster, person, now)
            audiences[tuple(scope_units(roster, actor))].append(person.id)
            supervisors.add(person.id)
    for unit in roster.units:
        for leader in roster.holders(unit, "leader", now):
            if leader not in supervisors:
                audiences[(unit,)].append(leader)
    for units, people in audiences.items():
        await _send_bulletin(session, runtime, _subset(numbers, list(units)), people)


async def _send_bulletin(
    session: AsyncSession, runtime: Runtime, numbers: Bulletin, people: list[str]
) -> None:
    told = await notify(
        session,
        runtime.audience,
        people,
        partial(messaging.bulletin_text, runtime=runtime, bulletin=numbers),
    )
    if not told.told:
        return
    langs = await languages(session, runtime.roster, told.told, runtime.settings.language)
    readers = [[person, told.chats[person], langs[person]] for person in told.told]
    supervision.book_bulletin_chart(
        session, runtime.now(), {"bulletin": numbers.to_data(), "readers": readers}
    )


async def draw_charts(runtime: Runtime, job: dict[str, Any]) -> dict[str, bytes]:
    """A booked bulletin chart in each of its readers' languages, drawn in a worker thread
    (matplotlib takes a while; other chats go on meanwhile) with no session open."""
    numbers = Bulletin.from_data(job["bulletin"])
    charts: dict[str, bytes] = {}
    for language in sorted({language for _, _, language in job["readers"]}):
        charts[language] = await asyncio.to_thread(
            messaging.bulletin_chart, translator(language), runtime, numbers
        )
    return charts


def send_charts(session: AsyncSession, job: dict[str, Any], charts: dict[str, bytes]) -> None:
    """Queue the drawn chart to each reader of a booked bulletin chart, after its text."""
    for person_id, chat_id, language in job["readers"]:
        enqueue_photo(
            session,
            chat_id,
            charts[language],
            messaging.bulletin_caption(translator(language)),
            person_id=person_id,
        )


# --- exports (SPEC §3.5) -------------------------------------------------------------------


async def export_bulletin(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor | None,
    kind: str,
    tr: Translator,
    day: date | None = None,
) -> Document | None:
    """``/export bulletin``: the bulletin of the actor's scope (every unit from the command
    line, ``actor=None``) as an XLSX workbook; ``None`` when the actor may not watch."""
    if actor is not None and not may(actor, Action.WATCH):
        return None
    units = scope_units(runtime.roster, actor) if actor is not None else list(runtime.roster.units)
    start, end = bulletin_period(runtime, kind, day)
    numbers = await compute_bulletin(session, units, start, end)
    return documents.bulletin_workbook(tr, runtime, numbers, kind)


async def export_incident(
    session: AsyncSession, runtime: Runtime, actor: Actor | None, number: int, tr: Translator
) -> Document | Unseen:
    """``/export incident <#>``: the incident's dossier as a DOCX document, if the actor (any
    incident from the command line, ``actor=None``) may see it."""
    if actor is None:
        incident = await incidents.get(session, number)
        if incident is None:
            return Unseen.MISSING
        view = IncidentView(
            incident,
            await supervision.incident_deadlines(session, incident.id),
            await supervision.filed_reports(session, incident.id),
            await supervision.timeline(session, incident.id),
        )
    else:
        found = await incident_view(session, runtime, actor, number)
        if isinstance(found, Unseen):
            return found
        view = found
    return documents.incident_dossier(
        tr, runtime, view.incident, view.deadlines, view.reports, view.events
    )


async def export_duty_log(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor | None,
    unit: str,
    day: date | None,
    tr: Translator,
) -> Document | None:
    """``/export dutylog <unit> [date]``: a shift's duty log as a DOCX document, if the actor
    (anyone from the command line, ``actor=None``) may read it; ``None`` otherwise."""
    if unit not in runtime.roster.units:
        return None
    if actor is not None:
        log = await duty_flows.duty_log(session, runtime, actor, unit, day)
        if not log.allowed:
            return None
    else:
        log = await duty_flows.shift_log(session, runtime, unit, day)
    return documents.duty_log_document(tr, runtime, log)
