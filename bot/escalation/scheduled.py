"""What happens when a deadline falls due: warnings, late marks, and the escalation ladder.

These are the engine's firers: each runs inside the engine's transaction, so the late mark, the
timeline events, the messages (outbox rows) and the next rung commit together or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import callback_data
from bot.db.models import Deadline, IncidentRow
from bot.delivery.outbox import enqueue
from bot.directory import languages, reachability, telegram_ids
from bot.escalation.chain import snapshot_chain
from bot.i18n import N_, Translator, translator
from bot.incidents.deadlines import ACCEPT, ESCALATION
from bot.incidents.flows import tell
from bot.incidents.messaging import category_name, level_line
from bot.incidents.service import subject
from bot.levels import OPEN_STATES, priority_of
from bot.render import local_time
from bot.runtime import Runtime
from bot.timeline import record_event
from scheduling.engine import Firer
from scheduling.rows import FIRED, add

WHAT = {
    "accept": N_("acceptance"),
    "initial_report": N_("the initial report"),
    "followup": N_("follow-up report no. {number}"),
    "final": N_("the final report"),
}
UNREACHABLE_NOTE = "skipped: no Telegram account or unreachable"


def what(tr: Translator, deadline: Deadline) -> str:
    """The thing due, in the reader's language."""
    return tr._(WHAT[deadline.kind]).format(number=deadline.sequence or 1)


def lateness(delta: timedelta) -> str:
    """``1h05m``-style lateness for messages."""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def firers(runtime: Runtime) -> dict[str, Firer]:
    """The firer of each deadline kind, bound to the runtime."""

    async def missed(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        incident = await session.get(IncidentRow, deadline.incident_id)
        if incident is None or incident.state not in OPEN_STATES:
            return
        deadline.late = True
        record_event(
            session,
            at=now,
            kind="deadline.missed",
            subject=subject(incident.id),
            deadline=deadline.id,
            what=deadline.kind,
            due=deadline.due_at.isoformat(),
        )
        skip = ("officer", "backup") if deadline.kind == ACCEPT else ()
        rungs = snapshot_chain(runtime.roster, runtime.settings, incident.unit_id, now, skip=skip)
        if not rungs:
            record_event(session, at=now, kind="escalation.empty", subject=subject(incident.id))
            return
        await session.flush()
        add(
            session,
            incident.id,
            ESCALATION,
            now,
            sequence=0,
            parent=deadline,
            data={
                "rungs": rungs,
                "missed": deadline.kind,
                "due": deadline.due_at.isoformat(),
                "number": deadline.sequence,
            },
        )
        record_event(
            session,
            at=now,
            kind="escalation.started",
            subject=subject(incident.id),
            deadline=deadline.id,
            rungs=[[p["person"] for p in r] for r in rungs],
        )

    async def warning(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        parent = await session.get(Deadline, deadline.parent_id) if deadline.parent_id else None
        incident = await session.get(IncidentRow, deadline.incident_id)
        if parent is None or incident is None or incident.state not in OPEN_STATES:
            return
        tz = runtime.settings.timezone
        await tell(
            session,
            runtime,
            incident.assignee_id,
            lambda tr: (
                "⏰ "
                + tr._("Reminder: {what} for #{number} is due at {time}.").format(
                    what=what(tr, parent), number=incident.id, time=local_time(parent.due_at, tz)
                )
            ),
            priority=priority_of(incident),
        )
        record_event(
            session,
            at=now,
            kind="deadline.warned",
            subject=subject(incident.id),
            deadline=parent.id,
            person=incident.assignee_id,
        )

    async def escalate(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        incident = await session.get(IncidentRow, deadline.incident_id)
        parent = await session.get(Deadline, deadline.parent_id) if deadline.parent_id else None
        if incident is None or parent is None or parent.state != FIRED:
            return  # met, cancelled or taken over meanwhile
        if incident.state not in OPEN_STATES:
            return
        rungs: list[list[dict[str, str]]] = deadline.data["rungs"]
        index = min(deadline.sequence or 0, len(rungs) - 1)
        accounts = await telegram_ids(session, runtime.roster)
        unreachable = await _unreachable(session, runtime, [p["person"] for p in rungs[index]])
        told, skipped = [], []
        people = [p["person"] for p in rungs[index]]
        langs = await languages(session, runtime.roster, people, runtime.settings.language)
        for person in people:
            chat = accounts.get(person)
            if chat is None or person in unreachable:
                skipped.append(person)
                continue
            tr = translator(langs[person])
            enqueue(
                session,
                chat,
                _escalation_text(tr, runtime, incident, parent, now),
                person_id=person,
                priority=priority_of(incident),
                reply_markup=_take_over(tr, incident.id),
            )
            told.append(person)
        record_event(
            session,
            at=now,
            kind="escalation.rung",
            subject=subject(incident.id),
            rung=index,
            told=told,
            skipped=skipped,
            note=UNREACHABLE_NOTE if skipped else None,
        )
        last = index >= len(rungs) - 1
        step = runtime.settings.escalation
        wait = timedelta(0) if not told else (step.repeat if last else step.step)
        if last and not told:
            wait = step.repeat  # nobody reachable at the top: try again later, do not spin
        add(
            session,
            incident.id,
            ESCALATION,
            now + wait,
            sequence=index if last else index + 1,
            parent=parent,
            data=deadline.data,
        )

    return {
        "accept": missed,
        "initial_report": missed,
        "followup": missed,
        "final": missed,
        "warning": warning,
        "escalation": escalate,
    }


async def _unreachable(session: AsyncSession, runtime: Runtime, people: list[str]) -> set[str]:
    reach = await reachability(session, runtime.roster)
    return {p for p in people if p in reach.unreachable}


def _take_over(tr: Translator, incident_id: int) -> dict[str, object]:
    return {
        "inline_keyboard": [
            [
                {
                    "text": "🙋 " + tr._("Take over"),
                    "callback_data": callback_data.encode("tko", str(incident_id)),
                }
            ]
        ]
    }


def _escalation_text(
    tr: Translator, runtime: Runtime, incident: IncidentRow, missed: Deadline, now: datetime
) -> str:
    roster, tz = runtime.roster, runtime.settings.timezone
    assignee = roster.people.get(incident.assignee_id or "")
    lines = [
        "🔺 "
        + tr._("ESCALATION #{number}: {what} is late by {late} (was due {due}).").format(
            number=incident.id,
            what=what(tr, missed),
            late=lateness(now - missed.due_at),
            due=local_time(missed.due_at, tz),
        ),
        level_line(tr, incident) + " · " + category_name(tr, incident.category),
        incident.summary,
        tr._("Unit: {unit}").format(unit=roster.units[incident.unit_id].name),
        tr._("Responsible: {name}").format(name=assignee.name if assignee else tr._("nobody yet")),
        tr._("Press Take over to take charge, or make sure it is done."),
    ]
    return "\n".join(lines)
