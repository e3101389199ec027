"""Incidents (SPEC §2, §3.1–3.2): create, accept, transfer, dismiss, merge, add information.

Every change is a conditional update and writes its timeline event (``events`` with subject
``incident:<n>``) in the caller's transaction, so concurrent presses have exactly one winner
and the timeline never disagrees with the row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.access import Action, Actor, IncidentSubject, may
from bot.db.models import (
    ChangeRequest,
    Deadline,
    Event,
    Follow,
    IncidentAlert,
    IncidentRow,
    OfficialReport,
    OutboxMessage,
)
from bot.db.remembered import Remembered
from bot.incidents import deadlines
from bot.levels import MAX_ADDED_TEXT, MAX_ADDITIONS, MAX_PHOTOS, OPEN_STATES
from bot.parsing import clean_text
from bot.roster import Person
from bot.settings import Settings
from bot.timeline import record_event

MAX_DESCRIPTION = 3000
MAX_SUMMARY = 120
DUPLICATE_WINDOW = timedelta(hours=1)
DUPLICATE_RADIUS_M = 1000.0


def subject(incident_id: int) -> str:
    """The event-log subject of an incident's timeline."""
    return f"incident:{incident_id}"


@dataclass
class Draft:
    """What a reporter has told us so far (the guided form fills it step by step)."""

    description: str
    category: str | None = None
    level: str = "unassessed"
    sensitive: bool = False
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    casualties: dict[str, int] = field(default_factory=dict)
    photos: list[str] = field(default_factory=list)
    drill: bool = False
    occurred_at: datetime | None = None  # 事发时间, when the reporter knows it
    source: str = "field"  # field | phone
    caller_name: str | None = None
    caller_org: str | None = None
    caller_phone: str | None = None

    @classmethod
    def from_answers(cls, answers: dict[str, Any], *, source: str = "field") -> Draft:
        """A draft from a guided form's answers (``/report``, ``/call``)."""

        def moment(key: str) -> datetime | None:
            value = answers.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        return cls(
            description=answers.get("description", ""),
            category=answers.get("category"),
            level=answers.get("level", "unassessed"),
            sensitive=bool(answers.get("sensitive", False)),
            location_text=answers.get("location_text"),
            latitude=answers.get("latitude"),
            longitude=answers.get("longitude"),
            casualties=answers.get("casualties", {}),
            photos=answers.get("photos", []),
            occurred_at=moment("occurred_at"),
            source=source,
            caller_name=answers.get("caller_name"),
            caller_org=answers.get("caller_org"),
            caller_phone=answers.get("caller_phone"),
        )


def summarise(description: str) -> str:
    """The first line of a description, cut to fit a summary."""
    first = description.strip().split("\n", 1)[0].strip()
    return first if len(first) <= MAX_SUMMARY else first[: MAX_SUMMARY - 1] + "…"


def _incident_row(draft: Draft, reporter: Person, unit_id: str, at: datetime) -> IncidentRow:
    """The row a draft makes (state ``reported``); the reporter's text cleaned of controls and
    direction overrides."""
    description = clean_text(draft.description)
    return IncidentRow(
        unit_id=unit_id,
        category=draft.category,
        level=draft.level,
        sensitive=draft.sensitive,
        summary=summarise(description),
        description=description.strip(),
        location_text=clean_text(draft.location_text) if draft.location_text else None,
        latitude=draft.latitude,
        longitude=draft.longitude,
        reported_at=at,
        unit_since=at,
        reporter_id=reporter.id,
        dead=draft.casualties.get("dead"),
        injured=draft.casualties.get("injured"),
        missing=draft.casualties.get("missing"),
        trapped=draft.casualties.get("trapped"),
        attachments=list(draft.photos),
        drill=draft.drill,
        state="reported",
        version=1,
        occurred_at=draft.occurred_at,
        source=draft.source,
        caller_name=draft.caller_name,
        caller_org=draft.caller_org,
        caller_phone=draft.caller_phone,
    )


