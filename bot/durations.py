"""The duration syntax of config and roster files: ``90s``, ``5m``, ``2h``, ``1d``, ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([dhms])")
_WHOLE = re.compile(r"(?:\d+[dhms])+")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_ORDER = "dhms"

DURATION_HINT = "a duration like 90s, 5m, 2h, 1d or 1h30m"


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``1h30m``; raise ``ValueError`` for anything else.

    Units must appear at most once and from the largest to the smallest (``1h30m``, not
    ``30m1h``), and the result must be longer than zero.
    """
    candidate = text.strip() if isinstance(text, str) else ""
    if not candidate or not _WHOLE.fullmatch(candidate):
        raise ValueError(f"expected {DURATION_HINT}, got {text!r}")
    parts = _PART.findall(candidate)
    units = [unit for _, unit in parts]
    if units != sorted(set(units), key=_ORDER.index):
        raise ValueError(f"expected {DURATION_HINT} (each unit once, largest first), got {text!r}")
    seconds = sum(int(amount) * _UNIT_SECONDS[unit] for amount, unit in parts)
    if seconds <= 0:
        raise ValueError(f"expected {DURATION_HINT} longer than zero, got {text!r}")
    return timedelta(seconds=seconds)


def is_whole_days(text: str) -> bool:
    """Tell whether a valid duration is written in days only (``1d``, ``7d``).

    Such lengths are calendar days in the configured timezone (a handover keeps its local clock
    time across a daylight-saving change); every other length is exact elapsed time.
    """
    parts = _PART.findall(text.strip())
    return bool(parts) and all(unit == "d" for _, unit in parts)


def format_duration(value: timedelta) -> str:
    """Render a duration in the same syntax it is written in (``1h30m``)."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0s"
    out = []
    for unit in _ORDER:
        amount, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if amount:
            out.append(f"{amount}{unit}")
    return "".join(out)
