"""Who may see or do what (SPEC §1, §4): every permission of the bot, in one vocabulary.

Handlers and flows never test roles or units themselves; they build an ``Actor`` (the person and
where they stand right now) and ask ``may(actor, action, subject)``. A flow that changes
something asks again at the moment of the change (a form submitted, a button pressed), so a
permission checked when a form opened is never trusted later.

The rules:
- *unit staff* of a unit are its duty officers and leaders, and whoever holds one of its shift
  positions right now;
- an incident may be accepted by its unit's staff and by anyone its alert went to (a gap sends it
  to the next rung, who must be able to take it);
- it may be handled (transfer, dismiss, merge, level, marks, official reports) by its unit's
  staff and by its assignee (首问负责: whoever took it stays responsible);
- it may be taken over by its unit's staff and by anyone the escalation reached;
- reports are signed off by a leader or supervisor of the unit or of a unit above it, never by
  their own author;
- the *scope* a person watches (``/status``, ``/overdue``, ``/bulletin``, ``/oncall``,
  ``/incident``) is every unit for an admin, the unit and all below for a supervisor, and the own
  unit plus the units where they are on duty for everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.roster import Person, Roster


class Action(StrEnum):
    """Everything the bot lets somebody do, by what it touches."""

    REPORT = "report"  # /report, /myreports
    CALL = "call"  # /call: log a phone call (来电登记) in one's own unit
    ADD_INFO = "add_info"  # /addinfo, a captioned photo: one's own report
    ACCEPT = "accept"  # Accept (接报)
    HANDLE = "handle"  # transfer, dismiss, merge (each side), /level, /sensitive, /drill
    FILE_REPORT = "file_report"  # /initial, /followup, /final: opening and filing
    TAKE_OVER = "take_over"  # Take over on an escalation card
    SIGN_OFF = "sign_off"  # Approve / Send back
    VIEW_INCIDENT = "view_incident"  # /incident, /export incident
    WATCH = "watch"  # /status, /overdue, /bulletin, /export bulletin
    ONCALL = "oncall"  # /oncall
    MINE = "mine"  # /mine
    INVITE = "invite"  # /invite
    MANAGE_ROSTER = "manage_roster"  # /roster, /roster reload
    PRESS = "press"  # Press (催办) on an escalation card
    RECEIVE = "receive"  # Received (签收) on a report delivered upward
    FOLLOW = "follow"  # /follow, /unfollow: a supervisor receives a unit's reports
    DECIDE_CHANGE = "decide_change"  # dismiss, level down, drill directly; Approve / Refuse
    DUTY = "duty"  # /handover, /log, /here, /swap, Take over duty, I'm here: a unit's staff
    DUTY_LOG = "duty_log"  # /dutylog: a unit in one's scope
    SPOT_CHECK = "spot_check"  # /spotcheck: a supervisor, units below
    APPROVE_SWAP = "approve_swap"  # approve or refuse a swap: the unit's leader, a supervisor
    DIRECT = "direct"  # /directive (issue), /instruct: a supervisor; a leader for units below
    VIEW_DIRECTIVE = "view_directive"  # /directives, /directive D#: who it concerns
    ANSWER_DIRECTIVE = "answer_directive"  # Receive, /feedback, /extend: the lead unit's staff
    ASSIST_DIRECTIVE = "assist_directive"  # /feedback from an assisting unit's staff
    REVIEW_DIRECTIVE = "review_directive"  # Accept / Send back, extension Approve / Refuse
    CHASE_DIRECTIVE = "chase_directive"  # Press and Take over on a directive's escalation card


STAFF_ROLES = frozenset({"officer", "leader"})
WATCHER_ROLES = frozenset({"leader", "supervisor", "admin"})
ONCALL_ROLES = frozenset({"officer", "leader", "supervisor", "admin"})
SIGNER_ROLES = frozenset({"leader", "supervisor"})
ADMIN_ROLES = frozenset({"admin"})
EVERYONE: frozenset[str] = frozenset()

# The roles that can ever do an action (empty: everyone in the roster). The command menus and
# /help show a command to exactly these roles; ``may`` then decides case by case.
ROLES_FOR: dict[Action, frozenset[str]] = {
    Action.REPORT: EVERYONE,
    Action.CALL: STAFF_ROLES,
    Action.ADD_INFO: EVERYONE,
    Action.ACCEPT: STAFF_ROLES,
    Action.HANDLE: STAFF_ROLES,
    Action.FILE_REPORT: STAFF_ROLES,
    Action.TAKE_OVER: EVERYONE,
    Action.SIGN_OFF: SIGNER_ROLES,
    Action.VIEW_INCIDENT: EVERYONE,
    Action.WATCH: WATCHER_ROLES,
    Action.ONCALL: ONCALL_ROLES,
    Action.MINE: STAFF_ROLES,
    Action.INVITE: ADMIN_ROLES,
    Action.MANAGE_ROSTER: ADMIN_ROLES,
    Action.DECIDE_CHANGE: SIGNER_ROLES,
    Action.PRESS: EVERYONE,
    Action.RECEIVE: STAFF_ROLES | frozenset({"supervisor"}),
    Action.FOLLOW: frozenset({"supervisor"}),
    Action.DUTY: STAFF_ROLES,
    Action.DUTY_LOG: ONCALL_ROLES,
    Action.SPOT_CHECK: frozenset({"supervisor"}),
    Action.APPROVE_SWAP: SIGNER_ROLES,
    Action.DIRECT: SIGNER_ROLES,
    Action.VIEW_DIRECTIVE: ONCALL_ROLES,
    Action.ANSWER_DIRECTIVE: STAFF_ROLES,
    Action.ASSIST_DIRECTIVE: STAFF_ROLES,
    Action.REVIEW_DIRECTIVE: SIGNER_ROLES,
    Action.CHASE_DIRECTIVE: EVERYONE,
}

# What each command and each button asks permission for (``None``: anyone in the roster, no
# subject — /start, /help, /lang …). A command or button missing here fails the access tests.
COMMAND_ACTIONS: dict[str, Action | None] = {
    "start": None,
    "help": None,
    "whoami": None,
    "lang": None,
    "cancel": None,
    "report": Action.REPORT,
    "call": Action.CALL,
    "follow": Action.FOLLOW,
    "unfollow": Action.FOLLOW,
    "addinfo": Action.ADD_INFO,
    "myreports": Action.REPORT,
    "mine": Action.MINE,
    "accept": Action.ACCEPT,
    "transfer": Action.HANDLE,
    "dismiss": Action.HANDLE,
    "level": Action.HANDLE,
    "sensitive": Action.HANDLE,
    "drill": Action.HANDLE,
    "merge": Action.HANDLE,
    "initial": Action.FILE_REPORT,
    "followup": Action.FILE_REPORT,
    "final": Action.FILE_REPORT,
    "flash": Action.FILE_REPORT,
    "oncall": Action.ONCALL,
    "status": Action.WATCH,
    "overdue": Action.WATCH,
    "incident": Action.VIEW_INCIDENT,
    "bulletin": Action.WATCH,
    # /export bulletin: WATCH (the scope); /export incident: VIEW_INCIDENT, asked in the flow
    "export": Action.WATCH,
    "roster": Action.MANAGE_ROSTER,
    "invite": Action.INVITE,
    "handover": Action.DUTY,
    "log": Action.DUTY,
    "here": Action.DUTY,
    "swap": Action.DUTY,
    "dutylog": Action.DUTY_LOG,
    "spotcheck": Action.SPOT_CHECK,
    "directive": Action.VIEW_DIRECTIVE,  # without a number: the form, asked as DIRECT
    "directives": Action.VIEW_DIRECTIVE,
    "instruct": Action.DIRECT,
    "receive": Action.ANSWER_DIRECTIVE,
    "feedback": Action.ANSWER_DIRECTIVE,  # or ASSIST_DIRECTIVE, by the sender's unit
    "extend": Action.ANSWER_DIRECTIVE,
}
BUTTON_ACTIONS: dict[str, Action | None] = {
    "lang": None,
    "acc": Action.ACCEPT,
    "trf": Action.HANDLE,
    "tru": Action.HANDLE,
    "dis": Action.HANDLE,
    "mrg": Action.HANDLE,
    "tko": Action.TAKE_OVER,
    "rc": Action.REPORT,
    "rl": Action.REPORT,
    "rk": Action.REPORT,
    "rp": Action.REPORT,
    "ry": Action.REPORT,
    "stp": Action.WATCH,
    "ovp": Action.WATCH,
    "mnp": Action.MINE,
    "mov": Action.INVITE,
    "ofk": Action.FILE_REPORT,
    "ofy": Action.FILE_REPORT,
    "apr": Action.SIGN_OFF,
    "sbk": Action.SIGN_OFF,
    "prs": Action.PRESS,
    "rcv": Action.RECEIVE,
    "cf": Action.CALL,
    "rs": Action.REPORT,
    "rw": Action.REPORT,
    "cha": Action.DECIDE_CHANGE,
    "chr": Action.DECIDE_CHANGE,
    "hto": Action.DUTY,
    "here": Action.DUTY,
    "swc": Action.DUTY,
    "swl": Action.APPROVE_SWAP,
    "dlp": Action.DUTY_LOG,
    "dru": Action.DIRECT,  # the directive form: a choice
    "drc": Action.ANSWER_DIRECTIVE,  # Receive (签收)
    "dac": Action.REVIEW_DIRECTIVE,  # Accept (办结)
    "dsb": Action.REVIEW_DIRECTIVE,  # Send back
    "dxa": Action.REVIEW_DIRECTIVE,  # approve an extension
    "dxr": Action.REVIEW_DIRECTIVE,  # refuse an extension
    "dpr": Action.CHASE_DIRECTIVE,  # Press (催办) on a directive
    "dtk": Action.CHASE_DIRECTIVE,  # Take over a directive
    "dnp": Action.VIEW_DIRECTIVE,  # /directives: the next page
    "ins": Action.DIRECT,  # Instruct (批示) on an incident card
}


# Commands whose answers show incidents, people or links: they answer in private chats only, so
# a group never reads what one member may see.
PRIVATE_ONLY = frozenset(
    {
        "whoami",
        "myreports",
        "mine",
        "oncall",
        "status",
        "overdue",
        "incident",
        "bulletin",
        "export",
        "invite",
        "roster",
        "initial",
        "followup",
        "final",
        "dutylog",
        "swap",
        "directive",
        "directives",
        "instruct",
        "feedback",
        "extend",
    }
)


def menu_roles(command: str) -> frozenset[str]:
    """The roles whose menu shows ``command`` (empty: everyone's)."""
    action = COMMAND_ACTIONS[command]
    return EVERYONE if action is None else ROLES_FOR[action]


@dataclass(frozen=True)
class Actor:
    """A roster person as the rules see them at one moment."""

    person: Person
    on_duty_units: frozenset[str] = frozenset()
    all_units: frozenset[str] = frozenset()
    units_below: frozenset[str] = frozenset()  # their unit and every unit under it

    @classmethod
    def at(cls, roster: Roster, person: Person, now: datetime) -> Actor:
        """The person with the positions they hold at ``now``."""
        on_duty = frozenset(
            unit
            for unit in roster.units
            for position in roster.positions_of(unit)
            if person.id in roster.holders(unit, position, now)
        )
        return cls(
            person=person,
            on_duty_units=on_duty,
            all_units=frozenset(roster.units),
            units_below=frozenset(roster.descendants(person.unit)),
        )

    @property
    def id(self) -> str:
        """The person's roster id."""
        return self.person.id

    def has_role(self, *roles: str) -> bool:
        """Whether the person holds any of ``roles``."""
        return bool(self.person.roles.intersection(roles))

    def is_staff_of(self, unit: str) -> bool:
        """A duty officer or leader of the unit, or on one of its shift positions now."""
        if self.person.unit == unit and self.person.roles & STAFF_ROLES:
            return True
        return unit in self.on_duty_units


@dataclass(frozen=True)
class IncidentSubject:
    """What the rules need to know of an incident (or of one of its reports)."""

    unit_id: str
    reporter_id: str | None = None
    assignee_id: str | None = None
    alerted: frozenset[str] = field(default_factory=frozenset)
    escalated: frozenset[str] = field(default_factory=frozenset)
    author_id: str | None = None  # of the report being signed off
    followers: frozenset[str] = field(default_factory=frozenset)  # supervisors following the unit


@dataclass(frozen=True)
class UnitSubject:
    """A unit asked about (``/oncall <unit>``)."""

    unit_id: str


@dataclass(frozen=True)
class DirectiveSubject:
    """What the rules need to know of a directive (a draft one has only its units)."""

    lead_unit: str
    assisting: frozenset[str] = frozenset()
    issuer_id: str | None = None
    on_ladder: frozenset[str] = frozenset()  # people its escalation named
    taken_over_by: str | None = None


Subject = IncidentSubject | UnitSubject | DirectiveSubject | None


def scope(actor: Actor) -> frozenset[str]:
    """The units whose incidents and duty roster the actor may see."""
    if actor.has_role("admin"):
        return actor.all_units
    own = frozenset({actor.person.unit}) | actor.on_duty_units
    if actor.has_role("supervisor"):
        return actor.units_below | own
    return own


def may(actor: Actor, action: Action, subject: Subject = None) -> bool:
    """Whether ``actor`` may do ``action`` (to ``subject``, where the action has one)."""
    if action is Action.REPORT:
        return True
    if action is Action.WATCH:
        return actor.has_role(*WATCHER_ROLES)
    if action is Action.FOLLOW:
        return actor.has_role("supervisor")
    if action in (Action.MINE, Action.CALL):
        return actor.has_role(*STAFF_ROLES)
    if action in (Action.INVITE, Action.MANAGE_ROSTER):
        return actor.has_role("admin")
    if action in (Action.DUTY, Action.SPOT_CHECK, Action.APPROVE_SWAP):
        return _may_on_duty(actor, action, subject)
    if action in (Action.ONCALL, Action.DUTY_LOG):
        if not actor.has_role(*ONCALL_ROLES):
            return False
        return not isinstance(subject, UnitSubject) or subject.unit_id in scope(actor)
    if isinstance(subject, DirectiveSubject) or action in DIRECTIVE_ACTIONS:
        return _may_on_directive(actor, action, subject)
    if not isinstance(subject, IncidentSubject):
        return False
    return _may_on_incident(actor, action, subject)


DIRECTIVE_ACTIONS = frozenset(
    {
        Action.DIRECT,
        Action.VIEW_DIRECTIVE,
        Action.ANSWER_DIRECTIVE,
        Action.ASSIST_DIRECTIVE,
        Action.REVIEW_DIRECTIVE,
        Action.CHASE_DIRECTIVE,
    }
)


def may_direct_to(actor: Actor, unit: str) -> bool:
    """Whether the actor may give ``unit`` a directive: a supervisor to their unit and those
    below, a leader to the units below their own (一级督办一级)."""
    if actor.has_role("supervisor") and unit in actor.units_below:
        return True
    return actor.has_role("leader") and unit in actor.units_below and unit != actor.person.unit


def _may_on_directive(actor: Actor, action: Action, subject: Subject) -> bool:
    """Directives (SPEC §3.6): without a directive, whether the role can ever do it."""
    if not isinstance(subject, DirectiveSubject):
        if action is Action.CHASE_DIRECTIVE:
            return False
        roles = ROLES_FOR[action]
        return actor.has_role(*roles) if roles else True
    me = actor.id
    named = {subject.lead_unit, *subject.assisting}
    lead_staff = actor.is_staff_of(subject.lead_unit) or me == subject.taken_over_by
    above = actor.has_role("supervisor") and bool(named & actor.units_below)
    if action is Action.DIRECT:
        return all(may_direct_to(actor, unit) for unit in named)
    if action is Action.ANSWER_DIRECTIVE:
        return lead_staff
    if action is Action.ASSIST_DIRECTIVE:
        return any(actor.is_staff_of(unit) for unit in subject.assisting)
    if action is Action.REVIEW_DIRECTIVE:
        return me == subject.issuer_id
    if action is Action.CHASE_DIRECTIVE:
        return (
            me == subject.issuer_id
            or me in subject.on_ladder
            or (actor.has_role("supervisor") and subject.lead_unit in actor.units_below)
        )
    # VIEW_DIRECTIVE
    return (
        actor.has_role("admin")
        or me == subject.issuer_id
        or me in subject.on_ladder
        or lead_staff
        or any(actor.is_staff_of(unit) for unit in subject.assisting)
        or above
    )


def _may_on_duty(actor: Actor, action: Action, subject: Subject) -> bool:
    """Duty discipline (SPEC §3.7): without a unit, whether the role can ever do it."""
    unit = subject.unit_id if isinstance(subject, UnitSubject) else None
    if action is Action.DUTY:
        if unit is None:
            return actor.has_role(*STAFF_ROLES)
        return actor.is_staff_of(unit)
    if action is Action.SPOT_CHECK:
        return actor.has_role("supervisor") and (unit is None or unit in actor.units_below)
    # APPROVE_SWAP: the unit's leaders (or whoever leads it now), supervisors above it
    if unit is None:
        return actor.has_role(*SIGNER_ROLES)
    if actor.has_role("leader") and actor.is_staff_of(unit):
        return True
    return actor.has_role("supervisor") and unit in actor.units_below


def _may_on_incident(actor: Actor, action: Action, incident: IncidentSubject) -> bool:
    me = actor.id
    staff = actor.is_staff_of(incident.unit_id)
    if action is Action.ADD_INFO:
        return incident.reporter_id == me
    if action is Action.ACCEPT:
        return staff or me in incident.alerted
    if action in (Action.HANDLE, Action.FILE_REPORT):
        return staff or incident.assignee_id == me
    if action in (Action.TAKE_OVER, Action.PRESS):
        return staff or me in incident.escalated
    if action is Action.SIGN_OFF:
        return (
            actor.has_role(*SIGNER_ROLES)
            and incident.author_id != me
            and (staff or incident.unit_id in actor.units_below)
        )
    if action is Action.RECEIVE:
        # The receiving offices: the unit itself or a unit above it (the flow also checks that
        # the report was delivered to this person).
        return actor.has_role(*STAFF_ROLES, "supervisor") and (
            staff or incident.unit_id in actor.units_below
        )
    if action is Action.DECIDE_CHANGE:
        # A leader (or a supervisor above the unit) decides what could hide a late report.
        return actor.has_role(*SIGNER_ROLES) and (staff or incident.unit_id in actor.units_below)
    if action is Action.VIEW_INCIDENT:
        return (
            (actor.has_role(*WATCHER_ROLES) and incident.unit_id in scope(actor))
            or staff
            or me in (incident.reporter_id, incident.assignee_id)
            or me in incident.alerted
            or me in incident.escalated
            or me in incident.followers
        )
    return False
