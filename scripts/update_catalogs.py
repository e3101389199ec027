"""Extract every marked string from the code and merge it into the .po catalogs.

Run ``python scripts/update_catalogs.py`` after adding or changing user-facing text, then fill in
the new (empty or fuzzy) entries of ``bot/locales/zh/LC_MESSAGES/dutybot.po``. The test suite
refuses a catalog with a missing or stale translation.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
SOURCES = ("bot", "handlers", "scheduling")


def extract() -> Catalog:
    """Every translatable message in the source tree."""
    template = Catalog(project="dutybot")
    for directory in SOURCES:
        for filename, lineno, message, comments, _ in extract_from_dir(
            ROOT / directory, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            template.add(
                message, None, [(f"{directory}/{filename}", lineno)], auto_comments=comments
            )
    return template


def main() -> None:
    """Merge the template into each language's catalog."""
    template = extract()
    for po_path in sorted((ROOT / "bot" / "locales").glob("*/LC_MESSAGES/dutybot.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parts[-3])
        catalog.update(template, no_fuzzy_matching=True)
        with po_path.open("wb") as handle:
            write_po(handle, catalog, omit_header=False, sort_output=False, width=100)
        print(f"updated {po_path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