def preview_incident(draft: Draft, reporter: Person, unit_id: str, at: datetime) -> IncidentRow:
    """The incident a draft would make, unsaved (number 0): what the reporter checks."""
    incident = _incident_row(draft, reporter, unit_id, at)
    incident.id = 0
    return incident


async def create_incident(
    session: AsyncSession,
    *,
    draft: Draft,
    reporter: Person,
    unit_id: str,
    at: datetime,
    settings: Settings,
) -> IncidentRow:
    """Store a new incident (state ``reported``) and its first timeline event; the reporter's
    text is cleaned of controls and direction overrides first."""
    incident = _incident_row(draft, reporter, unit_id, at)
    session.add(incident)
    await session.flush()
    record_event(
        session,
        at=at,
        kind="incident.reported",
        actor=reporter.id,
        subject=subject(incident.id),
        unit=unit_id,
        level=draft.level,
        category=draft.category,
        source=draft.source,
        caller=draft.caller_name,
    )
    await deadlines.on_reported(session, settings, incident, at)
    return incident


@dataclass(frozen=True)
class FiledSoFar:
    """What an incident's official reports have filed so far: its 首报, and how many 续报."""

    initial: bool
    followups: int

    def number_of(self, kind: str) -> int:
        """The number the next report of ``kind`` takes: 续报 are numbered 1, 2, …; others 0."""
        return self.followups + 1 if kind == "followup" else 0


def _filed(
    kind: str, incident_id: ColumnElement[int] | InstrumentedAttribute[int]
) -> ScalarSelect[int]:
    """How many reports of ``kind`` the incident ``incident_id`` has filed (a 首报 stays filed
    across transfers)."""
    return (
        select(func.count())
        .where(
            OfficialReport.incident_id == incident_id,
            OfficialReport.kind == kind,
            OfficialReport.state == "filed",
        )
        .scalar_subquery()
    )


# built once (on the path of every report filed): composing them per call costs more than
# running them
_FILED_SO_FAR = select(
    _filed("initial", bindparam("incident_id")), _filed("followup", bindparam("incident_id"))
)
_WITH_FILED = (
    select(IncidentRow, _filed("initial", IncidentRow.id), _filed("followup", IncidentRow.id))
    .where(IncidentRow.id == bindparam("incident_id"))
    .execution_options(populate_existing=True)
)


async def filed_so_far(session: AsyncSession, incident_id: int) -> FiledSoFar:
    """The incident's filed 首报 and 续报, in one query."""
    initials, followups = (await session.execute(_FILED_SO_FAR, {"incident_id": incident_id})).one()
    return FiledSoFar(initial=initials > 0, followups=followups)


async def get_with_filed(
    session: AsyncSession, incident_id: int
) -> tuple[IncidentRow, FiledSoFar] | None:
    """One incident by number (as ``get``) with what it has filed so far, in one query: a
    report being written needs both, and a round trip costs more than the counts."""
    row = (await session.execute(_WITH_FILED, {"incident_id": incident_id})).one_or_none()
    if row is None:
        return None
    incident, initials, followups = row
    return incident, FiledSoFar(initial=initials > 0, followups=followups)


async def initial_filed(session: AsyncSession, incident_id: int) -> bool:
    """Whether the incident's 首报 was filed (it stays filed across transfers)."""
    return (await filed_so_far(session, incident_id)).initial


async def get(session: AsyncSession, incident_id: int) -> IncidentRow | None:
    """One incident by number."""
    return await session.get(IncidentRow, incident_id, populate_existing=True)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


