"""The roster (SPEC §6): units, people, rotations and one-off shifts, and who is on duty when.

Everything here is pure: it takes aware datetimes and answers from the file's data, so the same
answers come out in the bot, on the command line and in tests with a fake clock.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.durations import is_whole_days
from bot.settings import LANGUAGES, POSITIONS
from bot.tomlreader import Table, load_toml

ROLES = ("field", "officer", "leader", "supervisor", "admin")
GAP_HORIZON = timedelta(days=14)
_MAX_BOUNDARIES_PER_ROTATION = 2000


@dataclass(frozen=True)
class Unit:
    """An organisation with a duty desk."""

    id: str
    name: str
    parent: str | None
    duty_chat: int | None = None


@dataclass(frozen=True)
class Person:
    """Somebody who may use the bot."""

    id: str
    name: str
    unit: str
    roles: frozenset[str]
    telegram_id: int | None = None
    language: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Rotation:
    """People taking a position of a unit in turn, each for ``length``."""

    unit: str
    position: str
    people: tuple[str, ...]
    start: datetime  # aware, the first handover
    length: timedelta
    calendar_days: int | None  # set when the length is whole days: local clock time is kept

    def turn_at(self, at: datetime, tz: ZoneInfo) -> int | None:
        """The index of the turn that covers ``at``, or ``None`` before the rotation starts."""
        if at < self.start:
            return None
        if self.calendar_days is None:
            return (at - self.start) // self.length
        local = at.astimezone(tz)
        start_local = self.start.astimezone(tz)
        days = (local.date() - start_local.date()).days
        if local.time() < start_local.time():
            days -= 1
        return days // self.calendar_days

    def turn_start(self, turn: int, tz: ZoneInfo) -> datetime:
        """When a turn begins (aware UTC)."""
        if self.calendar_days is None:
            return (self.start + turn * self.length).astimezone(UTC)
        start_local = self.start.astimezone(tz)
        day: date = start_local.date() + timedelta(days=turn * self.calendar_days)
        local = datetime.combine(day, start_local.time()).replace(tzinfo=tz)
        return local.astimezone(UTC)

    def holder_at(self, at: datetime, tz: ZoneInfo) -> str | None:
        """Who holds the position at ``at`` according to this rotation alone."""
        turn = self.turn_at(at, tz)
        if turn is None:
            return None
        return self.people[turn % len(self.people)]

    def boundaries(self, after: datetime, until: datetime, tz: ZoneInfo) -> Iterator[datetime]:
        """Handover times strictly after ``after`` and not after ``until``."""
        turn = self.turn_at(after, tz)
        turn = 0 if turn is None else turn + 1
        for _ in range(_MAX_BOUNDARIES_PER_ROTATION):
            moment = self.turn_start(turn, tz)
            if moment > until:
                return
            if moment > after:
                yield moment
            turn += 1


@dataclass(frozen=True)
class Shift:
    """A one-off shift; beats the rotations of its position for its time span."""

    unit: str
    position: str
    person: str
    start: datetime
    end: datetime

    def covers(self, at: datetime) -> bool:
        """Tell whether ``at`` lies within the shift."""
        return self.start <= at < self.end


@dataclass(frozen=True)
class Gap:
    """A span of time in which a position of a unit has nobody on it."""

    unit: str
    position: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Holding:
    """One position a person holds at a moment, and until when."""

    unit: str
    position: str
    until: datetime | None


@dataclass(frozen=True)
class Roster:
    """The validated roster with the questions the bot asks of it."""

    timezone: ZoneInfo
    units: dict[str, Unit]
    people: dict[str, Person]
    rotations: tuple[Rotation, ...] = ()
    shifts: tuple[Shift, ...] = ()
    # one-off shifts kept in the database (approved swaps): they beat the file's shifts too
    overrides: tuple[Shift, ...] = ()
    _by_slot: dict[tuple[str, str], tuple[list[Rotation], list[Shift]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _overrides_by_slot: dict[tuple[str, str], list[Shift]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for rotation in self.rotations:
            self._slot(rotation.unit, rotation.position)[0].append(rotation)
        for shift in self.shifts:
            self._slot(shift.unit, shift.position)[1].append(shift)
        for shift in self.overrides:
            self._slot(shift.unit, shift.position)
            self._overrides_by_slot.setdefault((shift.unit, shift.position), []).append(shift)

    def _slot(self, unit: str, position: str) -> tuple[list[Rotation], list[Shift]]:
        return self._by_slot.setdefault((unit, position), ([], []))

    def with_overrides(self, overrides: Iterable[Shift]) -> Roster:
        """The same roster with ``overrides`` (one-off shifts from the database) in force."""
        return Roster(
            timezone=self.timezone,
            units=self.units,
            people=self.people,
            rotations=self.rotations,
            shifts=self.shifts,
            overrides=tuple(overrides),
        )

    @property
    def root(self) -> Unit:
        """The top duty office (the one unit without a parent)."""
        return next(u for u in self.units.values() if u.parent is None)

    def holders(self, unit: str, position: str, at: datetime) -> tuple[str, ...]:
        """Who holds ``position`` of ``unit`` at ``at``: one-off shifts first, else rotations."""
        rotations, shifts = self._by_slot.get((unit, position), ([], []))
        overriding = [
            s.person for s in self._overrides_by_slot.get((unit, position), ()) if s.covers(at)
        ]
        if overriding:
            return tuple(dict.fromkeys(overriding))
        covering = [s.person for s in shifts if s.covers(at)]
        if covering:
            return tuple(dict.fromkeys(covering))
        found = (r.holder_at(at, self.timezone) for r in rotations)
        return tuple(dict.fromkeys(p for p in found if p is not None))

    def positions_of(self, unit: str) -> list[str]:
        """The positions a unit staffs: ``officer`` always, others when the roster names them."""
        used = {pos for (u, pos) in self._by_slot if u == unit}
        return [p for p in POSITIONS if p == "officer" or p in used]

    def _change_points(
        self, unit: str, position: str, after: datetime, until: datetime
    ) -> list[datetime]:
        rotations, shifts = self._by_slot.get((unit, position), ([], []))
        streams: list[Iterable[datetime]] = [
            r.boundaries(after, until, self.timezone) for r in rotations
        ]
        extra = self._overrides_by_slot.get((unit, position), [])
        edges = sorted(
            {t for s in (*shifts, *extra) for t in (s.start, s.end) if after < t <= until}
        )
        streams.append(edges)
        return list(dict.fromkeys(heapq.merge(*streams)))

    def next_handover(self, unit: str, position: str, at: datetime) -> datetime | None:
        """The next moment within 14 days when the holders of the position change."""
        now_holders = self.holders(unit, position, at)
        for moment in self._change_points(unit, position, at, at + GAP_HORIZON):
            if self.holders(unit, position, moment) != now_holders:
                return moment
        return None

    def shift_bounds(self, unit: str, position: str, at: datetime) -> tuple[datetime, datetime]:
        """The shift of ``position`` that covers ``at``: from the last change point (a rotation
        boundary or a one-off shift's edge) at or before ``at`` to the next one after it; a
        position without any within 14 days either side is taken day by day (local midnight)."""
        before = self._change_points(unit, position, at - GAP_HORIZON, at)
        after = self._change_points(unit, position, at, at + GAP_HORIZON)
        local = at.astimezone(self.timezone)
        midnight = datetime.combine(local.date(), datetime.min.time(), tzinfo=self.timezone)
        start = before[-1] if before else midnight.astimezone(UTC)
        end = after[0] if after else (midnight + timedelta(days=1)).astimezone(UTC)
        return start, end

    def next_change(self, unit: str, position: str, at: datetime) -> datetime | None:
        """The next change point of ``position`` strictly after ``at`` within 14 days."""
        points = self._change_points(unit, position, at, at + GAP_HORIZON)
        return points[0] if points else None

    def gaps(self, start: datetime, horizon: timedelta = GAP_HORIZON) -> list[Gap]:
        """Every span in ``[start, start + horizon)`` where a staffed position has nobody."""
        end = start + horizon
        found: list[Gap] = []
        for unit in self.units:
            for position in self.positions_of(unit):
                points = [
                    start,
                    *(p for p in self._change_points(unit, position, start, end) if p < end),
                ]
                open_since: datetime | None = None
                for moment in points:
                    empty = not self.holders(unit, position, moment)
                    if empty and open_since is None:
                        open_since = moment
                    elif not empty and open_since is not None:
                        found.append(Gap(unit, position, open_since, moment))
                        open_since = None
                if open_since is not None:
                    found.append(Gap(unit, position, open_since, end))
        return found

    def holdings(self, person: str, at: datetime) -> list[Holding]:
        """The positions ``person`` holds at ``at``, each with the time the person hands over."""
        out = []
        for unit, position in self._by_slot:
            if person in self.holders(unit, position, at):
                out.append(Holding(unit, position, self._holding_until(person, unit, position, at)))
        return out

    def _holding_until(
        self, person: str, unit: str, position: str, at: datetime
    ) -> datetime | None:
        for moment in self._change_points(unit, position, at, at + GAP_HORIZON):
            if person not in self.holders(unit, position, moment):
                return moment
        return None

    def next_holding(self, person: str, at: datetime) -> tuple[datetime, Holding] | None:
        """The person's next shift start within 14 days, if any."""
        best: tuple[datetime, Holding] | None = None
        for unit, position in self._by_slot:
            for moment in self._change_points(unit, position, at, at + GAP_HORIZON):
                if person in self.holders(unit, position, moment):
                    if best is None or moment < best[0]:
                        until = self._holding_until(person, unit, position, moment)
                        best = (moment, Holding(unit, position, until))
                    break
        return best

    def ancestors(self, unit: str) -> list[str]:
        """The unit's parents up to the root, nearest first."""
        chain = []
        current = self.units[unit].parent
        while current is not None:
            chain.append(current)
            current = self.units[current].parent
        return chain

    def descendants(self, unit: str) -> list[str]:
        """The unit and every unit below it."""
        out = [unit]
        for candidate in self.units:
            if unit in self.ancestors(candidate):
                out.append(candidate)
        return out


def _parse_local(table: Table, key: str, tz: ZoneInfo) -> datetime:
    raw: Any = table.data.get(key)
    if raw is None:
        raise table.fail(key, 'missing (expected a local time like "2026-11-01T08:00")')
    try:
        value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    except ValueError:
        raise table.fail(
            key, f'expected a local time like "2026-11-01T08:00", got {raw!r}'
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _read_units(root: Table) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for t in root.tables("units"):
        t.reject_unknown(("id", "name", "parent", "duty_chat"))
        unit_id = t.string("id", required=True)
        if unit_id in units:
            raise t.fail("id", f"duplicate unit id {unit_id!r}")
        units[unit_id] = Unit(
            unit_id,
            t.string("name", required=True),
            t.optional_string("parent"),
            t.optional_integer("duty_chat"),
        )
    if not units:
        raise root.fail("units", "expected at least one [[units]] entry")
    tables = root.tables("units")
    for t, unit in zip(tables, units.values(), strict=True):
        if unit.parent is not None and unit.parent not in units:
            raise t.fail("parent", f"unknown unit {unit.parent!r}")
        seen = [unit.id]
        current = unit.parent
        while current is not None:
            if current in seen:
                cycle = " → ".join([*seen, current])
                raise t.fail("parent", f"expected a tree, found a parent cycle {cycle}")
            seen.append(current)
            current = units[current].parent
    roots = [u.id for u in units.values() if u.parent is None]
    if len(roots) != 1:
        raise root.fail("units", f"expected exactly one root unit without a parent, found {roots}")
    return units


def _read_people(root: Table, units: dict[str, Unit]) -> dict[str, Person]:
    people: dict[str, Person] = {}
    telegram_ids: dict[int, str] = {}
    for t in root.tables("people"):
        t.reject_unknown(("id", "name", "unit", "roles", "telegram_id", "language", "phone"))
        person_id = t.string("id", required=True)
        if person_id in people:
            raise t.fail("id", f"duplicate person id {person_id!r}")
        unit = t.string("unit", required=True)
        if unit not in units:
            raise t.fail("unit", f"unknown unit {unit!r}")
        roles = t.string_list("roles", [])
        if not roles or any(r not in ROLES for r in roles):
            raise t.fail(
                "roles", f"expected a non-empty list from {', '.join(ROLES)}, got {roles!r}"
            )
        telegram_id = t.optional_integer("telegram_id")
        if telegram_id is not None:
            if telegram_id in telegram_ids:
                raise t.fail("telegram_id", f"already given to {telegram_ids[telegram_id]!r}")
            telegram_ids[telegram_id] = person_id
        language = t.optional_string("language")
        if language is not None and language not in LANGUAGES:
            raise t.fail("language", f"expected one of {', '.join(LANGUAGES)}, got {language!r}")
        people[person_id] = Person(
            person_id,
            t.string("name", required=True),
            unit,
            frozenset(roles),
            telegram_id,
            language,
            t.optional_string("phone"),
        )
    return people


def _check_slot(t: Table, units: dict[str, Unit]) -> tuple[str, str]:
    unit = t.string("unit", required=True)
    if unit not in units:
        raise t.fail("unit", f"unknown unit {unit!r}")
    position = t.string("position", required=True)
    if position not in POSITIONS:
        raise t.fail("position", f"expected one of {', '.join(POSITIONS)}, got {position!r}")
    return unit, position


def _read_rotations(
    root: Table, tz: ZoneInfo, units: dict[str, Unit], people: dict[str, Person]
) -> list[Rotation]:
    rotations = []
    for t in root.tables("rotations"):
        t.reject_unknown(("unit", "position", "people", "start", "length"))
        unit, position = _check_slot(t, units)
        members = t.string_list("people", [])
        if not members:
            raise t.fail("people", "expected a non-empty list of person ids")
        for member in members:
            if member not in people:
                raise t.fail("people", f"unknown person {member!r}")
        length = t.duration("length")
        raw_length = str(t.data["length"])
        days = length.days if is_whole_days(raw_length) else None
        rotations.append(
            Rotation(unit, position, tuple(members), _parse_local(t, "start", tz), length, days)
        )
    return rotations


def _read_shifts(
    root: Table, tz: ZoneInfo, units: dict[str, Unit], people: dict[str, Person]
) -> list[Shift]:
    shifts = []
    for t in root.tables("shifts"):
        t.reject_unknown(("unit", "position", "person", "start", "end"))
        unit, position = _check_slot(t, units)
        person = t.string("person", required=True)
        if person not in people:
            raise t.fail("person", f"unknown person {person!r}")
        start, end = _parse_local(t, "start", tz), _parse_local(t, "end", tz)
        if end <= start:
            raise t.fail(
                "end", f"expected a time after start ({t.data['start']}), got {t.data['end']}"
            )
        shifts.append(Shift(unit, position, person, start, end))
    return shifts


def load_roster(path: Path, tz: ZoneInfo) -> Roster:
    """Read and validate a roster file; raise ``ConfigError`` naming file, key and expectation."""
    root = Table(str(path), "", load_toml(path))
    root.reject_unknown(("units", "people", "rotations", "shifts"))
    units = _read_units(root)
    people = _read_people(root, units)
    return Roster(
        timezone=tz,
        units=units,
        people=people,
        rotations=tuple(_read_rotations(root, tz, units, people)),
        shifts=tuple(_read_shifts(root, tz, units, people)),
    )
