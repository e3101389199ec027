"""The bulletin's chart: initial reports on time and late per unit, as a PNG."""

from __future__ import annotations

from io import BytesIO

import matplotlib

matplotlib.use("Agg")  # no screen: render to memory

from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Chinese labels need a CJK font; the first one installed is used (DejaVu has no CJK glyphs).
plt.rcParams["font.sans-serif"] = [
    "Noto Sans CJK SC",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "DejaVu Sans",
]


def on_time_chart(
    units: list[str],
    on_time: list[int],
    late: list[int],
    *,
    title: str,
    on_time_label: str,
    late_label: str,
) -> bytes:
    """Stacked horizontal bars, one per unit; returns PNG bytes."""
    height = max(2.5, 0.5 * len(units) + 1.5)
    figure: Figure = plt.figure(figsize=(7, height), dpi=100)
    try:
        axes = figure.add_subplot()
        positions = list(range(len(units)))
        axes.barh(positions, on_time, color="#2e7d32", label=on_time_label)
        axes.barh(positions, late, left=on_time, color="#c62828", label=late_label)
        axes.set_yticks(positions, labels=units)
        axes.invert_yaxis()
        axes.set_title(title)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(loc="lower right")
        figure.tight_layout()
        buffer = BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
