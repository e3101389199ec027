"""The permission matrix (SPEC §1, §4): every command and button × every kind of person, decided
by ``bot.access`` alone, without the bot."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import callback_data
from bot.access import (
    BUTTON_ACTIONS,
    COMMAND_ACTIONS,
    DIRECTIVE_ACTIONS,
    Action,
    Actor,
    DirectiveSubject,
    IncidentSubject,
    UnitSubject,
    may,
    may_direct_to,
    menu_roles,
    scope,
)
from bot.roster import Roster, load_roster
from handlers.common.catalog import COMMANDS
from tests.harness import ROSTER

# 2026-11-27 14:00 in Shanghai: wang.fang is the water officer, li.lei its backup, qian.bo its
# leader; wu.gang the emergency officer; chen.jing the city officer, sun.li the city leader.
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
EXTRA_PEOPLE = """
[[people]]
id = "city.sup"
name = "City Supervisor"
unit = "city"
roles = ["supervisor"]

[[people]]
id = "em.sup"
name = "Emergency Supervisor"
unit = "emergency"
roles = ["supervisor"]

[[people]]
id = "admin.only"
name = "Administrator"
unit = "city"
roles = ["admin"]
"""

# The kinds of people of the matrix, by a label, and who plays each.
ACTORS = {
    "field, the reporter": "xu.tao",
    "field of another unit": "ma.lin",
    "officer of the unit": "wang.fang",
    "backup of the unit": "li.lei",
    "officer of another unit": "wu.gang",
    "leader of the unit": "qian.bo",
    "supervisor above": "city.sup",
    "supervisor of another branch": "em.sup",
    "admin": "admin.only",
}
# An incident of the water authority, reported by xu.tao, nobody has accepted it yet.
WATER = IncidentSubject(unit_id="water", reporter_id="xu.tao")
STAFF = {"officer of the unit", "backup of the unit", "leader of the unit"}
EVERYBODY = set(ACTORS)
# Who may do each action to WATER (or, for actions without a subject, at all).
ALLOWED: dict[Action | None, set[str]] = {
    None: EVERYBODY,
    Action.REPORT: EVERYBODY,
    Action.ADD_INFO: {"field, the reporter"},
    Action.ACCEPT: STAFF,
    Action.HANDLE: STAFF,
    Action.FILE_REPORT: STAFF,
    Action.TAKE_OVER: STAFF,
    Action.SIGN_OFF: {"leader of the unit", "supervisor above"},
    Action.DECIDE_CHANGE: {"leader of the unit", "supervisor above"},
    Action.PRESS: STAFF,
    Action.RECEIVE: STAFF | {"supervisor above"},
    Action.FOLLOW: {"supervisor above", "supervisor of another branch"},
    Action.CALL: {
        "officer of the unit",
        "backup of the unit",
        "officer of another unit",
        "leader of the unit",
    },
    Action.VIEW_INCIDENT: STAFF | {"field, the reporter", "supervisor above", "admin"},
    Action.WATCH: {
        "leader of the unit",
        "supervisor above",
        "supervisor of another branch",
        "admin",
    },
    Action.ONCALL: EVERYBODY - {"field, the reporter", "field of another unit"},
    Action.MINE: {
        "officer of the unit",
        "backup of the unit",
        "officer of another unit",
        "leader of the unit",
    },
    Action.INVITE: {"admin"},
    Action.MANAGE_ROSTER: {"admin"},
    # duty discipline, asked without a unit: whether the role can ever do it
    Action.DUTY: {
        "officer of the unit",
        "backup of the unit",
        "officer of another unit",
        "leader of the unit",
    },
    Action.DUTY_LOG: EVERYBODY - {"field, the reporter", "field of another unit"},
    Action.SPOT_CHECK: {"supervisor above", "supervisor of another branch"},
    Action.APPROVE_SWAP: {"leader of the unit", "supervisor above", "supervisor of another branch"},
    # directives, asked of DIRECTIVE (the water authority leads, the emergency bureau assists)
    Action.DIRECT: {"supervisor above"},
    Action.VIEW_DIRECTIVE: STAFF
    | {"officer of another unit", "supervisor above", "supervisor of another branch", "admin"},
    Action.ANSWER_DIRECTIVE: STAFF,
    Action.ASSIST_DIRECTIVE: {"officer of another unit"},
    Action.REVIEW_DIRECTIVE: {"supervisor above"},
    Action.CHASE_DIRECTIVE: {"supervisor above"},
}
# A directive the city supervisor issued to the water authority, the emergency bureau assisting.
DIRECTIVE = DirectiveSubject(
    lead_unit="water", assisting=frozenset({"emergency"}), issuer_id="city.sup"
)


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Roster:
    path: Path = tmp_path_factory.mktemp("access") / "roster.toml"
    path.write_text(ROSTER + EXTRA_PEOPLE)
    return load_roster(path, ZoneInfo("Asia/Shanghai"))


def actor(roster: Roster, label: str) -> Actor:
    return Actor.at(roster, roster.people[ACTORS[label]], NOW)


def subject_for(action: Action | None) -> IncidentSubject | DirectiveSubject | None:
    if action in DIRECTIVE_ACTIONS:
        return DIRECTIVE
    return WATER if action in _INCIDENT_ACTIONS else None


_INCIDENT_ACTIONS = {
    Action.ADD_INFO,
    Action.ACCEPT,
    Action.HANDLE,
    Action.FILE_REPORT,
    Action.TAKE_OVER,
    Action.SIGN_OFF,
    Action.VIEW_INCIDENT,
    Action.DECIDE_CHANGE,
    Action.PRESS,
    Action.RECEIVE,
}


def test_every_command_and_button_has_its_permission() -> None:
    assert {c.name for c in COMMANDS} == set(COMMAND_ACTIONS)
    assert set(callback_data.ACTIONS) == set(BUTTON_ACTIONS)


@pytest.mark.parametrize(
    ("kind", "name", "action"),
    [("command", n, a) for n, a in COMMAND_ACTIONS.items()]
    + [("button", n, a) for n, a in BUTTON_ACTIONS.items()],
)
def test_matrix_of_people_and_what_they_may_do(
    roster: Roster, kind: str, name: str, action: Action | None
) -> None:
    for label in ACTORS:
        who = actor(roster, label)
        allowed = True if action is None else may(who, action, subject_for(action))
        assert allowed == (label in ALLOWED[action]), f"{kind} {name}: {label}"


def test_menus_offer_a_command_to_the_roles_that_can_use_it(roster: Roster) -> None:
    for command in COMMANDS:
        action = COMMAND_ACTIONS[command.name]
        for label in ACTORS:
            person = roster.people[ACTORS[label]]
            shown = not command.roles or bool(command.roles & person.roles)
            if action is not None and label in ALLOWED[action]:
                assert shown, f"/{command.name} is hidden from {label}, who may use it"
        assert command.roles == menu_roles(command.name)


def test_whoever_was_alerted_at_a_gap_may_accept(roster: Roster) -> None:
    chen = Actor.at(roster, roster.people["chen.jing"], NOW)
    gap = IncidentSubject(unit_id="emergency", reporter_id="ma.lin")
    assert not may(chen, Action.ACCEPT, gap)
    assert may(
        chen,
        Action.ACCEPT,
        IncidentSubject("emergency", "ma.lin", alerted=frozenset({"chen.jing"})),
    )
    assert may(
        chen, Action.VIEW_INCIDENT, IncidentSubject("emergency", alerted=frozenset({"chen.jing"}))
    )


def test_the_responsible_officer_keeps_a_transferred_incident_until_it_is_accepted(
    roster: Roster,
) -> None:
    wang = actor(roster, "officer of the unit")
    moved = IncidentSubject(unit_id="emergency", reporter_id="xu.tao", assignee_id="wang.fang")
    assert may(wang, Action.HANDLE, moved)
    assert may(wang, Action.FILE_REPORT, moved)
    assert not may(wang, Action.ACCEPT, moved)  # the receiving unit accepts
    assert not may(wang, Action.HANDLE, IncidentSubject(unit_id="emergency", assignee_id="wu.gang"))


def test_only_people_the_escalation_reached_may_take_over_from_outside(roster: Roster) -> None:
    sun = Actor.at(roster, roster.people["sun.li"], NOW)
    assert not may(sun, Action.TAKE_OVER, WATER)
    assert may(sun, Action.TAKE_OVER, IncidentSubject("water", escalated=frozenset({"sun.li"})))


def test_nobody_signs_off_their_own_report(roster: Roster) -> None:
    qian = actor(roster, "leader of the unit")
    assert may(qian, Action.SIGN_OFF, IncidentSubject("water", author_id="wang.fang"))
    assert not may(qian, Action.SIGN_OFF, IncidentSubject("water", author_id="qian.bo"))


def test_scope_is_one_rule_for_status_overdue_incident_and_oncall(roster: Roster) -> None:
    assert scope(actor(roster, "leader of the unit")) == {"water"}
    assert scope(actor(roster, "officer of another unit")) == {"emergency"}
    assert scope(actor(roster, "supervisor above")) == {"city", "emergency", "water"}
    assert scope(actor(roster, "supervisor of another branch")) == {"emergency"}
    assert scope(actor(roster, "admin")) == set(roster.units)
    qian = actor(roster, "leader of the unit")
    assert may(qian, Action.ONCALL, UnitSubject("water"))
    assert not may(qian, Action.ONCALL, UnitSubject("emergency"))
    assert not may(qian, Action.VIEW_INCIDENT, IncidentSubject("emergency"))


def test_a_shift_in_another_unit_counts_while_it_lasts(roster: Roster) -> None:
    # he.jun leads the emergency bureau by one-off shifts: on 27 November, not on 28 November.
    he = roster.people["he.jun"]
    on_duty = Actor.at(roster, he, NOW)
    off_duty = Actor.at(roster, he, datetime(2026, 11, 28, 6, 0, tzinfo=UTC))
    assert on_duty.on_duty_units == {"emergency"}
    assert off_duty.on_duty_units == frozenset()
    assert may(off_duty, Action.ACCEPT, IncidentSubject("emergency"))  # still a leader there


def test_duty_discipline_is_asked_per_unit(roster: Roster) -> None:
    water = UnitSubject("water")
    assert may(actor(roster, "officer of the unit"), Action.DUTY, water)
    assert not may(actor(roster, "officer of another unit"), Action.DUTY, water)
    assert may(actor(roster, "supervisor above"), Action.SPOT_CHECK, water)
    assert not may(actor(roster, "supervisor of another branch"), Action.SPOT_CHECK, water)
    assert may(actor(roster, "leader of the unit"), Action.APPROVE_SWAP, water)
    assert not may(actor(roster, "officer of the unit"), Action.APPROVE_SWAP, water)
    assert may(actor(roster, "leader of the unit"), Action.DUTY_LOG, water)
    assert not may(actor(roster, "officer of another unit"), Action.DUTY_LOG, water)


def test_directives_go_one_level_down_and_only_to_those_they_concern(roster: Roster) -> None:
    sun = Actor.at(roster, roster.people["sun.li"], NOW)  # the city's leader
    qian = actor(roster, "leader of the unit")  # the water leader: no unit below his own
    em_sup = actor(roster, "supervisor of another branch")
    assert may_direct_to(sun, "water") and may_direct_to(sun, "emergency")
    assert not may_direct_to(sun, "city")  # a leader directs the units below, not his own
    assert not may_direct_to(qian, "water")
    assert may_direct_to(em_sup, "emergency") and not may_direct_to(em_sup, "water")
    reached = DirectiveSubject(
        lead_unit="water", issuer_id="city.sup", on_ladder=frozenset({"sun.li"})
    )
    assert may(sun, Action.CHASE_DIRECTIVE, reached)
    assert not may(sun, Action.CHASE_DIRECTIVE, DIRECTIVE)
    taker = DirectiveSubject(lead_unit="water", taken_over_by="sun.li")
    assert may(sun, Action.ANSWER_DIRECTIVE, taker)  # who took it over answers for it
    field = actor(roster, "field, the reporter")
    assert not may(field, Action.VIEW_DIRECTIVE, DIRECTIVE)


@pytest.mark.parametrize("action", sorted(_INCIDENT_ACTIONS, key=lambda a: a.name))
def test_being_alerted_escalated_to_or_following_only_ever_grants(
    roster: Roster, action: Action
) -> None:
    """``incidents.subject_for`` decides on the incident's own row first and reads who was
    alerted, escalated to or follows it only when that refuses: sound only while membership
    of those sets never takes a permission away."""
    for incident in (WATER, replace(WATER, assignee_id="wang.fang")):
        for label in ACTORS:
            who = actor(roster, label)
            me = frozenset({who.id})
            fuller = replace(incident, alerted=me, escalated=me, followers=me)
            if may(who, action, incident):
                assert may(who, action, fuller), f"{action.name}: {label}"
