"""Official reports' use cases (SPEC §3.4): open a report form, file it, ask for sign-off, decide
on it, deliver it upward, tell the author.

Every use case checks permission with ``bot.access`` at the moment it changes something: a form
opened by someone allowed then may be filed only if they are still allowed now (the incident may
have been transferred, or the person lost the role). Who signs and who receives a filed report
is decided here, and every message goes through ``notify``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Action, Actor, may
from bot.db.models import Deadline, IncidentRow, OfficialReport
from bot.delivery.notify import notify
from bot.i18n import Translator, translator
from bot.incidents import flows as incident_flows
from bot.incidents import service as incidents
from bot.incidents.messaging import casualty_line
from bot.incidents.service import Attempt
from bot.levels import OPEN_STATES, priority_of
from bot.render import local_time
from bot.reports import messaging, service
from bot.reports.messaging import Refusal
from bot.runtime import Runtime
from bot.timeline import record_event

_REFUSAL_OF = {
    "closed": Refusal.CLOSED,
    "not_accepted": Refusal.NOT_ACCEPTED,
    "initial_done": Refusal.INITIAL_DONE,
    "initial_first": Refusal.INITIAL_FIRST,
}


@dataclass(frozen=True)
class Opened:
    """A report form opened (``refusal`` is ``None``) or refused."""

    number: int
    refusal: Refusal | None = None
    unit: str = ""  # the incident's unit name, for a FORBIDDEN answer
    report_number: int = 0
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Filed:
    """A report filed, sent for sign-off, or refused."""

    number: int
    refusal: Refusal | None = None
    unit: str = ""
    report: OfficialReport | None = None
    signers: list[str] = field(default_factory=list)  # names, when it waits for sign-off


@dataclass(frozen=True)
class Decision:
    """The signer's decision: done, or why not."""

    done: bool
    answer: str = ""  # the refusal key: not_waiting, not_a_signer, own_report
    incident: IncidentRow | None = None
    report: OfficialReport | None = None


@dataclass(frozen=True)
class _Authorised:
    """The incident ``actor`` may write a report for now, and what it has filed so far; or why
    not (``refusal``, with the unit's name for a refusal that names it)."""

    incident: IncidentRow | None
    filed: incidents.FiledSoFar | None = None
    refusal: Refusal | None = None
    unit: str = ""


async def _authorise(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int, kind: str
) -> _Authorised:
    """The incident if ``actor`` may write a report of ``kind`` for it now; else why not."""
    found = await incidents.get_with_filed(session, number)
    if found is None:
        return _Authorised(None, refusal=Refusal.HIDDEN)
    incident, filed = found
    subject = await incidents.subject_for(session, incident, actor, Action.FILE_REPORT)
    if not may(actor, Action.FILE_REPORT, subject):
        if may(actor, Action.VIEW_INCIDENT, subject):
            unit = runtime.roster.units[incident.unit_id].name
            return _Authorised(None, refusal=Refusal.FORBIDDEN, unit=unit)
        return _Authorised(None, refusal=Refusal.HIDDEN)
    why = service.may_start(incident, kind, filed.initial)
    if why is not None:
        return _Authorised(None, refusal=_REFUSAL_OF[why])
    return _Authorised(incident, filed)


async def open_form(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int, kind: str, language: str
) -> Opened:
    """``/initial``, ``/followup``, ``/final``: may the actor write it, and what is pre-filled
    (the casualties line in the author's ``language``, who may rewrite it)."""
    authorised = await _authorise(session, runtime, actor, number, kind)
    incident, filed = authorised.incident, authorised.filed
    if incident is None or filed is None:
        return Opened(number, authorised.refusal, authorised.unit)
    tr = translator(language)
    casualties = casualty_line(tr, incident) or ""
    when = local_time(incident.occurred_at or incident.reported_at, runtime.settings.timezone)
    time_place = "，".join(x for x in (when, incident.location_text or "") if x)
    return Opened(
        number,
        report_number=filed.number_of(kind),
        fields=await service.prefill(session, incident, casualties, time_place),
    )


