"""The translation layer: every user-facing string has a current Chinese translation."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import catalog_path, normalise_language, pick_language, translator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from update_catalogs import extract

PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _zh_catalog() -> dict[str, str]:
    with catalog_path("zh").open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    return {m.id: m.string for m in catalog if m.id and not m.fuzzy}  # type: ignore[misc]


def test_every_message_in_the_code_has_a_chinese_translation() -> None:
    zh = _zh_catalog()
    messages = {m.id for m in extract() if m.id}
    assert messages, "the extractor found no messages: the check would pass vacuously"
    missing = sorted(m for m in messages if not zh.get(m))
    assert not missing, f"untranslated: {missing}"


def test_the_catalog_holds_no_stale_entries() -> None:
    messages = {m.id for m in extract() if m.id}
    stale = sorted(set(_zh_catalog()) - messages)
    assert not stale, f"run scripts/update_catalogs.py; stale: {stale}"


def test_translations_keep_every_placeholder() -> None:
    for msgid, msgstr in _zh_catalog().items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(msgstr)), msgid


def test_translator_translates_and_falls_back_to_english() -> None:
    assert translator("zh")._("On duty now:") == "当前在岗："
    assert translator("en")._("On duty now:") == "On duty now:"
    assert translator("fr")._("On duty now:") == "On duty now:"


def test_language_preference_order() -> None:
    assert pick_language(chosen="en", roster="zh", telegram="zh", default="zh") == "en"
    assert pick_language(chosen=None, roster="zh", telegram="en", default="en") == "zh"
    assert pick_language(chosen=None, roster=None, telegram="zh-hans", default="en") == "zh"
    assert pick_language(chosen=None, roster=None, telegram="de", default="zh") == "zh"
    assert normalise_language("en-US") == "en"
    assert normalise_language(None) is None
