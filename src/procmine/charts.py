"""The report's charts, drawn with matplotlib as SVG text (glyphs drawn as paths, so a chart
needs no font where it is opened): the on-time rate by month, the drivers of lateness and the
portfolio against the targets.

>>> rates = pd.DataFrame({"month": ["2024-10", "2024-11"], "on_time_rate": [0.8, 0.9],
...                       "judged": [40, 50]})
>>> on_time_chart(rates, "vi").startswith("<?xml")
True
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

from procmine.formats import format_percent
from procmine.labels import label

__all__ = ["FONTS", "drivers_chart", "on_time_chart", "targets_chart"]

# Fonts with every Vietnamese letter (fonts-noto-core); matplotlib falls back along the list.
FONTS = ["Noto Sans", "DejaVu Sans"]
_BLUE, _RED, _GREEN, _GREY = "#08519c", "#a50f15", "#238b45", "#969696"
_TARGET_WORDS = {
    "simplified_share": ("Thủ tục được đơn giản hóa", "Procedures simplified"),
    "cost_cut": ("Chi phí tuân thủ cắt giảm", "Compliance cost cut"),
    "reviewed_share": ("Thủ tục được rà soát", "Procedures reviewed"),
}


@contextmanager
def _figure(width: float, height: float) -> Iterator[object]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    style = {"font.family": "sans-serif", "font.sans-serif": FONTS, "font.size": 9,
             "svg.fonttype": "path", "axes.spines.top": False, "axes.spines.right": False,
             "svg.hashsalt": "procmine"}  # fmt: skip
    with plt.rc_context(style):
        figure, axes = plt.subplots(figsize=(width, height))
        try:
            yield figure, axes
        finally:
            plt.close(figure)


def _svg(figure: object) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def on_time_chart(rates: pd.DataFrame, lang: str = "vi") -> str:
    """The on-time rate by month (a line, in %) over the cases judged each month (grey bars),
    from :func:`procmine.deadlines.on_time_rate` ``(by="month")``; SVG text."""
    with _figure(7.0, 2.6) as (figure, axes):
        months = rates["month"].astype(str).tolist()
        if lang == "vi":  # 2024-11 → 11/2024, as the report's tables write a month
            months = [f"{month[5:7]}/{month[:4]}" for month in months]
        volume = axes.twinx()
        volume.bar(months, rates["judged"], color=_GREY, alpha=0.35, width=0.7)
        volume.set_ylabel(label("judged", lang), color=_GREY)
        volume.spines["top"].set_visible(False)
        axes.set_zorder(volume.get_zorder() + 1)
        axes.patch.set_visible(False)
        axes.plot(months, 100 * rates["on_time_rate"], color=_BLUE, marker="o", markersize=3)
        axes.set_ylim(0, 105)
        axes.set_ylabel(f"{label('on_time_rate', lang)} (%)", color=_BLUE)
        step = max(1, len(months) // 12)
        axes.set_xticks(range(0, len(months), step), months[::step], rotation=45, ha="right")
        axes.grid(axis="y", alpha=0.3)
        return _svg(figure)


def targets_chart(summary: pd.DataFrame, lang: str = "vi") -> str:
    """The portfolio against its targets: one bar per target (achieved, green when met, red
    when not) and a black mark at what is required, from :attr:`Portfolio.summary`; SVG text.
    """
    index = 0 if lang == "vi" else 1
    with _figure(7.0, 0.55 * len(summary) + 0.7) as (figure, axes):
        names = [_TARGET_WORDS.get(t, (t, t))[index] for t in summary["target"]]
        achieved = 100 * summary["achieved"].astype(float)
        colours = [_GREEN if met else _RED for met in summary["met"]]
        axes.barh(names, achieved, color=colours, height=0.5)
        for row, (value, required) in enumerate(zip(achieved, summary["required"], strict=True)):
            axes.plot([100 * required] * 2, [row - 0.35, row + 0.35], color="black", lw=2)
            axes.text(value + 1, row, format_percent(value / 100, lang), va="center")
        axes.invert_yaxis()
        axes.set_xlim(0, max(100.0, float(achieved.max()) + 10))
        axes.set_xlabel("%")
        return _svg(figure)


def drivers_chart(drivers: pd.DataFrame, lang: str = "vi") -> str:
    """What makes dossiers late: one bar per driver, its permutation importance (the held-out
    score lost when it is shuffled) with its 95 % interval, most important on top, from
    :func:`procmine.drivers.delay_drivers`; SVG text."""
    with _figure(7.0, 0.32 * len(drivers) + 0.8) as (figure, axes):
        names = [name if len(name) <= 60 else name[:57] + "…" for name in drivers["driver"]]
        importance = drivers["importance"].astype(float)
        errors = [importance - drivers["low"], drivers["high"] - importance]
        axes.barh(range(len(names)), importance, xerr=errors, color=_BLUE, height=0.6,
                  error_kw={"ecolor": _GREY, "capsize": 2})  # fmt: skip
        axes.set_yticks(range(len(names)), names)
        axes.invert_yaxis()
        axes.set_xlabel(label("importance_text", lang))
        axes.grid(axis="x", alpha=0.3)
        return _svg(figure)
