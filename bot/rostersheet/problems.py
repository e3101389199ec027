"""Problems found in a spreadsheet, each placed by file, sheet, row and column."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    """Where in a spreadsheet something is: the sheet, the row and the column as Excel shows them."""

    file: str
    sheet: str | None = None
    sheet_index: int = 0
    row: int | None = None
    column: str | None = None  # the column letter, e.g. "H"
    header: str | None = None  # the header text of that column, e.g. "值班员"

    def at(self, column: str, header: str) -> Place:
        """The same row, another column."""
        return Place(self.file, self.sheet, self.sheet_index, self.row, column, header)

    def sort_key(self) -> tuple[int, int, int, str]:
        """Order of appearance: sheet, row, column."""
        letters = self.column or ""
        return (self.sheet_index, self.row or 0, len(letters), letters)

    def __str__(self) -> str:
        parts = [self.file]
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column} ({self.header})" if self.header else self.column)
        return ", ".join(parts)


@dataclass(frozen=True)
class SheetProblem:
    """One thing wrong with a spreadsheet, and what was expected instead."""

    place: Place
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"


class SheetError(Exception):
    """A spreadsheet that cannot be imported: every problem found, in order of appearance."""

    def __init__(self, problems: Iterable[SheetProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.place.sort_key())
        super().__init__("\n".join(str(p) for p in self.problems))