async def duplicate_candidate(session: AsyncSession, incident: IncidentRow) -> IncidentRow | None:
    """An open incident of the same category and unit from the last hour, within 1 km when both
    have coordinates: the newest such one."""
    if incident.category is None:
        return None
    rows = await session.scalars(
        select(IncidentRow)
        .where(
            IncidentRow.id != incident.id,
            IncidentRow.unit_id == incident.unit_id,
            IncidentRow.category == incident.category,
            IncidentRow.state.in_(OPEN_STATES),
            IncidentRow.reported_at >= incident.reported_at - DUPLICATE_WINDOW,
        )
        .order_by(IncidentRow.id.desc())
    )
    for other in rows:
        coordinates = (incident.latitude, incident.longitude, other.latitude, other.longitude)
        if None in coordinates:
            return other
        lat1, lon1, lat2, lon2 = (float(c) for c in coordinates)  # type: ignore[arg-type]
        if distance_m(lat1, lon1, lat2, lon2) <= DUPLICATE_RADIUS_M:
            return other
    return None


class Outcome(Enum):
    """How an attempted change ended."""

    DONE = "done"
    ALREADY_ACCEPTED = "already_accepted"
    NOT_OPEN = "not_open"
    SAME_UNIT = "same_unit"
    SAME_INCIDENT = "same_incident"
    ADDITIONS_FULL = "additions_full"  # the incident takes no more additions
    TEXT_FULL = "text_full"  # no more added text
    PHOTOS_FULL = "photos_full"  # no more photos
    HIDDEN = "hidden"  # no such incident, or one the person may not see: the same answer
    FORBIDDEN = "forbidden"  # the person may see the incident but not do this to it
    REQUESTED = "requested"  # sent to the leader on duty: takes effect when approved


@dataclass(frozen=True)
class Attempt:
    """How a use case ended, for its answer: the incident's number, the outcome, and the
    incident as it is now (``None`` when the asker may not know it)."""

    number: int
    outcome: Outcome
    incident: IncidentRow | None = None

    @property
    def done(self) -> bool:
        """Whether the change was made."""
        return self.outcome is Outcome.DONE


@dataclass(frozen=True)
class Change:
    """The result of a change: what happened, and the incident as it is now."""

    outcome: Outcome
    incident: IncidentRow


async def _conditional(
    session: AsyncSession, incident_id: int, states: Sequence[str], **values: object
) -> tuple[bool, IncidentRow]:
    """Change the incident only if it is in one of ``states``; return whether this call won,
    and the incident as it is now."""
    result = await session.execute(
        update(IncidentRow)
        .where(IncidentRow.id == incident_id, IncidentRow.state.in_(states))
        .values(version=IncidentRow.version + 1, **values)
    )
    current = await get(session, incident_id)
    assert current is not None
    return bool(result.rowcount), current  # type: ignore[attr-defined]


async def accept(
    session: AsyncSession, incident: IncidentRow, person: Person, at: datetime, settings: Settings
) -> Change:
    """First press wins: ``reported → accepted`` with the person as assignee (``reported →
    initial_reported`` for a transferred incident whose 首报 was already filed: the receiving unit
    inherits it as it is)."""
    new_state = "initial_reported" if await initial_filed(session, incident.id) else "accepted"
    won, current = await _conditional(
        session,
        incident.id,
        ("reported",),
        state=new_state,
        assignee_id=person.id,
        accepted_at=at,
    )
    if not won:
        outcome = Outcome.ALREADY_ACCEPTED if current.state in OPEN_STATES else Outcome.NOT_OPEN
        return Change(outcome, current)
    record_event(
        session,
        at=at,
        kind="incident.accepted",
        actor=person.id,
        subject=subject(incident.id),
        old="reported",
        new=new_state,
        unit=current.unit_id,
    )
    await deadlines.on_accepted(session, settings, current, at)
    return Change(Outcome.DONE, current)


async def transfer(
    session: AsyncSession,
    incident: IncidentRow,
    to_unit: str,
    reason: str,
    person: Person,
    at: datetime,
    settings: Settings,
) -> Change:
    """Hand the incident to another unit; it is ``reported`` there until one of its officers
    accepts. First responsibility (首问负责): the old assignee — or, for a report nobody had
    accepted, the person transferring it — stays responsible until then."""
    if to_unit == incident.unit_id:
        return Change(Outcome.SAME_UNIT, incident)
    reason = clean_text(reason)
    from_unit = incident.unit_id
    won, current = await _conditional(
        session,
        incident.id,
        OPEN_STATES,
        unit_id=to_unit,
        state="reported",
        unit_since=at,
        assignee_id=incident.assignee_id or person.id,
    )
    if not won:
        return Change(Outcome.NOT_OPEN, current)
    record_event(
        session,
        at=at,
        kind="incident.transferred",
        actor=person.id,
        subject=subject(incident.id),
        note=reason,
        old=from_unit,
        new=to_unit,
    )
    await deadlines.on_transferred(session, settings, current, at)
    return Change(Outcome.DONE, current)


