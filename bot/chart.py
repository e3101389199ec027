"""The bulletin's chart: report deadlines on time, late and missing per unit, as a PNG.

Chinese labels need a CJK font. The project depends on ``justmytype-intl-cjk``, which ships Noto
Sans SC as a file, so a fresh install draws Chinese; failing that, a CJK font installed on the
machine is used; with none, ``cjk_font()`` is ``None`` (one warning is logged) and the caller
draws Latin labels instead of empty boxes.
"""

from __future__ import annotations

import dataclasses
import logging
from functools import cache
from importlib import resources
from io import BytesIO
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen: render to memory

from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

log = logging.getLogger(__name__)

SAMPLE = "值班通报首报迟报漏报按时"  # glyphs a usable font must have
SYSTEM_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei")
COLOURS = ("#2e7d32", "#ef6c00", "#c62828", "#1565c0", "#6a1b9a")


def _packaged_font() -> Path | None:
    try:
        fonts = resources.files("justmytype_intl_cjk") / "fonts"
    except ModuleNotFoundError:
        return None
    found = sorted(Path(str(fonts)).glob("**/NotoSansSC*.[ot]tf"))
    return found[0] if found else None


def _system_font() -> Path | None:
    for family in SYSTEM_FAMILIES:
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        return Path(path)
    return None


def has_glyphs(path: Path, text: str = SAMPLE) -> bool:
    """Whether the font file draws every character of ``text``."""
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(path))
    return all(font.get_char_index(ord(c)) for c in text if not c.isspace())


def _register(path: Path) -> None:
    """Add the font to matplotlib as a regular weight (a variable font reports its lightest
    instance, and matplotlib would warn on every lookup)."""
    manager = font_manager.fontManager
    manager.addfont(str(path))
    manager.ttflist = [
        dataclasses.replace(entry, weight=400) if Path(entry.fname) == path else entry
        for entry in manager.ttflist
    ]
    font_manager.fontManager._findfont_cached.cache_clear()  # type: ignore[attr-defined]


@cache
def cjk_font() -> str | None:
    """The family name of a CJK font registered with matplotlib, or ``None`` (warned once)."""
    for path in (_packaged_font(), _system_font()):
        if path is not None and has_glyphs(path):
            _register(path)
            return font_manager.FontProperties(fname=str(path)).get_name()
    log.warning("no CJK font found: the bulletin's chart is drawn with Latin labels")
    return None


def chart_font_path() -> Path | None:
    """The file of the font the chart uses (``None`` when there is no CJK font)."""
    family = cjk_font()
    if family is None:
        return None
    return Path(font_manager.findfont(font_manager.FontProperties(family=family)))


def on_time_chart(units: list[str], series: list[tuple[str, list[int]]], *, title: str) -> bytes:
    """Stacked horizontal bars, one per unit, one colour per series; returns PNG bytes."""
    family = cjk_font()
    height = max(2.5, 0.5 * len(units) + 1.5)
    with plt.rc_context({"font.family": [family] if family else ["DejaVu Sans"]}):
        figure: Figure = plt.figure(figsize=(7, height), dpi=100)
        try:
            axes = figure.add_subplot()
            positions = list(range(len(units)))
            left = [0] * len(units)
            for (label, values), colour in zip(series, COLOURS, strict=False):
                axes.barh(positions, values, left=left, color=colour, label=label)
                left = [a + b for a, b in zip(left, values, strict=True)]
            axes.set_yticks(positions, labels=units)
            axes.invert_yaxis()
            axes.set_title(title)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
            figure.tight_layout()
            buffer = BytesIO()
            figure.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()
        finally:
            plt.close(figure)
