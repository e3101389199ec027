"""Turn the rows of a roster spreadsheet into shifts, checking every row in one pass.

Nothing comes out while anything is wrong: ``plan_import`` raises ``SheetError`` with every
problem (unknown or ambiguous name, bad date or time, end before start, a weekday that does not
match its date, rows that overlap, a hole in the officer's 24 hours), each placed by sheet, row
and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.roster import Roster
from bot.rostersheet.cells import (
    is_blank,
    parse_date,
    parse_time,
    parse_weekday,
    show,
    split_names,
    split_phones,
    weekday_zh,
)
from bot.rostersheet.layout import DEFAULT_HANDOVER, POSITION_COLUMNS, header_of
from bot.rostersheet.people import PeopleIndex
from bot.rostersheet.problems import Place, SheetError, SheetProblem
from bot.rostersheet.reader import SheetRow, SheetTable, read_sheets
from bot.settings import POSITIONS


@dataclass(frozen=True)
class ImportedShift:
    """One shift to write as ``[[shifts]]``; times are naive local times."""

    position: str
    person: str
    start: datetime
    end: datetime
    source: Place  # the (first) row it comes from


@dataclass(frozen=True)
class PhoneFill:
    """A phone number the spreadsheet gives for someone the roster has no phone for."""

    person: str
    phone: str
    source: Place


@dataclass(frozen=True)
class ImportPlan:
    """What an import changes: the unit's shifts over a span, and phones filled in."""

    file: str
    unit: str
    positions: tuple[str, ...]  # the positions the spreadsheet staffs (its columns)
    start: datetime  # the imported span, naive local
    end: datetime
    shifts: tuple[ImportedShift, ...]
    phones: tuple[PhoneFill, ...]
    notes: tuple[str, ...]


@dataclass
class _Row:
    place: Place
    start_place: Place  # the cell that says when the row starts
    start: datetime
    end: datetime
    holders: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Pass:
    """The state of one pass over all rows."""

    people: PeopleIndex
    reference: date
    problems: list[SheetProblem] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    unplaced: list[Place] = field(default_factory=list)  # rows whose date or times are wrong
    phones: list[tuple[str, str, Place]] = field(default_factory=list)

    def fail(self, place: Place, message: str) -> None:
        self.problems.append(SheetProblem(place, message))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _row_name(place: Place, other: Place) -> str:
    """Name ``other`` as seen from ``place``: its row, and its sheet when that differs."""
    if other.sheet is not None and other.sheet != place.sheet:
        return f"row {other.row} of sheet {other.sheet!r}"
    return f"row {other.row}"


def _times(table: SheetTable, row: SheetRow, day: date, run: _Pass) -> tuple[datetime, datetime]:
    """The row's start and end; ``ValueError`` when a problem was recorded."""
    values = row.values
    if "start" in table.columns:
        start_value = values.get("start")
        try:
            if is_blank(start_value):
                raise ValueError("expected a start time like 08:00, got an empty cell")
            start = parse_time(start_value, day)
        except ValueError as exc:
            run.fail(table.at(row, "start"), str(exc))
            raise
    else:
        start = datetime.combine(day, DEFAULT_HANDOVER)
    if "end" not in table.columns:
        return start, start + timedelta(days=1)
    end_value = values.get("end")
    try:
        if is_blank(end_value):
            raise ValueError("expected an end time like 次日8:00, got an empty cell")
        end = parse_time(end_value, day)
    except ValueError as exc:
        run.fail(table.at(row, "end"), str(exc))
        raise
    if end <= start:
        run.fail(
            table.at(row, "end"),
            f"ends at {_when(end)}, not after its start {_when(start)}: expected an end after "
            f"the start (write 次日{end:%H:%M} for {end:%H:%M} the next day)",
        )
        raise ValueError
    return start, end


def _holders(table: SheetTable, row: SheetRow, run: _Pass) -> dict[str, list[str]]:
    holders: dict[str, list[str]] = {}
    for position, (names_key, phones_key) in POSITION_COLUMNS.items():
        if names_key not in table.columns:
            continue
        names = split_names(row.values.get(names_key))
        if not names and position == "officer":
            run.fail(
                table.at(row, names_key),
                "expected the duty officer's name, got an empty cell (nobody would be on duty)",
            )
        matched: list[str | None] = []
        for name in names:
            try:
                matched.append(run.people.match(name).id)
            except ValueError as exc:
                run.fail(table.at(row, names_key), str(exc))
                matched.append(None)
        holders[position] = [m for m in matched if m is not None]
        if phones_key is None or phones_key not in table.columns:
            continue
        phones = split_phones(row.values.get(phones_key))
        if phones and len(phones) != len(names):
            run.fail(
                table.at(row, phones_key),
                f"expected one phone per name in column {table.columns[names_key].letter} "
                f"({len(names)} names, got {len(phones)} phones)",
            )
            continue
        place = table.at(row, phones_key)
        run.phones.extend((m, p, place) for m, p in zip(matched, phones, strict=False) if m)
    return holders


