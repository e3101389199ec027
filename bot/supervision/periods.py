"""The bulletin's periods (SPEC §3.5): duty days, weeks and months in local time, each starting
at the handover hour (``bulletin.daily_at``). Pure functions of the settings' clock time and
timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY, WEEK, MONTH = "day", "week", "month"
PERIODS = (DAY, WEEK, MONTH)


def _at(day: date, handover: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, handover, tzinfo=tz)


def duty_date(moment: datetime, handover: time, tz: ZoneInfo) -> date:
    """The duty day ``moment`` belongs to: before the handover hour it is still yesterday's."""
    local = moment.astimezone(tz)
    return local.date() - timedelta(days=1) if local.time() < handover else local.date()


def first_day(kind: str, day: date) -> date:
    """The first duty day of the ``kind`` period holding ``day``: itself, that week's Monday,
    or that month's first."""
    if kind == DAY:
        return day
    if kind == WEEK:
        return day - timedelta(days=day.weekday())
    if kind == MONTH:
        return day.replace(day=1)
    raise ValueError(f"unknown period {kind!r}")


def next_first_day(kind: str, day: date) -> date:
    """The first duty day of the period after the one starting on ``day``."""
    if kind == DAY:
        return day + timedelta(days=1)
    if kind == WEEK:
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_of(
    kind: str, day: date, handover: time, tz: ZoneInfo, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The ``kind`` period holding duty day ``day``, as UTC ``[start, end)``; a period still
    running ends at ``now``."""
    first = first_day(kind, day)
    start = _at(first, handover, tz)
    end = _at(next_first_day(kind, first), handover, tz)
    if now is not None and end > now:
        end = max(start, now.astimezone(tz))
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_period(args: list[str], today: date) -> tuple[str, date | None] | None:
    """``[day|week|month] [date]`` as typed after ``/bulletin`` or ``/export bulletin``: the
    period (default ``day``) and the date (``2026-11-27``, ``11-27`` or ``11月27日`` in
    ``today``'s year; default none), or ``None`` when it does not parse."""
    words = [w.lower() for w in args]
    kind = words.pop(0) if words and words[0] in PERIODS else DAY
    if not words:
        return kind, None
    if len(words) > 1:
        return None
    text = words[0].replace("月", "-").replace("日", "").replace("/", "-")
    try:
        if text.count("-") == 1:
            month, day = (int(p) for p in text.split("-"))
            return kind, date(today.year, month, day)
        return kind, date.fromisoformat(text)
    except ValueError:
        return None
