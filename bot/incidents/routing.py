"""Routing (SPEC §3.2): which unit takes a report, and who on its shift is alerted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.roster import Roster
from bot.settings import Settings


def route_unit(settings: Settings, roster: Roster, category: str | None, reporter_unit: str) -> str:
    """The category's unit from ``[routing]``, else the reporter's home unit."""
    if category is not None and category in settings.routing:
        return settings.routing[category]
    return reporter_unit


@dataclass(frozen=True)
class AlertTargets:
    """Who gets an incident's alert: people (with the position that makes them a target) and
    the unit's duty group; ``gap`` says the unit had nobody in officer and backup."""

    people: tuple[tuple[str, str, str], ...]  # (person id, unit id, position)
    duty_chat: int | None
    gap: bool


def alert_targets(roster: Roster, unit_id: str, at: datetime) -> AlertTargets:
    """Officer and backup on the unit's shift; if both are empty, the next rungs up the chain
    (leader, head, then the parent unit's officer, backup and leader, up to the root)."""
    unit = roster.units[unit_id]
    first = _holders(roster, unit_id, ("officer", "backup"), at)
    if first:
        return AlertTargets(tuple(first), unit.duty_chat, gap=False)
    current: str | None = unit_id
    rungs: tuple[str, ...] = ("leader", "head")
    while current is not None:
        found = _holders(roster, current, rungs, at)
        if found:
            return AlertTargets(tuple(found), unit.duty_chat, gap=True)
        current = roster.units[current].parent
        rungs = ("officer", "backup", "leader")
    return AlertTargets((), unit.duty_chat, gap=True)


def _holders(
    roster: Roster, unit_id: str, positions: tuple[str, ...], at: datetime
) -> list[tuple[str, str, str]]:
    seen: set[str] = set()
    found = []
    for position in positions:
        for person in roster.holders(unit_id, position, at):
            if person not in seen:
                seen.add(person)
                found.append((person, unit_id, position))
    return found
