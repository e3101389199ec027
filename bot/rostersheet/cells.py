"""Cell values as offices write them: dates, clock times, weekdays, names and phone numbers.

Each parser takes what a spreadsheet reader gives (text, a number, a date or time) and either
returns the value or raises ``ValueError`` whose text says what was expected.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

_EXCEL_EPOCH = datetime(1899, 12, 30)
_SERIAL_RANGE = (20000, 80000)  # Excel day numbers from 1954 to 2119: certainly a date

DATE_HINT = "a date like 2026-12-01, 2026年12月1日 or 12/1"
TIME_HINT = "a time like 08:00, 8:00 or 次日8:00 (the next day)"
WEEKDAY_HINT = "a weekday like 星期一, 周一, 一 or Monday"

_FULL_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_SHORT_DATE = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_CLOCK = re.compile(r"^(\d{1,2})\s*[:：时点]\s*(\d{1,2})?\s*分?(?:[:：]\d{1,2})?$")
_NEXT_DAY = ("次日", "翌日", "第二天", "next day", "+1")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")

WEEKDAYS_ZH = ("一", "二", "三", "四", "五", "六", "日")
_WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SEPARATORS = re.compile(r"[、,，;；/\n]+")
_SPACES = re.compile(r"\s+")


def is_blank(value: object) -> bool:
    """Tell whether a cell is empty (nothing, or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())


def show(value: object) -> str:
    """A cell value quoted the way an error message shows it."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return repr(value.strip() if isinstance(value, str) else value)


def _nearest_year(month: int, day: int, reference: date) -> date:
    candidates = []
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError
    return min(candidates, key=lambda d: abs((d - reference).days))


def parse_date(value: object, reference: date) -> date:
    """A date cell; a date written without its year takes the year nearest ``reference``."""
    try:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = value.strip() if isinstance(value, str) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
        if text is None:
            raise ValueError
        if _NUMBER.match(text) and _SERIAL_RANGE[0] <= float(text) < _SERIAL_RANGE[1]:
            return (_EXCEL_EPOCH + timedelta(days=int(float(text)))).date()
        if found := _FULL_DATE.match(text):
            return date(*(int(g) for g in found.groups()))
        if found := _SHORT_DATE.match(text):
            return _nearest_year(int(found[1]), int(found[2]), reference)
        raise ValueError
    except ValueError:
        raise ValueError(f"expected {DATE_HINT}, got {show(value)}") from None


def _clock(text: str) -> timedelta:
    found = _CLOCK.match(text)
    if not found:
        raise ValueError
    hours, minutes = int(found[1]), int(found[2] or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError
    return timedelta(hours=hours, minutes=minutes)


def parse_time(value: object, day: date) -> datetime:
    """A clock-time cell on ``day`` (naive local): ``08:00``, ``次日8:00``, or an Excel time.

    An Excel time is a fraction of a day (0.5 is noon; 1.25 is 06:00 the next day); ``24:00``
    is midnight at the end of ``day``.
    """
    midnight = datetime.combine(day, time())
    try:
        if isinstance(value, datetime):
            if value.year < 1901:  # an Excel time of a day or more, counted from Excel's epoch
                return midnight + (value - _EXCEL_EPOCH)
            return value.replace(tzinfo=None)
        if isinstance(value, time):
            return datetime.combine(day, value.replace(tzinfo=None))
        if isinstance(value, timedelta):
            return midnight + value
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not 0 <= value < 2:
                raise ValueError
            return midnight + timedelta(minutes=round(value * 24 * 60))
        if not isinstance(value, str):
            raise ValueError
        text = value.strip()
        offset = timedelta()
        for prefix in _NEXT_DAY:
            if text.casefold().startswith(prefix):
                text, offset = text[len(prefix) :].strip(), timedelta(days=1)
                break
        if _NUMBER.match(text):
            return parse_time(float(text), day) + offset
        return midnight + offset + _clock(text)
    except ValueError:
        raise ValueError(f"expected {TIME_HINT}, got {show(value)}") from None


def parse_weekday(value: object) -> int:
    """A weekday cell as 0 (Monday) to 6 (Sunday)."""
    if isinstance(value, datetime | date):
        return value.weekday()
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        return value - 1
    text = value.strip().casefold() if isinstance(value, str) else ""
    for prefix in ("星期", "礼拜", "周"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
            break
    if text == "天":
        return 6
    if text in WEEKDAYS_ZH:
        return WEEKDAYS_ZH.index(text)
    if text.isdigit() and 1 <= int(text) <= 7:
        return int(text) - 1
    for index, name in enumerate(_WEEKDAYS_EN):
        if len(text) >= 3 and name.startswith(text.rstrip(".")):
            return index
    raise ValueError(f"expected {WEEKDAY_HINT}, got {show(value)}")


def weekday_zh(day: date) -> str:
    """The weekday of a date as a duty roster writes it: 星期一 … 星期日."""
    return "星期" + WEEKDAYS_ZH[day.weekday()]


def split_names(value: object) -> list[str]:
    """The names in a cell; several are separated by 、 , ; / or a line break (not by spaces)."""
    if is_blank(value):
        return []
    return [part.strip() for part in _SEPARATORS.split(str(value)) if part.strip()]


def split_phones(value: object) -> list[str]:
    """The phone numbers in a cell; a number Excel stored as a number is written without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return split_names(value)


def name_key(text: str) -> str:
    """A name as compared with the roster: without any spaces, case folded (王  芳 is 王芳)."""
    return _SPACES.sub("", text).casefold()