async def preview(session: AsyncSession, number: int) -> IncidentRow | None:
    """The incident as it is now, to show the finished report before it is filed."""
    return await incidents.get(session, number)


async def file_report(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    number: int,
    kind: str,
    fields: dict[str, str],
) -> Filed:
    """File a written report (or send it for sign-off), after checking again that the actor may."""
    authorised = await _authorise(session, runtime, actor, number, kind)
    incident, filed = authorised.incident, authorised.filed
    if incident is None or filed is None:
        return Filed(number, authorised.refusal, authorised.unit)
    now = runtime.now()
    report = await service.submit(
        session, incident, kind, fields, actor.person, now, runtime.settings, filed.number_of(kind)
    )
    if report.state == "filed":
        await deliver_upward(session, runtime, incident, report)
        return Filed(number, report=report)
    names = await ask_signoff(session, runtime, incident, report)
    return Filed(number, report=report, signers=names)


def signers(runtime: Runtime, unit_id: str, author_id: str) -> list[str]:
    """Who signs a report off: the unit's leader on duty, else the nearest leader on duty above
    (never the report's own author)."""
    roster, now = runtime.roster, runtime.now()
    own = [p for p in roster.holders(unit_id, "leader", now) if p != author_id]
    if own:
        return own
    for ancestor in roster.ancestors(unit_id):
        above = [p for p in roster.holders(ancestor, "leader", now) if p != author_id]
        if above:
            return above[:1]
    return []


async def ask_signoff(
    session: AsyncSession, runtime: Runtime, incident: IncidentRow, report: OfficialReport
) -> list[str]:
    """Send the report to its signer with Approve / Send back; return the names told."""
    roster, settings = runtime.roster, runtime.settings
    notified = await notify(
        session,
        runtime.audience,
        signers(runtime, incident.unit_id, report.author_id),
        lambda tr: messaging.signoff_card(tr, roster, settings, incident, report),
        priority=priority_of(incident),
        markup=lambda tr: messaging.signoff_buttons(tr, report.id),
    )
    record_event(
        session,
        at=runtime.now(),
        kind="report.signoff_requested",
        subject=incidents.subject(incident.id),
        report=report.id,
        leaders=notified.told,
    )
    return [roster.people[p].name for p in notified.told]


def upward(runtime: Runtime, incident: IncidentRow) -> list[str]:
    """Who receives a filed report: the unit's leader on duty, the parent unit's officer and
    leader, and — for the levels in ``direct_to_root`` — the root's officer and leader."""
    roster, now = runtime.roster, runtime.now()
    people = list(roster.holders(incident.unit_id, "leader", now))
    parent = roster.units[incident.unit_id].parent
    if parent is not None:
        for position in ("officer", "leader"):
            people += roster.holders(parent, position, now)
    direct = runtime.settings.report_direct_to_root
    if incident.level in direct or (incident.sensitive and "sensitive" in direct):
        for position in ("officer", "leader"):
            people += roster.holders(roster.root.id, position, now)
    return list(dict.fromkeys(people))


async def deliver_upward(
    session: AsyncSession, runtime: Runtime, incident: IncidentRow, report: OfficialReport
) -> None:
    """A filed report goes up the chain; a final report also tells the reporter it is closed."""
    roster, settings = runtime.roster, runtime.settings
    author = roster.people[report.author_id].name
    people = [p for p in upward(runtime, incident) if p != report.author_id]
    people += [p for p in await incidents.followers(session, incident.unit_id) if p not in people]
    notified = await notify(
        session,
        runtime.audience,
        people,
        lambda tr: messaging.report_text(
            tr,
            roster,
            settings,
            incident,
            report.kind,
            report.number,
            report.fields,
            author=author,
            filed=report,
        ),
        priority=priority_of(incident),
        markup=lambda tr: messaging.received_button(tr, report.id),
    )
    record_event(
        session,
        at=runtime.now(),
        kind="report.delivered",
        subject=incidents.subject(incident.id),
        report=report.id,
        to=notified.told,
    )
    if notified.told:
        service.expect_receipt(session, incident, report, notified.told, runtime.now(), settings)
    if report.kind == "final":
        await notify(
            session,
            runtime.audience,
            [incident.reporter_id],
            lambda tr: messaging.closed_notice(tr, incident.id),
        )


