"""Map furniture: extent fitting, scale bar, north arrow, overview inset.

The map axes are in the dataset's metric CRS (metres), so a scale bar of
500 m is exactly 500 axis units long, whatever the paper size. The north
arrow leans by the meridian convergence (true north, not grid north).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from maps.drawing import draw_polygons
from maps.print_style import DISTRICT_EDGE, TEXT_COLOR
from maps.wording import words

Extent = tuple[float, float, float, float]


def fit_extent(bounds: Extent, box_aspect: float, *, margin: float = 0.06, min_span_m: float = 300.0) -> Extent:
    """``bounds`` grown by ``margin`` and to the axes' aspect (height / width), centred.

    A single 10 m compound would otherwise fill a whole page; ``min_span_m``
    keeps enough surroundings to find it on the ground.
    """
    xmin, ymin, xmax, ymax = bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    width = max(xmax - xmin, min_span_m) * (1 + 2 * margin)
    height = max(ymax - ymin, min_span_m) * (1 + 2 * margin)
    if height / width > box_aspect:
        width = height / box_aspect
    else:
        height = width * box_aspect
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def nice_scale_length(max_m: float) -> float:
    """The longest 1, 2 or 5 x 10^k metres not longer than ``max_m``."""
    if not math.isfinite(max_m) or max_m <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(max_m))
    for lead in (5, 2, 1):
        if lead * power <= max_m:
            return float(lead * power)
    return float(power)


def scale_label(length_m: float, lang: str) -> tuple[float, str]:
    """(divisor, unit word): kilometres from 1 km up."""
    w = words(lang)
    return (1000.0, w["km"]) if length_m >= 1000 else (1.0, w["m"])


# Scale bar layout, in points on paper: the gap to the map's edge, the padding of its white box,
# the height of the bar, and the gap between bar and figures.
SCALE_EDGE_PT, SCALE_PAD_PT, SCALE_BAR_PT, SCALE_GAP_PT = 5.0, 3.0, 3.0, 1.5
SCALE_CORNERS: tuple[str, ...] = ("lower left", "lower right", "upper left", "upper right")


def _points_to_data(ax: Any, extent: Extent) -> tuple[float, float]:
    """Metres per point on paper along x and y for an axes showing ``extent``."""
    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    width_pt, height_pt = max(box.width * fig_w * 72, 1e-6), max(box.height * fig_h * 72, 1e-6)
    return (extent[2] - extent[0]) / width_pt, (extent[3] - extent[1]) / height_pt


def _text_width_pt(text: str, fontsize: float) -> float:
    """A generous width of ``text`` at ``fontsize``: CJK characters a full em, others 0.62 em."""
    return sum(fontsize if ord(ch) > 0x2E80 else 0.62 * fontsize for ch in text)


def scale_bar_box(
    ax: Any, extent: Extent, lang: str, *, corner: str = "lower left", fraction: float = 0.2, fontsize: float = 7.0
) -> tuple[float, float, float, float, float]:
    """Where a scale bar goes: (x0, y0, x1, y1) of its white box in metres, and its length in metres.

    The box holds the bar and its figures and lies inside the map by a few points on paper,
    in ``corner``; a bar longer than the map leaves room for is shortened to fit.
    """
    xmin, ymin, xmax, ymax = extent
    width = xmax - xmin
    per_x, per_y = _points_to_data(ax, extent)
    length_m = nice_scale_length(width * fraction)
    divisor, unit = scale_label(length_m, lang)
    first = _text_width_pt("0", fontsize) / 2
    last = _text_width_pt(f"{length_m / divisor:g} {unit}", fontsize) / 2
    room = width - 2 * (SCALE_EDGE_PT + SCALE_PAD_PT) * per_x - (first + last) * per_x
    while length_m > 1 and length_m > room:
        length_m = nice_scale_length(length_m * 0.99)
        divisor, unit = scale_label(length_m, lang)
        last = _text_width_pt(f"{length_m / divisor:g} {unit}", fontsize) / 2
    box_w = length_m + (2 * SCALE_PAD_PT + first + last) * per_x
    box_h = (2 * SCALE_PAD_PT + SCALE_BAR_PT + SCALE_GAP_PT + 1.25 * fontsize) * per_y
    edge_x, edge_y = SCALE_EDGE_PT * per_x, SCALE_EDGE_PT * per_y
    x0 = xmin + edge_x if "left" in corner else xmax - edge_x - box_w
    y0 = ymax - edge_y - box_h if "upper" in corner else ymin + edge_y
    return x0, y0, x0 + box_w, y0 + box_h, length_m


def add_scale_bar(
    ax: Any,
    extent: Extent,
    lang: str,
    *,
    fraction: float = 0.2,
    fontsize: float = 7.0,
    corner: str = "lower left",
) -> float:
    """A segmented black-and-white bar on a white box inside the map, in ``corner``; returns its length in metres.

    Its box is :func:`scale_bar_box` (``draw_map`` picks the corner where it hides no feature).
    """
    from matplotlib.patches import Rectangle

    bx0, by0, bx1, by1, length_m = scale_bar_box(ax, extent, lang, corner=corner, fraction=fraction, fontsize=fontsize)
    per_x, per_y = _points_to_data(ax, extent)
    lead = round(length_m / 10 ** math.floor(math.log10(length_m)))
    segments = 4 if lead == 2 else 5
    divisor, unit = scale_label(length_m, lang)
    x0 = bx0 + (SCALE_PAD_PT + _text_width_pt("0", fontsize) / 2) * per_x
    y0 = by0 + SCALE_PAD_PT * per_y
    bar_h = SCALE_BAR_PT * per_y
    ax.add_artist(
        Rectangle((bx0, by0), bx1 - bx0, by1 - by0, facecolor="white", edgecolor="none", alpha=0.9, zorder=20)
    )
    step = length_m / segments
    for i in range(segments):
        ax.add_artist(
            Rectangle(
                (x0 + i * step, y0),
                step,
                bar_h,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                zorder=21,
            )
        )
    for value in (0.0, length_m / 2, length_m):
        text = f"{value / divisor:g}"
        if value == length_m:
            text += f" {unit}"
        ax.text(
            x0 + value,
            y0 + bar_h + SCALE_GAP_PT * per_y,
            text,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            color=TEXT_COLOR,
            zorder=22,
            gid="respmap-scale-bar",
        )
    return length_m


def clearest_scale_corner(
    ax: Any, extent: Extent, lang: str, geoms: np.ndarray, corners: tuple[str, ...] = SCALE_CORNERS
) -> str:
    """The corner (in the order given) where the scale bar's box covers the least of ``geoms``; the first
    one that covers nothing wins."""
    import shapely

    best, best_score = corners[0], math.inf
    for corner in corners:
        x0, y0, x1, y1, _ = scale_bar_box(ax, extent, lang, corner=corner)
        score = _covered(geoms, shapely.box(x0, y0, x1, y1))
        if score < best_score - 1e-9:
            best, best_score = corner, score
        if score == 0:
            break
    return best


def data_aspect(bounds: Extent, *, margin: float, min_span_m: float = 300.0) -> float:
    """Height / width of ``bounds`` as :func:`fit_extent` grows them (margin, smallest span)."""
    width = max(bounds[2] - bounds[0], min_span_m)
    height = max(bounds[3] - bounds[1], min_span_m)
    return height / width


def snug_rect(
    rect: tuple[float, float, float, float], fig_size_in: tuple[float, float], aspect: float
) -> tuple[float, float, float, float]:
    """The largest axes rect inside ``rect`` (figure fractions) with height / width ``aspect`` on paper:
    centred across, top kept, so the map's frame hugs the data instead of leaving white bands."""
    left, bottom, width, height = rect
    width_in, height_in = width * fig_size_in[0], height * fig_size_in[1]
    if height_in / width_in > aspect:
        new_height_in = width_in * aspect
        new_height = new_height_in / fig_size_in[1]
        return left, bottom + height - new_height, width, new_height
    new_width = height_in / aspect / fig_size_in[0]
    return left + (width - new_width) / 2, bottom, new_width, height