async def dismiss(
    session: AsyncSession, incident: IncidentRow, reason: str, person: Person, at: datetime
) -> Change:
    """Not an incident: close it as ``dismissed`` with the reason."""
    reason = clean_text(reason)
    old = incident.state
    won, current = await _conditional(
        session, incident.id, OPEN_STATES, state="dismissed", closed_reason=reason
    )
    if not won:
        return Change(Outcome.NOT_OPEN, current)
    record_event(
        session,
        at=at,
        kind="incident.dismissed",
        actor=person.id,
        subject=subject(incident.id),
        note=reason,
        old=old,
        new="dismissed",
    )
    await deadlines.cancel_all(session, incident.id)
    return Change(Outcome.DONE, current)


async def merge(
    session: AsyncSession, incident: IncidentRow, into: IncidentRow, person: Person, at: datetime
) -> Change:
    """A duplicate: link it to ``into`` and close it as ``merged``."""
    if incident.id == into.id:
        return Change(Outcome.SAME_INCIDENT, incident)
    if into.state not in OPEN_STATES:
        return Change(Outcome.NOT_OPEN, into)
    old = incident.state
    won, current = await _conditional(
        session,
        incident.id,
        OPEN_STATES,
        state="merged",
        duplicate_of=into.id,
        closed_reason=f"#{into.id}",
    )
    if not won:
        return Change(Outcome.NOT_OPEN, current)
    record_event(
        session,
        at=at,
        kind="incident.merged",
        actor=person.id,
        subject=subject(incident.id),
        old=old,
        new="merged",
        into=into.id,
    )
    record_event(
        session,
        at=at,
        kind="incident.duplicate_linked",
        actor=person.id,
        subject=subject(into.id),
        duplicate=incident.id,
    )
    await deadlines.cancel_all(session, incident.id)
    return Change(Outcome.DONE, current)