async def _signable(
    session: AsyncSession, actor: Actor, report_id: int
) -> tuple[OfficialReport | None, IncidentRow | None, str]:
    """The report and its incident if ``actor`` may decide on it now; else the refusal key."""
    report = await service.get_report(session, report_id)
    if report is None or report.state != "awaiting_signoff":
        return None, None, "not_waiting"
    incident = await incidents.get(session, report.incident_id)
    if incident is None or incident.state not in OPEN_STATES:
        return None, None, "not_waiting"
    rules = await incidents.subject_for(session, incident, actor, Action.SIGN_OFF)
    subject = replace(rules, author_id=report.author_id)
    if not may(actor, Action.SIGN_OFF, subject):
        return None, None, "own_report" if report.author_id == actor.id else "not_a_signer"
    return report, incident, ""


async def may_decide(session: AsyncSession, actor: Actor, report_id: int) -> Decision:
    """Whether ``actor`` may sign the report off now (asked before the reason for a send-back
    is requested; ``decide`` asks again)."""
    report, incident, refusal = await _signable(session, actor, report_id)
    return Decision(report is not None, refusal, incident, report)


async def decide(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    report_id: int,
    *,
    approve: bool,
    reason: str = "",
) -> Decision:
    """Approve (the report is filed and delivered) or send back (with the reason) a report
    waiting for sign-off; the signer is checked now, and never signs their own report."""
    _, incident, refusal = await _signable(session, actor, report_id)
    if incident is None:
        return Decision(False, refusal)
    claimed = await service.claim_signoff(session, report_id)
    if claimed is None:  # another signer was quicker
        return Decision(False, "not_waiting")
    now, signer = runtime.now(), actor.person.name
    kind, report_number = claimed.kind, claimed.number
    if approve:
        await service.file(session, incident, claimed, now, runtime.settings, approver=actor.person)
        await deliver_upward(session, runtime, incident, claimed)
        await notify(
            session,
            runtime.audience,
            [claimed.author_id],
            lambda tr: messaging.approved_notice(tr, signer, kind, report_number, incident.id),
        )
    else:
        await service.send_back(session, claimed, actor.person, reason, now)
        await notify(
            session,
            runtime.audience,
            [claimed.author_id],
            lambda tr: messaging.sent_back_notice(
                tr, signer, kind, report_number, incident.id, reason
            ),
        )
    return Decision(True, incident=incident, report=claimed)


async def flash(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    number: int,
    *,
    text: str = "",
    phoned_to: str = "",
    phoned_at: datetime | None = None,
) -> Filed:
    """``/flash <#> <text>``: what we know now, sent upward at once (no sign-off); ``/flash <#>
    phone <to whom>``: it was reported by phone, recorded on the timeline. Both meet the flash
    deadline (by phone: at the time typed, default now). Allowed to whoever may write the
    incident's reports, also before it is accepted."""
    incident = await incidents.get(session, number)
    if incident is None:
        return Filed(number, Refusal.HIDDEN)
    subject = await incidents.subject_for(session, incident, actor, Action.FILE_REPORT)
    if not may(actor, Action.FILE_REPORT, subject):
        if may(actor, Action.VIEW_INCIDENT, subject):
            return Filed(number, Refusal.FORBIDDEN, runtime.roster.units[incident.unit_id].name)
        return Filed(number, Refusal.HIDDEN)
    if incident.state not in OPEN_STATES:
        return Filed(number, Refusal.CLOSED)
    # Reported by phone at a time typed in: that is when the flash deadline was met.
    at = max(phoned_at, incident.reported_at) if phoned_at and phoned_to else runtime.now()
    report = await service.file_flash(
        session, incident, actor.person, at, runtime.settings, text=text, phoned_to=phoned_to
    )
    if not phoned_to:
        roster, settings, author = runtime.roster, runtime.settings, actor.person.name
        notified = await notify(
            session,
            runtime.audience,
            [p for p in upward(runtime, incident) if p != actor.id],
            lambda tr: messaging.flash_text(tr, roster, settings, incident, report, author),
            priority=priority_of(incident),
        )
        record_event(
            session,
            at=runtime.now(),
            kind="report.delivered",
            subject=incidents.subject(incident.id),
            report=report.id,
            to=notified.told,
        )
    return Filed(number, report=report)


