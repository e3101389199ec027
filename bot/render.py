"""Shared rendering: local times, role and position names, the user's words for our terms."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.duty_table import POSITION_NAMES
from bot.i18n import N_, Translator

ROLE_NAMES = {
    "field": N_("field staff"),
    "officer": N_("duty officer"),
    "leader": N_("leader on duty"),
    "supervisor": N_("supervisor"),
    "admin": N_("administrator"),
}
ROLE_ORDER = ("field", "officer", "leader", "supervisor", "admin")


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """A UTC moment as the configured timezone's ``YYYY-MM-DD HH:MM``."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def role_list(tr: Translator, roles: frozenset[str]) -> str:
    """A person's roles in the reader's language, in a stable order."""
    return tr._(", ").join(tr._(ROLE_NAMES[r]) for r in ROLE_ORDER if r in roles)


def position_name(tr: Translator, position: str) -> str:
    """A shift position in the reader's language."""
    return tr._(POSITION_NAMES[position])


QUOTE = "│ "  # every line of a user's words on a card starts with it


def quoted(text: str) -> str:
    """A user's words on a card, each line behind ``│ ``: a line they typed ("✅ Accepted by …")
    can never pass for one of the bot's own status lines."""
    return "\n".join(QUOTE + line for line in text.split("\n"))


def inline_quoted(text: str) -> str:
    """A user's words inside one of the bot's lines (a reason, a note): on one line, in
    quotation marks."""
    return "“" + " ".join(text.split("\n")) + "”"
