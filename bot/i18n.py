"""The translation layer: gettext catalogs (English msgids, Simplified Chinese .po) via Babel.

Mark text with ``tr._("...")`` where a translator for the reader is at hand and with ``N_("...")``
where text is defined before its reader is known; Babel's extractor finds both (``babel.cfg``).
The ``.po`` files are compiled in memory at first use, so there is no build step and no stale
``.mo`` file.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.settings import LANGUAGES

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "dutybot"
LANGUAGE_NAMES = {"en": "English", "zh": "简体中文"}


def N_(message: str) -> str:
    """Mark a string for translation without translating it yet."""
    return message


class Translator:
    """The text of one language."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def _(self, message: str) -> str:
        """Translate one message."""
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """Translate a message whose form depends on ``count``."""
        return self._translations.ngettext(singular, plural, count)


def catalog_path(language: str) -> Path:
    """Where the ``.po`` file of a language lives."""
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translator(language: str) -> Translator:
    """The translator for a language; English (the msgids themselves) for anything unknown."""
    path = catalog_path(language)
    if language == "en" or not path.exists():
        return Translator(
            "en" if language not in LANGUAGES else language, gettext.NullTranslations()
        )
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translator(language, gettext.GNUTranslations(buffer))


def normalise_language(code: str | None) -> str | None:
    """Map a Telegram ``language_code`` (``zh-hans``, ``en-US``) to a supported language."""
    if not code:
        return None
    base = code.lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def pick_language(
    *, chosen: str | None, roster: str | None, telegram: str | None, default: str
) -> str:
    """The user's language: their ``/lang`` choice, else the roster, else Telegram, else config."""
    for candidate in (chosen, roster, normalise_language(telegram)):
        if candidate in LANGUAGES:
            return candidate
    return default