def add_north_arrow(
    ax: Any, lang: str, *, convergence_deg: float = 0.0, size: float = 0.06, corner: str = "upper right"
) -> tuple[float, float, float, float]:
    """A half-black arrow pointing to true north in a top corner; returns its box in axes fractions."""
    from matplotlib.patches import Polygon

    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    aspect = (box.height * fig_h) / (box.width * fig_w)  # axes height / width on paper
    box_h = ax.get_position().height * fig_h
    size = min(size, 0.6 / max(box_h, 1e-6))  # never taller than about 15 mm on paper
    cx, cy = (0.06 if "left" in corner else 0.94), 1 - 0.05 - size * 0.75
    half_w, length = size * 0.35 * aspect, size
    angle = math.radians(-convergence_deg)

    def rotate(points: list[tuple[float, float]]) -> np.ndarray:
        result = []
        for dx, dy in points:
            # rotate in paper units, then back to axes fractions
            px, py = dx / aspect, dy
            rx = px * math.cos(angle) - py * math.sin(angle)
            ry = px * math.sin(angle) + py * math.cos(angle)
            result.append((cx + rx * aspect, cy + ry))
        return np.array(result)

    tip, base = (0.0, length / 2), -length / 2
    left = rotate([tip, (-half_w, base), (0.0, base + length * 0.25)])
    right = rotate([tip, (half_w, base), (0.0, base + length * 0.25)])
    ax.add_artist(
        Polygon(
            left, closed=True, facecolor="black", edgecolor="black", linewidth=0.6, transform=ax.transAxes, zorder=21
        )
    )
    ax.add_artist(
        Polygon(
            right, closed=True, facecolor="white", edgecolor="black", linewidth=0.6, transform=ax.transAxes, zorder=21
        )
    )
    label = rotate([(0.0, length / 2 + 0.012)])[0]
    ax.text(
        label[0],
        label[1],
        words(lang)["north"],
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        color=TEXT_COLOR,
        zorder=22,
    )
    return cx - 0.06, cy - length / 2 - 0.01, cx + 0.06, cy + length / 2 + 0.05


