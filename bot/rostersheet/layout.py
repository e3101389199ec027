"""The columns of an office roster spreadsheet and the headers that name them."""

from __future__ import annotations

import re
from datetime import time

#: Column key → accepted headers; the first one is what an export writes.
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("日期", "date", "值班日期"),
    "weekday": ("星期", "weekday", "day of week"),
    "shift": ("班次", "shift"),
    "start": ("开始时间", "start", "start time", "起始时间"),
    "end": ("结束时间", "end", "end time", "截止时间"),
    "leader": ("带班领导", "leader", "leader on duty"),
    "leader_phone": ("带班领导电话", "leader phone", "领导电话"),
    "officer": ("值班员", "officer", "duty officer", "值班人员"),
    "officer_phone": ("值班员电话", "officer phone"),
    "backup": ("备班", "backup", "backup officer", "备班人员"),
    "notes": ("备注", "notes", "note", "remarks"),
}

#: The columns a header row must have to be recognised as the table's header.
REQUIRED = ("date", "officer")

#: Roster position → (the column of names, the column of their phones or ``None``).
POSITION_COLUMNS: dict[str, tuple[str, str | None]] = {
    "leader": ("leader", "leader_phone"),
    "officer": ("officer", "officer_phone"),
    "backup": ("backup", None),
}

#: When a sheet has no time columns, each row is a duty day from this local time to the next day's.
DEFAULT_HANDOVER = time(8, 0)

_IGNORED = re.compile(r"[\s_\-:：（）()]+")


def normalise_header(text: str) -> str:
    """A header reduced to what matters: no spaces, underscores or brackets, case folded."""
    return _IGNORED.sub("", text).casefold()


_BY_HEADER = {normalise_header(h): key for key, headers in COLUMNS.items() for h in headers}


def column_for(header: object) -> str | None:
    """The column key a header cell names, or ``None`` when it is not one of ours."""
    if not isinstance(header, str):
        return None
    return _BY_HEADER.get(normalise_header(header))


def header_of(key: str) -> str:
    """The Chinese header of a column key, as an export writes it."""
    return COLUMNS[key][0]