def _read_row(table: SheetTable, row: SheetRow, run: _Pass) -> None:
    date_value = row.values.get("date")
    try:
        if is_blank(date_value):
            raise ValueError("expected a date like 2026-12-01, got an empty cell")
        day = parse_date(date_value, run.reference)
    except ValueError as exc:
        run.fail(table.at(row, "date"), str(exc))
        run.unplaced.append(row.place)
        _holders(table, row, run)
        return
    run.reference = day
    weekday = row.values.get("weekday")
    if "weekday" in table.columns and not is_blank(weekday):
        try:
            if parse_weekday(weekday) != day.weekday():
                run.fail(
                    table.at(row, "weekday"),
                    f"expected {weekday_zh(day)} for {day.isoformat()}, got {show(weekday)}",
                )
        except ValueError as exc:
            run.fail(table.at(row, "weekday"), str(exc))
    holders = _holders(table, row, run)
    try:
        start, end = _times(table, row, day, run)
    except ValueError:
        run.unplaced.append(row.place)
        return
    start_key = "start" if "start" in table.columns else "date"
    run.rows.append(_Row(row.place, table.at(row, start_key), start, end, holders))


def _between(run: _Pass, before: _Row, after: _Row) -> bool:
    """Tell whether a row with a wrong date or time stands between two rows (maybe filling it)."""
    low, high = sorted((before.place.sort_key(), after.place.sort_key()))
    return any(low < place.sort_key() < high for place in run.unplaced)


def _check_continuity(run: _Pass) -> None:
    """Rows may neither overlap nor leave the officer position empty between them."""
    rows = sorted(run.rows, key=lambda r: (r.start, r.end))
    latest: _Row | None = None  # the row that ends last so far
    for row in rows:
        if latest is not None and row.start < latest.end:
            run.fail(
                row.start_place,
                f"overlaps {_row_name(row.place, latest.place)} "
                f"({_when(latest.start)} to {_when(latest.end)}): expected rows one after "
                "another",
            )
        elif latest is not None and row.start > latest.end and not _between(run, latest, row):
            run.fail(
                row.start_place,
                f"a hole: nobody on duty ({header_of('officer')}) from {_when(latest.end)} "
                f"(end of {_row_name(row.place, latest.place)}) to {_when(row.start)}: "
                "expected each row to start when the one before ends",
            )
        if latest is None or row.end > latest.end:
            latest = row


def _phone_fills(run: _Pass, roster: Roster, notes: list[str]) -> list[PhoneFill]:
    fills: dict[str, PhoneFill] = {}
    for person_id, phone, place in run.phones:
        person = roster.people[person_id]
        if person.phone is not None:
            if person.phone.replace(" ", "") != phone.replace(" ", ""):
                notes.append(
                    f"{place}: {person.id} has phone {phone!r} here, the roster keeps "
                    f"{person.phone!r}"
                )
        elif person_id not in fills:
            fills[person_id] = PhoneFill(person_id, phone, place)
        elif fills[person_id].phone != phone:
            notes.append(
                f"{place}: {person.id} has phone {phone!r} here; the roster gets "
                f"{fills[person_id].phone!r} from {fills[person_id].source}"
            )
    return list(fills.values())


def _merged_shifts(rows: list[_Row], positions: tuple[str, ...]) -> list[ImportedShift]:
    """One shift per person and unbroken stretch: a leader over seven rows is one shift."""
    shifts: list[ImportedShift] = []
    open_shift: dict[tuple[str, str], int] = {}  # (position, person) → index in shifts
    for row in sorted(rows, key=lambda r: r.start):
        for position in positions:
            for person in dict.fromkeys(row.holders.get(position, [])):
                index = open_shift.get((position, person))
                if index is not None and shifts[index].end == row.start:
                    previous = shifts[index]
                    shifts[index] = ImportedShift(
                        position, person, previous.start, row.end, previous.source
                    )
                else:
                    open_shift[(position, person)] = len(shifts)
                    shifts.append(ImportedShift(position, person, row.start, row.end, row.place))
    return sorted(shifts, key=lambda s: (s.start, POSITIONS.index(s.position), s.person))


def plan_import(path: Path, roster: Roster, unit: str, today: date) -> ImportPlan:
    """Read a roster spreadsheet for ``unit``; raise ``SheetError`` listing every problem.

    ``today`` (local) gives the year of dates written without one (``12/1``): the year that
    puts the first such date nearest today; later rows follow the row before them.
    """
    read = read_sheets(path)
    run = _Pass(PeopleIndex(roster), today, list(read.problems))
    for table in read.tables:
        for row in table.rows:
            _read_row(table, row, run)
    _check_continuity(run)
    notes = list(read.notes)
    phones = _phone_fills(run, roster, notes)
    if run.problems:
        raise SheetError(run.problems)
    if not run.rows:
        raise SheetError([SheetProblem(Place(path.name), "expected at least one row of shifts")])
    present = {key for table in read.tables for key in table.columns}
    positions = tuple(p for p, (names, _) in POSITION_COLUMNS.items() if names in present)
    return ImportPlan(
        file=path.name,
        unit=unit,
        positions=positions,
        start=min(r.start for r in run.rows),
        end=max(r.end for r in run.rows),
        shifts=tuple(_merged_shifts(run.rows, positions)),
        phones=tuple(phones),
        notes=tuple(notes),
    )
