"""Colours, hatches and line styles that survive a black-and-white printer.

Report writers print on office laser printers, usually in grey. A categorical
palette whose colours share one lightness turns into one grey; this one steps
its CIELAB lightness L* from 25 to 90 (each colour at least 6.5 L* from every
other) while alternating hue, so the categories stay apart on paper in colour
and in grey. With ``hatch=True`` every category also gets its own hatch
(polygons), dash pattern (lines) and marker (points), for more categories than
greys can tell apart, or for photocopies of photocopies.

Ordinal categories (standard grades 一级 to 四级) get one hue whose lightness
falls with the grade, so "darker = cleaner more often" reads the same in grey.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# L* of each: 24.7, 31.6, 42.8, 51.4, 61.8, 71.0, 82.0, 90.0 (see lightness()).
CATEGORY_COLORS: tuple[str, ...] = (
    "#1f3a68",  # navy
    "#8e1f2a",  # dark red
    "#2b7335",  # green
    "#9a66b3",  # purple
    "#e07b1f",  # orange
    "#6fb6e0",  # sky blue
    "#b8d86b",  # yellow-green
    "#f6e38a",  # pale yellow
)
# Lightness 21 -> 86 in one blue hue: for ordered categories.
ORDINAL_COLORS: tuple[str, ...] = ("#08306b", "#2171b5", "#6baed6", "#c6dbef", "#eef5fc")
HATCHES: tuple[str, ...] = ("", "////", "\\\\\\\\", "....", "xxxx", "----", "||||", "++++", "oo", "**")
LINE_DASHES: tuple[object, ...] = (
    "-",
    (0, (6, 2)),
    (0, (1, 1.5)),
    (0, (6, 2, 1, 2)),
    (0, (3, 1.5)),
    (0, (8, 2, 1, 2, 1, 2)),
    (0, (2, 3)),
    (0, (10, 3)),
)
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")

# Background and context: light enough that categories drawn over them win.
DISTRICT_FILL = "#f4f4f1"
DISTRICT_EDGE = "#555555"
CONTEXT_FILL = "#d9d9d9"
CONTEXT_EDGE = "#b0b0b0"
OTHER_COLOR = "#cfcfcf"
# Unheld ground must stand out in colour and in grey: white with a dark cross hatch.
UNHELD_FACE = "#ffffff"
UNHELD_EDGE = "#c00000"
UNHELD_HATCH = "xxx"
TEXT_COLOR = "#222222"


@dataclass(frozen=True, slots=True)
class CategoryStyle:
    """How one legend entry is drawn, for each kind of geometry."""

    key: str
    label: str
    color: str
    edgecolor: str
    hatch: str = ""
    linestyle: object = "-"
    marker: str = "o"
    linewidth_pt: float = 1.6


def lightness(color: str) -> float:
    """CIELAB L* (0 black .. 100 white) of a ``#rrggbb`` colour: what a grey printer keeps."""
    text = color.lstrip("#")
    channels = [int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 116 * luminance ** (1 / 3) - 16 if luminance > 0.008856 else 903.3 * luminance


def grey_of(color: str) -> str:
    """The grey a printer would use for ``color`` (same L*), for previews and tests."""
    target = lightness(color)
    low, high = 0.0, 1.0
    for _ in range(30):
        mid = (low + high) / 2
        value = "#" + f"{round(mid * 255):02x}" * 3
        if lightness(value) < target:
            low = mid
        else:
            high = mid
    return "#" + f"{round(low * 255):02x}" * 3


def darker(color: str, factor: float = 0.6) -> str:
    """The same hue darker: outlines that stay visible around light fills."""
    text = color.lstrip("#")
    channels = [int(int(text[i : i + 2], 16) * factor) for i in (0, 2, 4)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def categorical_styles(keys: Sequence[str], labels: Sequence[str], *, hatch: bool = False) -> list[CategoryStyle]:
    """One style per category, in order; the colours cycle after eight.

    A palette has only eight lightness steps; past them colours repeat, so the
    repeats always get a hatch (and a dash, and a marker) to stay distinct,
    whether or not ``hatch`` was asked for.
    """
    styles: list[CategoryStyle] = []
    n_colors = len(CATEGORY_COLORS)
    for position, (key, label) in enumerate(zip(keys, labels, strict=True)):
        color = CATEGORY_COLORS[position % n_colors]
        cycle = position // n_colors
        patterned = hatch or cycle > 0
        pattern = position if hatch else cycle
        styles.append(
            CategoryStyle(
                key=key,
                label=label,
                color=color,
                edgecolor=darker(color),
                hatch=HATCHES[pattern % len(HATCHES)] if patterned else "",
                linestyle=LINE_DASHES[pattern % len(LINE_DASHES)] if patterned else "-",
                marker=MARKERS[position % len(MARKERS)] if patterned else "o",
            )
        )
    return styles


def ordinal_styles(keys: Sequence[str], labels: Sequence[str], *, hatch: bool = False) -> list[CategoryStyle]:
    """Styles for ordered categories (best grade first): darkest first."""
    n = len(keys)
    if n <= len(ORDINAL_COLORS):
        picks = list(range(n))
    else:
        picks = [round(i * (len(ORDINAL_COLORS) - 1) / max(n - 1, 1)) for i in range(n)]
    return [
        CategoryStyle(
            key=key,
            label=label,
            color=ORDINAL_COLORS[pick],
            edgecolor="#333333",
            hatch=HATCHES[position % len(HATCHES)] if hatch else "",
            linestyle=LINE_DASHES[position % len(LINE_DASHES)] if hatch else "-",
            marker=MARKERS[position % len(MARKERS)] if hatch else "o",
        )
        for position, (key, label, pick) in enumerate(zip(keys, labels, picks, strict=True))
    ]


def unheld_style(label: str) -> CategoryStyle:
    return CategoryStyle(
        key="",
        label=label,
        color=UNHELD_FACE,
        edgecolor=UNHELD_EDGE,
        hatch=UNHELD_HATCH,
        linestyle=(0, (2, 1.5)),
        marker="X",
    )


def other_style(label: str) -> CategoryStyle:
    """The units beyond the legend's limit: grey with dots, apart from the plain grey of the context."""
    return CategoryStyle(
        key="__other__",
        label=label,
        color=OTHER_COLOR,
        edgecolor="#7a7a7a",
        hatch="...",
        linestyle=(0, (1, 1.2)),
        linewidth_pt=1.0,
    )


_CHINESE_DIGITS = {"特": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def grade_order(grade: str) -> tuple[int, str]:
    """Sort key for grade names: 一级 < 二级 < ... ; Grade 1 < Grade 2; unknown names last, by text."""
    text = str(grade).strip()
    if text and text[0] in _CHINESE_DIGITS:
        return _CHINESE_DIGITS[text[0]], text
    match = re.search(r"\d+", text)
    if match:
        return int(match.group()), text
    return 1000, text