async def add_info(
    session: AsyncSession,
    incident: IncidentRow,
    person: Person,
    at: datetime,
    *,
    text: str | None = None,
    photo: str | None = None,
    settings: Settings | None = None,
) -> Outcome:
    """The reporter adds to their report: text appended to the description (stamped in the
    configured timezone), or a photo. An incident no longer open takes nothing, and each takes
    at most ``MAX_ADDITIONS`` additions, ``MAX_ADDED_TEXT`` characters of them and
    ``MAX_PHOTOS`` photos. Casualty figures in the text (``dead 3``, ``死亡3``) that are higher
    than the incident's are taken over; when they rose after the 首报, a 续报 falls due
    ``followup_on_change`` from now."""
    text = clean_text(text).strip() or None if text else None
    if incident.state not in OPEN_STATES:
        return Outcome.NOT_OPEN
    additions, added = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(func.length(Event.note)), 0)).where(
                Event.subject == subject(incident.id), Event.kind == "incident.info_added"
            )
        )
    ).one()
    if additions >= MAX_ADDITIONS:
        return Outcome.ADDITIONS_FULL
    if text and added + len(text) > MAX_ADDED_TEXT:
        return Outcome.TEXT_FULL
    if photo and len(incident.attachments) >= MAX_PHOTOS:
        return Outcome.PHOTOS_FULL
    values: dict[str, object] = {}
    if text:
        tz = settings.timezone if settings is not None else None
        stamp = at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        values["description"] = f"{incident.description}\n[+ {stamp}] {text}".strip()
    if photo:
        values["attachments"] = [*incident.attachments, photo]
    rose = {
        name: count
        for name, count in casualties_in(text or "").items()
        if count > (getattr(incident, name) or 0)
    }
    values.update(rose)
    changed = await session.execute(
        update(IncidentRow)
        .where(
            IncidentRow.id == incident.id,
            IncidentRow.version == incident.version,
            IncidentRow.state.in_(OPEN_STATES),
        )
        .values(version=IncidentRow.version + 1, **values)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return Outcome.NOT_OPEN  # closed (or changed) meanwhile: the reporter may try again
    record_event(
        session,
        at=at,
        kind="incident.info_added",
        actor=person.id,
        subject=subject(incident.id),
        note=text,
        photo=photo,
    )
    if rose:
        record_event(
            session,
            at=at,
            kind="incident.casualties_rose",
            actor=person.id,
            subject=subject(incident.id),
            casualties=rose,
        )
        current = await get(session, incident.id)
        if settings is not None and current is not None:
            number = await _next_followup_number(session, incident.id)
            await deadlines.on_casualties_rose(session, settings, current, number, at)
    return Outcome.DONE


_CASUALTY_WORDS = {
    "dead": ("dead", "死亡", "遇难"),
    "injured": ("injured", "受伤"),
    "missing": ("missing", "失踪"),
    "trapped": ("trapped", "被困"),
}


def casualties_in(text: str) -> dict[str, int]:
    """Casualty figures written in added information: ``dead 3``, ``3 injured``, ``死亡3人``."""
    found: dict[str, int] = {}
    for name, words in _CASUALTY_WORDS.items():
        for word in words:
            w = re.escape(word)
            match = re.search(
                rf"{w}\s*[:：]?\s*(\d+)|(\d+)\s*(?:人|people|persons)?\s*{w}", text, re.I
            )
            if match:
                found[name] = int(match.group(1) or match.group(2))
                break
    return found


async def _next_followup_number(session: AsyncSession, incident_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(OfficialReport)
        .where(
            OfficialReport.incident_id == incident_id,
            OfficialReport.kind == "followup",
            OfficialReport.state == "filed",
        )
    )
    return int(count or 0) + 1


async def reported_by(session: AsyncSession, person_id: str, limit: int = 20) -> list[IncidentRow]:
    """A person's own reports, newest first."""
    rows = await session.scalars(
        select(IncidentRow)
        .where(IncidentRow.reporter_id == person_id)
        .order_by(IncidentRow.id.desc())
        .limit(limit)
    )
    return list(rows)


async def assigned_to(
    session: AsyncSession, person_id: str, after: int = 0, limit: int = 50
) -> list[IncidentRow]:
    """Open incidents a person is responsible for (including ones transferred away but not yet
    accepted by the other unit), oldest first, numbers after ``after``, at most ``limit``."""
    rows = await session.scalars(
        select(IncidentRow)
        .where(
            IncidentRow.assignee_id == person_id,
            IncidentRow.state.in_(OPEN_STATES),
            IncidentRow.id > after,
        )
        .order_by(IncidentRow.id)
        .limit(limit)
    )
    return list(rows)


async def awaiting_acceptance(
    session: AsyncSession, unit_ids: list[str], after: int = 0, limit: int = 50
) -> list[IncidentRow]:
    """Incidents of these units nobody has accepted yet, oldest first, numbers after ``after``,
    at most ``limit``."""
    rows = await session.scalars(
        select(IncidentRow)
        .where(
            IncidentRow.unit_id.in_(unit_ids),
            IncidentRow.state == "reported",
            IncidentRow.id > after,
        )
        .order_by(IncidentRow.id)
        .limit(limit)
    )
    return list(rows)


async def take_over(
    session: AsyncSession, incident: IncidentRow, person: Person, at: datetime, settings: Settings
) -> Change:
    """Somebody on the escalation ladder takes charge: they become the assignee (accepting the
    incident if nobody had), and the escalation stops."""
    if incident.state not in OPEN_STATES:
        return Change(Outcome.NOT_OPEN, incident)
    if incident.state == "reported":
        change = await accept(session, incident, person, at, settings)
        if change.outcome is not Outcome.DONE:
            return change
    else:
        old = incident.assignee_id
        won, _ = await _conditional(session, incident.id, OPEN_STATES, assignee_id=person.id)
        if not won:
            return Change(Outcome.NOT_OPEN, incident)
        record_event(
            session,
            at=at,
            kind="incident.taken_over",
            actor=person.id,
            subject=subject(incident.id),
            old=old,
            new=person.id,
        )
    await deadlines.stop_escalations(session, incident.id)
    await deadlines.renew_missed_reports(session, settings, incident.id, at)
    record_event(
        session,
        at=at,
        kind="escalation.stopped",
        actor=person.id,
        subject=subject(incident.id),
        reason="taken over",
    )
    current = await get(session, incident.id)
    assert current is not None
    return Change(Outcome.DONE, current)


async def change_level(
    session: AsyncSession,
    incident: IncidentRow,
    level: str,
    person: Person,
    at: datetime,
    settings: Settings,
) -> Change:
    """Raise or lower the level; pending deadlines follow the new level's limits."""
    old = incident.level
    won, current = await _conditional(session, incident.id, OPEN_STATES, level=level)
    if not won:
        return Change(Outcome.NOT_OPEN, current)
    record_event(
        session,
        at=at,
        kind="incident.level_changed",
        actor=person.id,
        subject=subject(incident.id),
        old=old,
        new=level,
    )
    await deadlines.recompute(session, settings, current, at)
    return Change(Outcome.DONE, current)


async def escalated_to(session: AsyncSession, incident_id: int) -> set[str]:
    """Everyone on the escalation ladders of an incident (who may take it over)."""
    rows = await session.scalars(
        select(Deadline.data).where(
            Deadline.incident_id == incident_id, Deadline.kind == deadlines.ESCALATION
        )
    )
    return {p["person"] for data in rows for rung in data.get("rungs", []) for p in rung}


async def set_flag(
    session: AsyncSession,
    incident: IncidentRow,
    flag: str,
    value: bool,
    person: Person,
    at: datetime,
    settings: Settings,
) -> Change:
    """Mark an incident sensitive (its deadlines then follow level II) or a drill (left out of
    the bulletin), or clear the mark."""
    if flag not in ("sensitive", "drill"):
        raise ValueError(f"unknown flag {flag!r}")
    old = bool(getattr(incident, flag))
    won, current = await _conditional(session, incident.id, OPEN_STATES, **{flag: value})
    if not won:
        return Change(Outcome.NOT_OPEN, current)
    record_event(
        session,
        at=at,
        kind=f"incident.{flag}",
        actor=person.id,
        subject=subject(incident.id),
        old=old,
        new=value,
    )
    if flag == "sensitive" and old != value:
        await deadlines.recompute(session, settings, current, at)
    return Change(Outcome.DONE, current)


async def alerted_people(session: AsyncSession, incident: IncidentRow) -> set[str]:
    """Everyone the incident's alert was sent to while it belonged to its current unit (so
    a gap's next rung may accept it)."""
    rows = await session.scalars(
        select(IncidentAlert.person_id).where(
            IncidentAlert.incident_id == incident.id,
            IncidentAlert.unit_id == incident.unit_id,
            IncidentAlert.person_id.is_not(None),
        )
    )
    return {person for person in rows if person is not None}


async def subject_for(
    session: AsyncSession, incident: IncidentRow, actor: Actor, action: Action
) -> IncidentSubject:
    """What the rules need to decide ``action`` (and, when it is refused, anything else): the
    incident's own row when that already allows it, as it does for whoever works in the unit;
    else everything, reading who was alerted, escalated to or follows it. Sound because those
    sets only ever grant (``tests/test_access.py`` holds the rules to that)."""
    own = IncidentSubject(
        unit_id=incident.unit_id,
        reporter_id=incident.reporter_id,
        assignee_id=incident.assignee_id,
    )
    if may(actor, action, own):
        return own
    return await access_subject(session, incident)


async def _all_follows(session: AsyncSession) -> dict[str, list[str]]:
    # on the session's connection, without flushing what the transaction has pending (a
    # report's new deadlines go in the commit's one flush)
    connection = await session.connection()
    rows = await connection.execute(select(Follow.unit_id, Follow.person_id))
    by_unit: dict[str, list[str]] = {}
    for unit_id, person_id in rows:
        by_unit.setdefault(unit_id, []).append(person_id)
    return by_unit


# read on the path of every report filed and every access check that needs it, written by a
# /follow now and then
_FOLLOWS = Remembered("follows", (Follow,), _all_follows)


async def followers(session: AsyncSession, unit_id: str) -> list[str]:
    """Supervisors following the unit (``/follow``): they receive its reports too. Kept in
    memory (``bot.db.remembered``); follows this transaction changed itself, flushed or not,
    are counted."""
    people = list((await _FOLLOWS.get(session)).get(unit_id, ()))
    people += [f.person_id for f in session.new if isinstance(f, Follow) and f.unit_id == unit_id]
    dropped = {
        f.person_id for f in session.deleted if isinstance(f, Follow) and f.unit_id == unit_id
    }
    return [p for p in dict.fromkeys(people) if p not in dropped]


async def access_subject(session: AsyncSession, incident: IncidentRow) -> IncidentSubject:
    """What the permission rules need to know of the incident, as it stands now."""
    return IncidentSubject(
        unit_id=incident.unit_id,
        reporter_id=incident.reporter_id,
        assignee_id=incident.assignee_id,
        alerted=frozenset(await alerted_people(session, incident)),
        escalated=frozenset(await escalated_to(session, incident.id)),
        followers=frozenset(await followers(session, incident.unit_id)),
    )


async def alerted_chats(session: AsyncSession, incident_id: int) -> set[int]:
    """Every chat that was ever sent this incident's alert card (and so its photos)."""
    rows = await session.scalars(
        select(IncidentAlert.chat_id).where(IncidentAlert.incident_id == incident_id).distinct()
    )
    return set(rows)


def remember_alert(
    session: AsyncSession,
    incident: IncidentRow,
    outbox: OutboxMessage | int,
    chat_id: int,
    person_id: str | None,
    *,
    digest: bool = False,
) -> None:
    """One copy of the alert card was queued (the outbox row, or its id): remember it, so it
    can be edited later (a digest line is remembered as alerted, but never edited). A row not
    flushed yet is linked as it is inserted, in the same flush."""
    alert = IncidentAlert(
        incident_id=incident.id,
        chat_id=chat_id,
        person_id=person_id,
        unit_id=incident.unit_id,
        active=not digest,
        digest=digest,
    )
    if isinstance(outbox, OutboxMessage):
        alert.outbox = outbox
    else:
        alert.outbox_id = outbox
    session.add(alert)


async def waiting_digest(session: AsyncSession, chat_id: int) -> tuple[int, list[IncidentRow]]:
    """The chat's digest message that is still unsent (its outbox id, 0 if none) and the
    incidents it lists."""
    outbox_id = await session.scalar(
        select(IncidentAlert.outbox_id)
        .join(OutboxMessage, OutboxMessage.id == IncidentAlert.outbox_id)
        .where(
            IncidentAlert.chat_id == chat_id,
            IncidentAlert.digest.is_(True),
            OutboxMessage.state == "pending",
        )
        .order_by(IncidentAlert.outbox_id.desc())
        .limit(1)
    )
    if outbox_id is None:
        return 0, []
    rows = await session.scalars(
        select(IncidentRow)
        .join(IncidentAlert, IncidentAlert.incident_id == IncidentRow.id)
        .where(IncidentAlert.outbox_id == outbox_id, IncidentAlert.digest.is_(True))
    )
    return outbox_id, list(rows)


async def close_alerts(
    session: AsyncSession, incident_id: int, units: tuple[str, ...] | None = None
) -> list[IncidentAlert]:
    """The active copies of the incident's alert (of ``units``, default all), now closed:
    the caller edits each one a last time."""
    query = select(IncidentAlert).where(
        IncidentAlert.incident_id == incident_id, IncidentAlert.active.is_(True)
    )
    if units is not None:
        query = query.where(IncidentAlert.unit_id.in_(units))
    copies = list(await session.scalars(query))
    if copies:
        await session.execute(
            update(IncidentAlert)
            .where(IncidentAlert.id.in_([c.id for c in copies]))
            .values(active=False)
        )
    return copies


# --- decisions that need the leader on duty (SPEC §3.2) ------------------------------------

LEVEL_RANK = {"I": 1, "II": 2, "unassessed": 2, "III": 3, "IV": 4}


def lowers(old: str, new: str) -> bool:
    """Whether going from level ``old`` to ``new`` relaxes the clock (an unassessed report runs
    on the level-II clock, so assessing it III or IV lowers it too)."""
    return LEVEL_RANK.get(new, 0) > LEVEL_RANK.get(old, 0)


def raises(old: str, new: str) -> bool:
    """Whether going from level ``old`` to ``new`` makes the incident more serious."""
    return LEVEL_RANK.get(new, 9) < LEVEL_RANK.get(old, 9)


async def request_change(
    session: AsyncSession,
    incident: IncidentRow,
    action: str,
    value: str,
    person: Person,
    at: datetime,
) -> ChangeRequest:
    """An officer asks to dismiss, lower the level or mark a drill: nothing changes yet."""
    request = ChangeRequest(
        incident_id=incident.id,
        action=action,
        value=value,
        requested_by=person.id,
        requested_at=at,
        state="pending",
    )
    session.add(request)
    await session.flush()
    record_event(
        session,
        at=at,
        kind="incident.change_requested",
        actor=person.id,
        subject=subject(incident.id),
        request=request.id,
        what=action,
        note=value,
    )
    return request


async def claim_request(session: AsyncSession, request_id: int) -> ChangeRequest | None:
    """Take a pending request for a decision (of two leaders pressing at once, one wins)."""
    claimed = await session.execute(
        update(ChangeRequest)
        .where(ChangeRequest.id == request_id, ChangeRequest.state == "pending")
        .values(state="deciding")
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await session.get(ChangeRequest, request_id, populate_existing=True)


async def get_request(session: AsyncSession, request_id: int) -> ChangeRequest | None:
    """One request as the database has it now."""
    return await session.get(ChangeRequest, request_id, populate_existing=True)


def decided(
    session: AsyncSession, request: ChangeRequest, person: Person, approve: bool, at: datetime
) -> None:
    """Record the leader's decision."""
    request.state = "approved" if approve else "refused"
    request.decided_by, request.decided_at = person.id, at
    record_event(
        session,
        at=at,
        kind="incident.change_approved" if approve else "incident.change_refused",
        actor=person.id,
        subject=subject(request.incident_id),
        request=request.id,
        what=request.action,
        requested_by=request.requested_by,
    )


CALL_BACK_AT_MOST = timedelta(hours=2)
_CLOCK = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2})\s+)?(\d{1,2})[:：](\d{2})$")


def parse_when(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    """A local time typed as ``HH:MM`` (today, or yesterday if that would be in the future) or
    ``YYYY-MM-DD HH:MM``, in UTC; ``None`` when it does not parse or lies in the future."""
    match = _CLOCK.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute = match.groups()
    local_now = now.astimezone(tz)
    try:
        if year:
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=tz)
        else:
            moment = local_now.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
            if moment > local_now:
                moment -= timedelta(days=1)
    except ValueError:
        return None
    result = moment.astimezone(UTC)
    return None if result > now else result


def received_at(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    """When a call came in: a typed local time at most ``CALL_BACK_AT_MOST`` ago."""
    moment = parse_when(text, now, tz)
    return moment if moment is not None and now - moment <= CALL_BACK_AT_MOST else None
