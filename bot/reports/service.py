"""Official reports (SPEC §3.4): initial (首报), follow-up (续报) and final (终报).

A report is written by the assignee (or an officer or leader of the unit), pre-filled from the
incident and the last report; where the level requires it, the leader on duty signs it off
before it counts. Filing meets the deadline, moves the incident on, and — for the final report —
closes it and cancels whatever is still due.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Deadline, Event, Follow, IncidentRow, OfficialReport, table_of
from bot.db.statements import execute, keep_in_step
from bot.i18n import N_
from bot.incidents import deadlines
from bot.incidents.service import subject
from bot.levels import OPEN_STATES, policy_for
from bot.parsing import clean_text
from bot.roster import Person
from bot.settings import Settings
from bot.timeline import record_event
from scheduling.rows import MET, PENDING, add, open_for

KINDS = ("initial", "followup", "final")
FIELDS = (
    "what_happened",
    "casualties",
    "scope",
    "trend",
    "measures",
    "leaders",
    "requests",
    "time_place",
    "cause",
    "loss",
    "commander",
)
# The order an official report reads in (SPEC §3.4): time and place first.
DISPLAY_ORDER = (
    "time_place",
    "what_happened",
    "cause",
    "casualties",
    "loss",
    "scope",
    "trend",
    "measures",
    "leaders",
    "commander",
    "requests",
)
FIELD_NAMES = {
    "time_place": N_("Time and place"),
    "cause": N_("Cause"),
    "loss": N_("Direct economic loss"),
    "commander": N_("On-scene commander and phone"),
    "what_happened": N_("What happened"),
    "casualties": N_("Casualties"),
    "scope": N_("Scope of impact"),
    "trend": N_("Likely trend"),
    "measures": N_("Measures taken"),
    "leaders": N_("Leaders on scene"),
    "requests": N_("Requests to the upper level"),
}
DEADLINE_OF = {
    "flash": deadlines.FLASH,
    "initial": deadlines.INITIAL,
    "followup": deadlines.FOLLOWUP,
    "final": deadlines.FINAL,
}


def may_start(incident: IncidentRow, kind: str, initial_filed: bool) -> str | None:
    """Why a report of ``kind`` cannot be written now (a message id), or ``None``. What counts
    is what was filed, not the state: a transferred incident keeps its 首报, and whoever
    transferred it stays responsible (and may report) until the new unit accepts."""
    if incident.state not in OPEN_STATES:
        return "closed"
    if incident.state == "reported" and incident.assignee_id is None:
        return "not_accepted"
    if kind == "initial" and initial_filed:
        return "initial_done"
    if kind in ("followup", "final") and not initial_filed:
        return "initial_first"
    return None


async def last_filed(
    session: AsyncSession, incident_id: int, *, flash: bool = False
) -> OfficialReport | None:
    """The latest filed written report of an incident (or flash report, when ``flash``)."""
    query = select(OfficialReport).where(
        OfficialReport.incident_id == incident_id, OfficialReport.state == "filed"
    )
    if not flash:
        query = query.where(OfficialReport.kind != "flash")
    return await session.scalar(query.order_by(OfficialReport.id.desc()).limit(1))


async def prefill(
    session: AsyncSession, incident: IncidentRow, casualties: str, time_place: str = ""
) -> dict[str, str]:
    """The fields as they stand: the last filed report, else what the incident says."""
    last = await last_filed(session, incident.id)
    if last is not None:
        return {name: str(last.fields.get(name, "")) for name in FIELDS}
    fields = dict.fromkeys(FIELDS, "")
    fields["what_happened"] = incident.description
    fields["casualties"] = casualties
    fields["time_place"] = time_place
    return fields


async def submit(
    session: AsyncSession,
    incident: IncidentRow,
    kind: str,
    fields: dict[str, str],
    author: Person,
    at: datetime,
    settings: Settings,
    number: int,
) -> OfficialReport:
    """Store a written report numbered ``number`` (``FiledSoFar.number_of``): filed at once, or
    waiting for the leader's sign-off."""
    signoff = policy_for(settings, incident.level, incident.sensitive).require_signoff
    report = OfficialReport(
        incident_id=incident.id,
        kind=kind,
        number=number,
        author_id=author.id,
        state="awaiting_signoff" if signoff else "filed",
        fields={name: clean_text(fields.get(name, "")) for name in FIELDS},
        created_at=at,
        late=False,
    )
    # filed at once: settled before its INSERT (one statement, not an INSERT and an UPDATE)
    met = None if signoff else await _settle(session, incident, report, at)
    session.add(report)
    await session.flush()
    record_event(
        session,
        at=at,
        kind="report.written",
        actor=author.id,
        subject=subject(incident.id),
        report=report.id,
        what=kind,
        number=report.number,
        signoff=signoff,
    )
    if met is not None:
        await _filed(session, incident, report, at, settings, met)
    return report