def add_inset(
    fig: Any,
    ax: Any,
    district_geoms: np.ndarray,
    city_bounds: Extent,
    extent: Extent,
    lang: str,
    *,
    size: float = 0.26,
    corner: str = "upper left",
    inset: Any | None = None,
) -> Any:
    """A small overview of the whole city in a corner, the map's extent outlined on it.

    ``inset`` reuses an axes from an earlier page (the atlas): cleared and moved, not rebuilt.
    """
    from matplotlib.patches import Rectangle

    box = ax.get_position()
    fig_w, fig_h = fig.get_size_inches()
    city_w, city_h = city_bounds[2] - city_bounds[0], city_bounds[3] - city_bounds[1]
    width_in = box.width * fig_w * size
    height_in = width_in * max(city_h, 1.0) / max(city_w, 1.0)
    height_in = min(height_in, box.height * fig_h * 0.35)
    w, h = width_in / fig_w, height_in / fig_h
    pad_x, pad_y = 0.01 * box.width, 0.01 * box.height
    left = box.x0 + pad_x if "left" in corner else box.x1 - pad_x - w
    bottom = box.y1 - pad_y - h if "upper" in corner else box.y0 + pad_y
    if inset is None:
        inset = fig.add_axes((left, bottom, w, h), zorder=30)
        inset.set_facecolor("white")
    else:
        reset_axes(inset)
        inset.set_position((left, bottom, w, h))
    if len(district_geoms):
        draw_polygons(inset, district_geoms, facecolor="#eeeeee", edgecolor=DISTRICT_EDGE, linewidth=0.3)
    view = fit_extent(city_bounds, h * fig_h / (w * fig_w), margin=0.04)
    inset.set_xlim(view[0], view[2])
    inset.set_ylim(view[1], view[3])
    inset.set_aspect("equal", adjustable="box")
    ex_w, ex_h = extent[2] - extent[0], extent[3] - extent[1]
    # Tiny extents still show as a visible frame.
    min_w = 0.04 * (view[2] - view[0])
    if ex_w < min_w:
        grow = (min_w - ex_w) / 2
        extent = (extent[0] - grow, extent[1] - grow, extent[2] + grow, extent[3] + grow)
        ex_w, ex_h = extent[2] - extent[0], extent[3] - extent[1]
    inset.add_artist(
        Rectangle((extent[0], extent[1]), ex_w, ex_h, facecolor="none", edgecolor="black", linewidth=1.4, zorder=5)
    )
    inset.set_xticks([])
    inset.set_yticks([])
    for spine in inset.spines.values():
        spine.set_linewidth(0.6)
    return inset


def emptiest_corner(
    geoms: np.ndarray,
    extent: Extent,
    width_frac: float,
    height_frac: float,
    corners: tuple[str, ...],
    *,
    others: np.ndarray | None = None,
) -> str:
    """The corner of the map whose box (axes fractions) hides the least of the subject.

    An overview inset must not hide the zones the page is about (``geoms``);
    among corners that hide none of them, the one hiding least of ``others``.
    """
    import shapely

    xmin, ymin, xmax, ymax = extent
    w, h = (xmax - xmin) * width_frac, (ymax - ymin) * height_frac
    best, best_score = corners[0], math.inf
    for corner in corners:
        x0 = xmin if "left" in corner else xmax - w
        y0 = ymax - h if "upper" in corner else ymin
        box = shapely.box(x0, y0, x0 + w, y0 + h)
        score = _covered(geoms, box) * 1e6 + (_covered(others, box) if others is not None else 0.0)
        if score < best_score - 1e-9:
            best, best_score = corner, score
    return best


def _covered(geoms: np.ndarray, box: Any) -> float:
    """How much of ``geoms`` lies in ``box``: area, plus lines counted 20 m wide, plus points 400 m²."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return 0.0
    hit = shapely.intersection(geoms, box)
    points = np.isin(shapely.get_type_id(hit), (0, 4)) & ~shapely.is_empty(hit)
    return float(np.sum(shapely.area(hit)) + np.sum(shapely.length(hit)) * 20 + np.count_nonzero(points) * 400)


def reset_axes(ax: Any) -> None:
    """Remove everything drawn on ``ax`` but keep the axes itself.

    Building an Axes (its axis, ticks, spines) costs far more than drawing a
    page of an atlas; ``Axes.clear`` rebuilds them too. Removing the artists
    keeps the axes for the next page.
    """
    for group in (ax.patches, ax.collections, ax.texts, ax.lines, ax.images, ax.artists):
        for artist in list(group):
            artist.remove()
    ax.legend_ = None


def style_map_axes(ax: Any, extent: Extent) -> None:
    """Equal-aspect axes in metres without ticks, with a thin neat line."""
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
        spine.set_color("#333333")
