"""Reading numbers and words that people type: strict, so that hostile input is refused, never
crashes.

Only ASCII digits count (full-width digits, as Chinese keyboards type them, are converted first);
superscripts, circled numbers and other Unicode "digits" that ``str.isdigit`` accepts are refused,
as are signs, spaces inside a number and numbers too long to mean anything.
"""

from __future__ import annotations

import re

FULL_WIDTH = str.maketrans("０１２３４５６７８９＃", "0123456789#")
_ASCII_NUMBER = re.compile(r"[0-9]{1,12}")
MAX_NUMBER_DIGITS = 12


def normalise_digits(text: str) -> str:
    """Full-width digits and ``＃`` become ASCII; nothing else changes."""
    return text.translate(FULL_WIDTH)


def parse_number(text: str) -> int | None:
    """``17``, ``#17`` or ``＃１７`` → 17; anything else (``²``, ``①``, ``-3``, ``1e5``) → ``None``."""
    cleaned = normalise_digits(text.strip())
    cleaned = cleaned.removeprefix("#")
    if not _ASCII_NUMBER.fullmatch(cleaned):
        return None
    return int(cleaned)


def parse_count(text: str, limit: int = 99_999) -> int | None:
    """A whole number of people (``0``…``limit``), strictly ASCII or full-width digits."""
    cleaned = normalise_digits(text.strip())
    if not re.fullmatch(r"[0-9]{1,6}", cleaned):
        return None
    value = int(cleaned)
    return value if value <= limit else None


# Characters a user's text may not carry into the database or onto a card: NUL (PostgreSQL
# refuses it), other C0/C1 controls but newline and tab, and the bidirectional overrides and
# isolates that can make a line read backwards.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """User text made safe to store and show: controls and direction overrides removed."""
    return _UNSAFE.sub("", text)


CASUALTY_KINDS = ("dead", "injured", "missing", "trapped")


def parse_casualties(text: str) -> dict[str, int] | None:
    """Four whole numbers — dead, injured, missing, trapped — separated by spaces or commas."""
    parts = normalise_digits(text).replace(",", " ").replace("，", " ").split()
    counts = [parse_count(part) for part in parts]
    if len(counts) != len(CASUALTY_KINDS) or any(c is None for c in counts):
        return None
    return {kind: int(c or 0) for kind, c in zip(CASUALTY_KINDS, counts, strict=True)}