async def file(
    session: AsyncSession,
    incident: IncidentRow,
    report: OfficialReport,
    at: datetime,
    settings: Settings,
    approver: Person | None = None,
) -> None:
    """The report counts: its deadline is met (late if it was), the incident moves on."""
    met = await _settle(session, incident, report, at, approver)
    await _filed(session, incident, report, at, settings, met, approver)


async def _settle(
    session: AsyncSession,
    incident: IncidentRow,
    report: OfficialReport,
    at: datetime,
    approver: Person | None = None,
) -> list[Deadline]:
    """Mark the report filed (late if its deadline had passed); the open deadlines it meets."""
    open_deadlines = await open_for(session, incident.id, (DEADLINE_OF[report.kind],))
    report.late = any(d.late or d.due_at < at for d in open_deadlines)
    report.state, report.filed_at = "filed", at
    report.approved_by = approver.id if approver else None
    return open_deadlines


_INCIDENTS = table_of(IncidentRow)
# a Core statement (``bot.db.statements``): it runs on the path of every report filed
_MOVE_ON = (
    update(_INCIDENTS)
    .where(_INCIDENTS.c.id == bindparam("incident_id"))
    .values(state=bindparam("new_state"), version=_INCIDENTS.c.version + 1)
    .returning(*_INCIDENTS.c)
)


async def _filed(
    session: AsyncSession,
    incident: IncidentRow,
    report: OfficialReport,
    at: datetime,
    settings: Settings,
    open_deadlines: list[Deadline],
    approver: Person | None = None,
) -> None:
    """What a filed report changes: the incident's state, the timeline, the deadlines."""
    # Read the old state before the update: its RETURNING below refreshes the incident.
    old_state = incident.state
    new_state = {"initial": "initial_reported", "final": "closed"}.get(report.kind, old_state)
    if report.kind == "initial" and old_state == "reported":
        new_state = old_state  # transferred, not yet accepted there: the accept moves it on
    # one statement: RETURNING refreshes the incident in place, as a refresh would
    moved = await execute(session, _MOVE_ON, {"incident_id": incident.id, "new_state": new_state})
    keep_in_step(incident, moved.one())
    record_event(
        session,
        at=at,
        kind="report.filed",
        actor=approver.id if approver else report.author_id,
        subject=subject(incident.id),
        report=report.id,
        what=report.kind,
        number=report.number,
        late=report.late,
        old=old_state,
        new=new_state,
    )
    await deadlines.on_report_filed(
        session,
        settings,
        incident,
        report.kind,
        report.number,
        at,
        known={DEADLINE_OF[report.kind]: open_deadlines},
    )


async def send_back(
    session: AsyncSession, report: OfficialReport, leader: Person, reason: str, at: datetime
) -> None:
    """The leader returns the report to its author with the reason."""
    reason = clean_text(reason)
    report.state = "sent_back"
    record_event(
        session,
        at=at,
        kind="report.sent_back",
        actor=leader.id,
        subject=subject(report.incident_id),
        report=report.id,
        note=reason,
    )


