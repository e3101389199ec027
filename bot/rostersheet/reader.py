"""Read an XLSX or CSV roster into rows keyed by column, with merged cells filled in."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.rostersheet.cells import is_blank
from bot.rostersheet.layout import COLUMNS, REQUIRED, column_for, header_of
from bot.rostersheet.problems import Place, SheetProblem

_HEADER_SEARCH_ROWS = 10  # a title or two may stand above the header row
_ENCODINGS = ("utf-8-sig", "gb18030")  # Excel saves CSV as UTF-8 with a BOM, or as GBK


@dataclass(frozen=True)
class Column:
    """One recognised column: its key, its letter and its header as written."""

    key: str
    index: int  # 0 for column A
    letter: str
    header: str


@dataclass(frozen=True)
class SheetRow:
    """One data row: where it is, and the value under each recognised column."""

    place: Place
    values: dict[str, object]


@dataclass
class SheetTable:
    """The roster table found on one sheet (or in one CSV file)."""

    place: Place
    columns: dict[str, Column] = field(default_factory=dict)
    rows: list[SheetRow] = field(default_factory=list)

    def at(self, row: SheetRow, key: str) -> Place:
        """The place of one cell of ``row`` under the column ``key``."""
        column = self.columns[key]
        return row.place.at(column.letter, column.header)


@dataclass
class ReadResult:
    """What a file held: its tables, the problems met and notes for the administrator."""

    tables: list[SheetTable] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _grid_of_sheet(sheet: Worksheet) -> list[list[object]]:
    grid: list[list[object]] = [list(row) for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        top_left = sheet.cell(merged.min_row, merged.min_col).value
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                if r - 1 < len(grid) and c - 1 < len(grid[r - 1]):
                    grid[r - 1][c - 1] = top_left
    return grid


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("expected text in UTF-8 or GBK")


def _grid_of_csv(text: str) -> list[list[object]]:
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _table(grid: Sequence[Sequence[object]], place: Place, result: ReadResult) -> None:
    for index, cells in enumerate(grid[:_HEADER_SEARCH_ROWS]):
        keys = {column_for(v) for v in cells}
        if all(k in keys for k in REQUIRED):
            header_row = index
            break
    else:
        where = f"sheet {place.sheet!r}" if place.sheet is not None else place.file
        expected = ", ".join(header_of(k) for k in COLUMNS)
        result.notes.append(
            f"{where}: skipped, no header row with {' and '.join(map(header_of, REQUIRED))} "
            f"in its first {_HEADER_SEARCH_ROWS} rows (the headers: {expected})"
        )
        return
    table = SheetTable(Place(place.file, place.sheet, place.sheet_index, header_row + 1))
    for c, value in enumerate(grid[header_row]):
        key = column_for(value)
        if key is None:
            continue
        letter = get_column_letter(c + 1)
        if key in table.columns:
            first = table.columns[key]
            result.problems.append(
                SheetProblem(
                    table.place.at(letter, str(value).strip()),
                    f"the same column as {first.letter} ({first.header}); expected each header "
                    "once (put several names in one cell, separated by 、)",
                )
            )
            continue
        table.columns[key] = Column(key, c, letter, str(value).strip())
    for index in range(header_row + 1, len(grid)):
        cells = grid[index]
        values = {
            key: cells[col.index] if col.index < len(cells) else None
            for key, col in table.columns.items()
        }
        if all(is_blank(v) for v in values.values()):
            continue
        row_place = Place(place.file, place.sheet, place.sheet_index, index + 1)
        table.rows.append(SheetRow(row_place, values))
    result.tables.append(table)


def read_sheets(path: Path) -> ReadResult:
    """Every roster table in an XLSX or CSV file; a sheet without our headers is noted, skipped."""
    result = ReadResult()
    file = path.name
    try:
        if path.suffix.casefold() == ".csv":
            _table(_grid_of_csv(_decode(path)), Place(file), result)
        else:
            workbook = load_workbook(path, data_only=True)
            for index, sheet in enumerate(workbook.worksheets):
                _table(_grid_of_sheet(sheet), Place(file, sheet.title, index), result)
    except FileNotFoundError:
        result.problems.append(SheetProblem(Place(file), "file not found"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        expected = "an Excel workbook (.xlsx) or a CSV file (.csv)"
        result.problems.append(
            SheetProblem(Place(file), f"cannot be read: expected {expected} ({exc})")
        )
    if not result.tables and not result.problems:
        needed = " and ".join(header_of(k) for k in REQUIRED)
        result.problems.append(
            SheetProblem(Place(file), f"no roster table found: expected a header row with {needed}")
        )
    return result