async def change_level(
    session: AsyncSession, runtime: Runtime, actor: Actor, number: int, level: str
) -> Attempt:
    """``/level``: the incidents domain changes it (lowering needs the leader); a raised level
    re-reports upward at once (报告升级): the last filed report goes again, marked with the new
    level, to the recipients of the new level (越级上报 included where it applies)."""
    before = await incidents.get(session, number)
    old = before.level if before is not None else level
    attempt = await incident_flows.change_level(session, runtime, actor, number, level)
    if attempt.done and attempt.incident is not None and incidents.raises(old, level):
        await rereport(session, runtime, attempt.incident, old)
    return attempt


async def rereport(
    session: AsyncSession, runtime: Runtime, incident: IncidentRow, old_level: str
) -> None:
    """Send the last filed report (written, else the flash report) upward again, marked with
    the new level."""
    report = await service.last_filed(session, incident.id)
    if report is None:
        report = await service.last_filed(session, incident.id, flash=True)
    if report is None:
        return
    roster, settings = runtime.roster, runtime.settings
    author = roster.people[report.author_id].name

    def text(tr: Translator) -> str:
        if report.kind == "flash":
            body = messaging.flash_text(tr, roster, settings, incident, report, author)
        else:
            body = messaging.report_text(
                tr,
                roster,
                settings,
                incident,
                report.kind,
                report.number,
                report.fields,
                author=author,
                filed=report,
            )
        return messaging.level_raised_banner(tr, incident, old_level) + "\n" + body

    notified = await notify(
        session,
        runtime.audience,
        upward(runtime, incident),
        text,
        priority=priority_of(incident),
    )
    record_event(
        session,
        at=runtime.now(),
        kind="report.rereported",
        subject=incidents.subject(incident.id),
        report=report.id,
        old=old_level,
        new=incident.level,
        to=notified.told,
    )


async def receive(session: AsyncSession, runtime: Runtime, actor: Actor, report_id: int) -> bool:
    """Received (签收): someone the report was delivered to acknowledges it; on the timeline.
    ``False`` when this person may not (it was not delivered to them)."""
    report = await service.get_report(session, report_id)
    if report is None:
        return False
    incident = await incidents.get(session, report.incident_id)
    if incident is None:
        return False
    if actor.id not in await service.delivered_to(session, report_id):
        return False  # only those it was delivered to acknowledge it
    await service.received(session, report, actor.person, runtime.now())
    return True


async def remind_receipt(
    session: AsyncSession, runtime: Runtime, deadline: Deadline, now: datetime
) -> None:
    """``receipt_within`` after delivery nobody acknowledged the report: one reminder."""
    report = await service.get_report(session, int(deadline.data.get("report", 0)))
    if report is None:
        return
    incident = await incidents.get(session, report.incident_id)
    if incident is None:
        return
    people = [str(p) for p in deadline.data.get("people", [])]
    await notify(
        session,
        runtime.audience,
        people,
        lambda tr: messaging.receipt_reminder(tr, incident, report),
        priority=priority_of(incident),
        markup=lambda tr: messaging.received_button(tr, report.id),
    )
    record_event(
        session,
        at=now,
        kind="report.receipt_reminded",
        subject=incidents.subject(incident.id),
        report=report.id,
        to=people,
    )


async def follow(
    session: AsyncSession, runtime: Runtime, actor: Actor, unit_id: str, on: bool
) -> bool:
    """``/follow <unit>`` / ``/unfollow <unit>``: a supervisor receives a unit's reports (any
    unit, e.g. outside their own tree) and may read its incidents, nothing more."""
    if not may(actor, Action.FOLLOW) or unit_id not in runtime.roster.units:
        return False
    await service.set_follow(session, actor.person, unit_id, on, runtime.now())
    return True