async def claim_signoff(session: AsyncSession, report_id: int) -> OfficialReport | None:
    """Take a report waiting for sign-off (a conditional update: of two leaders pressing at
    once, one gets it); ``None`` when it is not waiting any more."""
    claimed = await session.execute(
        update(OfficialReport)
        .where(OfficialReport.id == report_id, OfficialReport.state == "awaiting_signoff")
        .values(state="signing")
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await session.get(OfficialReport, report_id, populate_existing=True)


async def get_report(session: AsyncSession, report_id: int) -> OfficialReport | None:
    """One report by id, as the database has it now."""
    return await session.get(OfficialReport, report_id, populate_existing=True)


async def due_deadline(session: AsyncSession, incident_id: int, kind: str) -> Deadline | None:
    """The open deadline a report of ``kind`` would meet."""
    rows = await open_for(session, incident_id, (DEADLINE_OF[kind],))
    return rows[0] if rows else None


async def file_flash(
    session: AsyncSession,
    incident: IncidentRow,
    author: Person,
    at: datetime,
    settings: Settings,
    *,
    text: str = "",
    phoned_to: str = "",
) -> OfficialReport:
    """A flash report (快报): a short "what we know now" sent upward at once without sign-off,
    or the record that it was reported by phone (to whom). Either meets the flash deadline."""
    open_deadlines = await open_for(session, incident.id, (deadlines.FLASH,))
    count = await session.scalar(
        select(func.count())
        .select_from(OfficialReport)
        .where(OfficialReport.incident_id == incident.id, OfficialReport.kind == "flash")
    )
    report = OfficialReport(
        incident_id=incident.id,
        kind="flash",
        number=int(count or 0) + 1,
        author_id=author.id,
        state="filed",
        fields={"what_happened": text, "phoned_to": phoned_to},
        created_at=at,
        filed_at=at,
        late=any(d.late or d.due_at < at for d in open_deadlines),
    )
    session.add(report)
    await session.flush()
    record_event(
        session,
        at=at,
        kind="report.flash",
        actor=author.id,
        subject=subject(incident.id),
        report=report.id,
        note=phoned_to or text,
        by_phone=bool(phoned_to),
        late=report.late,
    )
    await deadlines.on_report_filed(
        session,
        settings,
        incident,
        "flash",
        report.number,
        at,
        known={deadlines.FLASH: open_deadlines},
    )
    return report


async def awaiting_signoff(session: AsyncSession, incident_id: int) -> OfficialReport | None:
    """A report of the incident waiting for the leader's sign-off, if any."""
    return await session.scalar(
        select(OfficialReport)
        .where(
            OfficialReport.incident_id == incident_id,
            OfficialReport.state.in_(("awaiting_signoff", "signing")),
        )
        .order_by(OfficialReport.id.desc())
        .limit(1)
    )


RECEIPT = "receipt"


def expect_receipt(
    session: AsyncSession,
    incident: IncidentRow,
    report: OfficialReport,
    people: list[str],
    now: datetime,
    settings: Settings,
) -> None:
    """An upward report must be received (签收) within ``receipt_within``, or one reminder."""
    add(
        session,
        incident.id,
        RECEIPT,
        now + settings.receipt_within,
        data={"report": report.id, "people": people},
    )


async def delivered_to(session: AsyncSession, report_id: int) -> set[str]:
    """Everyone the report was delivered to (who may press Received)."""
    rows = await session.scalars(select(Event.data).where(Event.kind == "report.delivered"))
    return {p for data in rows if data.get("report") == report_id for p in data.get("to", [])}


async def received(
    session: AsyncSession, report: OfficialReport, person: Person, at: datetime
) -> None:
    """Someone of a receiving office acknowledged the report: on the timeline; the reminder
    is no longer due."""
    record_event(
        session,
        at=at,
        kind="report.received",
        actor=person.id,
        subject=subject(report.incident_id),
        report=report.id,
    )
    pending = await session.scalars(
        select(Deadline).where(
            Deadline.incident_id == report.incident_id,
            Deadline.kind == RECEIPT,
            Deadline.state == PENDING,
        )
    )
    for row in pending:
        if row.data.get("report") == report.id:
            row.state, row.met_at = MET, at


async def set_follow(
    session: AsyncSession, person: Person, unit_id: str, on: bool, at: datetime
) -> None:
    """Start or stop following a unit (idempotent); on the timeline."""
    existing = await session.get(Follow, (person.id, unit_id))
    if on and existing is None:
        session.add(Follow(person_id=person.id, unit_id=unit_id, since=at))
    elif not on and existing is not None:
        await session.delete(existing)
    record_event(
        session,
        at=at,
        kind="unit.followed" if on else "unit.unfollowed",
        actor=person.id,
        subject=f"unit:{unit_id}",
    )
