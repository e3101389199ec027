"""Write a unit's roster, as resolved from rotations and shifts, in the office layout (XLSX).

One row per stretch of time in which nobody changes, cut at the unit's daily handover, so each
row lasts at most a duty day and its end can be written ``次日8:00``; a leader on duty for several
rows gets one merged cell, as offices do it. Importing the file back gives the same shifts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.roster import Roster
from bot.rostersheet.cells import weekday_zh
from bot.rostersheet.layout import COLUMNS, DEFAULT_HANDOVER, POSITION_COLUMNS, header_of
from bot.rostersheet.people import PeopleIndex

_WIDTHS = {"date": 16, "weekday": 8, "shift": 8, "start": 10, "end": 12, "notes": 20}
_DATE_FORMAT = 'yyyy"年"m"月"d"日"'


@dataclass(frozen=True)
class ExportRow:
    """A stretch of time (aware UTC) and who holds each position during it."""

    start: datetime
    end: datetime
    holders: dict[str, tuple[str, ...]]


def handover_clock(roster: Roster, unit: str) -> time:
    """The local time the unit's officers hand over: from its rotation or first shift, else 08:00."""
    tz = roster.timezone
    for rotation in roster.rotations:
        if rotation.unit == unit and rotation.position == "officer":
            return rotation.start.astimezone(tz).time()
    shifts = [s for s in roster.shifts if s.unit == unit and s.position == "officer"]
    if shifts:
        return min(shifts, key=lambda s: s.start).start.astimezone(tz).time()
    return DEFAULT_HANDOVER


def export_rows(roster: Roster, unit: str, first: date, last: date) -> list[ExportRow]:
    """The rows for the duty days ``first`` to ``last``, each from handover to handover."""
    tz = roster.timezone
    clock = handover_clock(roster, unit)
    rows: list[ExportRow] = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        moment = datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)
        day_end = datetime.combine(day + timedelta(days=1), clock, tzinfo=tz).astimezone(UTC)
        while moment < day_end:
            changes = [roster.next_handover(unit, p, moment) for p in POSITION_COLUMNS]
            until = min([c for c in changes if c is not None and c < day_end] or [day_end])
            holders = {p: roster.holders(unit, p, moment) for p in POSITION_COLUMNS}
            rows.append(ExportRow(moment, until, holders))
            moment = until
    return rows


def _shift_name(start: datetime, end: datetime) -> str:
    if end - start >= timedelta(hours=23):
        return "全天"
    if start.date() == end.date() and 6 <= start.hour < 18:
        return "白班"
    return "夜班"


def _merge_runs(sheet: Worksheet, keys: list[str], first_row: int, values: list[str]) -> None:
    """Merge the cells of ``keys`` down each run of equal, non-empty ``values``."""
    run_start = 0
    for index in range(1, len(values) + 1):
        if index < len(values) and values[index] == values[run_start]:
            continue
        if index - run_start > 1 and values[run_start]:
            for key in keys:
                column = list(COLUMNS).index(key) + 1
                sheet.merge_cells(
                    start_row=first_row + run_start,
                    end_row=first_row + index - 1,
                    start_column=column,
                    end_column=column,
                )
        run_start = index


def write_workbook(path: Path, roster: Roster, unit: str, first: date, last: date) -> int:
    """Write the unit's roster for ``first`` to ``last`` to an XLSX file; return the row count."""
    tz = roster.timezone
    people = PeopleIndex(roster)
    rows = export_rows(roster, unit, first, last)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "值班表"
    keys = list(COLUMNS)
    sheet.cell(
        1, 1, f"{roster.units[unit].name} 值班表（{first.isoformat()} 至 {last.isoformat()}）"
    )
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    sheet.merge_cells(start_row=1, end_row=1, start_column=1, end_column=len(keys))
    for column, key in enumerate(keys, 1):
        sheet.cell(2, column, header_of(key)).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column)].width = _WIDTHS.get(key, 14)

    def names(ids: tuple[str, ...]) -> str:
        return "、".join(people.label(roster.people[i]) for i in ids)

    def phones(ids: tuple[str, ...]) -> str:
        found = [roster.people[i].phone for i in ids]
        return "、".join(p for p in found if p) if all(found) else ""

    dates: list[str] = []
    leaders: list[str] = []
    for number, row in enumerate(rows, 3):
        start, end = row.start.astimezone(tz), row.end.astimezone(tz)
        values: dict[str, str | date] = {
            "date": start.date(),
            "weekday": weekday_zh(start.date()),
            "shift": _shift_name(start, end),
            "start": f"{start:%H:%M}",
            "end": ("次日" if end.date() > start.date() else "") + f"{end:%H:%M}",
        }
        for position, (names_key, phones_key) in POSITION_COLUMNS.items():
            values[names_key] = names(row.holders[position])
            if phones_key is not None:
                values[phones_key] = phones(row.holders[position])
        for column, key in enumerate(keys, 1):
            cell = sheet.cell(number, column, values.get(key) or None)
            cell.alignment = Alignment(vertical="center")
            if key == "date":
                cell.number_format = _DATE_FORMAT
        dates.append(start.date().isoformat())
        leaders.append(f"{values['leader']}|{values['leader_phone']}")
    _merge_runs(sheet, ["date", "weekday"], 3, dates)
    _merge_runs(sheet, ["leader", "leader_phone"], 3, [v if v != "|" else "" for v in leaders])
    sheet.freeze_panes = "A3"
    workbook.save(path)
    return len(rows)
