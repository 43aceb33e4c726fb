"""Print-ready static maps (PNG, SVG, PDF) of the city, one unit or one district.

Report writers paste these into Word and print them, often in black and
white, so a map here is a page: A4 or A3, portrait or landscape, with a title,
a subtitle naming the dataset and its date, a categorical legend, a scale bar
in metres, a north arrow (true north), a source line and, for a unit or a
district, an overview inset. Chinese text uses a real CJK font (see
:mod:`maps.fonts`); colours step in lightness so they stay apart in grey (see
:mod:`maps.print_style`), with hatching on request.

Everything is drawn in the dataset's metric CRS from geometries prepared once
per date (:mod:`maps.scene`). Matplotlib is imported inside functions only,
with the Agg backend, so importing ``maps`` costs nothing and needs no display.

    >>> from maps.static import render_map, MapOptions
    >>> render_map(ds, "city.png")
    >>> render_map(ds, "u12.pdf", unit="U12", options=MapOptions(paper="A3", orientation="landscape", hatch=True))
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo import Dataset
from maps.cartography import (
    SCALE_CORNERS,
    Extent,
    add_inset,
    add_north_arrow,
    add_scale_bar,
    clearest_scale_corner,
    data_aspect,
    emptiest_corner,
    fit_extent,
    reset_axes,
    scale_bar_box,
    snug_rect,
    style_map_axes,
)
from maps.drawing import draw_category, draw_polygons, legend_handle
from maps.fonts import UNPRINTABLE, font_rc, silence_glyph_warnings_if_no_font, summarise_glyph_warnings
from maps.labels import LabelCandidate, LabelPlacer, longest_part
from maps.print_style import (
    CONTEXT_EDGE,
    CONTEXT_FILL,
    DISTRICT_EDGE,
    DISTRICT_FILL,
    TEXT_COLOR,
    CategoryStyle,
    categorical_styles,
    grade_order,
    ordinal_styles,
    other_style,
    unheld_style,
)
from maps.scene import Scene, scene_for
from maps.wording import words

PAPER_MM: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
ORIENTATIONS = ("auto", "portrait", "landscape")
FORMATS: dict[str, str] = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
COLOR_BY = ("unit", "layer", "grade")
MIN_DPI, MAX_DPI = 50, 600
# Colour-by-unit legends name this many units; the rest share one grey.
MAX_UNIT_CATEGORIES = 7
HOLDING_OR_UNHELD = ("lead", "shared", "")
MM_PER_INCH = 25.4
_RENDER_LOCK = threading.RLock()


class MapRequestError(ValueError):
    """A map was asked for something that does not exist or cannot be drawn (unknown unit, bad paper)."""


@dataclass(frozen=True, slots=True)
class MapOptions:
    """How a map page looks. ``color_by=None`` takes the view's default (layer for the city, unit otherwise)."""

    paper: str = "A4"
    orientation: str = "auto"
    dpi: int = 200
    color_by: str | None = None
    hatch: bool = False
    labels: bool = True
    inset: bool | None = None
    date: Any = None
    title: str | None = None

    def checked(self) -> MapOptions:
        paper = str(self.paper).upper()
        if paper not in PAPER_MM:
            raise MapRequestError(f"paper {self.paper!r} must be one of {', '.join(PAPER_MM)}")
        if self.orientation not in ORIENTATIONS:
            raise MapRequestError(f"orientation {self.orientation!r} must be auto, portrait or landscape")
        if not (MIN_DPI <= int(self.dpi) <= MAX_DPI):
            raise MapRequestError(f"dpi {self.dpi} must be between {MIN_DPI} and {MAX_DPI}")
        if self.color_by is not None and self.color_by not in COLOR_BY:
            raise MapRequestError(f"color_by {self.color_by!r} must be one of {', '.join(COLOR_BY)}")
        return replace(self, paper=paper, dpi=int(self.dpi))


@dataclass(frozen=True, slots=True)
class View:
    """What one map shows: the city, a unit or a district."""

    kind: str  # city | unit | district
    key: str
    name: str
    focus: np.ndarray  # zone positions in the scene that are the subject
    bounds: Extent
    fallback_districts: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))


@dataclass(frozen=True, slots=True)
class RenderResult:
    path: Path
    width_px: int
    height_px: int
    labels_placed: tuple[str, ...]
    labels_skipped: tuple[str, ...]


def page_size_in(paper: str, orientation: str, bounds: Extent | None = None) -> tuple[float, float]:
    """Page width and height in inches; ``auto`` turns the page to the shape of ``bounds``."""
    short, long = PAPER_MM[paper]
    if orientation == "auto":
        wide = bounds is not None and (bounds[2] - bounds[0]) > 1.15 * (bounds[3] - bounds[1])
        orientation = "landscape" if wide else "portrait"
    width, height = (short, long) if orientation == "portrait" else (long, short)
    return width / MM_PER_INCH, height / MM_PER_INCH


@contextmanager
def report_style(*, vector: bool = False) -> Iterator[None]:
    """matplotlib settings for every report figure: CJK font, embedded fonts, no display.

    ``vector`` (PDF, SVG): glyph outlines are loaded unhinted. Hinting only
    snaps outlines to a screen's pixel grid, and auto-hinting CFF CJK glyphs
    is most of the cost of laying out text (a third of an atlas's time).

    rcParams and warning filters are process-wide and matplotlib is not
    thread-safe: one report figure is drawn at a time (a server rendering
    maps in worker threads waits here rather than mixing fonts).
    """
    import matplotlib

    settings = font_rc()
    if vector:
        settings["text.hinting"] = "no_hinting"
    with _RENDER_LOCK, matplotlib.rc_context(settings):
        with warnings.catch_warnings(record=True) as caught:
            silence_glyph_warnings_if_no_font()
            yield
        summarise_glyph_warnings(caught)


def as_plain_text(fig: Any) -> None:
    """Make every text on ``fig`` print as typed before it is saved.

    Names come from data: a unit called "$x^2$ 小组" must print as typed, not
    as a formula (and a stray "$\\frac" must not crash the render), and control
    characters in a name are dropped (see :data:`maps.fonts.UNPRINTABLE`).
    """
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
        shown = text.get_text()
        if UNPRINTABLE.search(shown):
            text.set_text(UNPRINTABLE.sub("", shown))


def new_figure(width_in: float, height_in: float, dpi: int) -> Any:
    """A Figure on an Agg canvas (never pyplot: no global state, no display, thread-safe)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


# -- views ----------------------------------------------------------------------
def resolve_view(scene: Scene, *, unit: str | None = None, district: str | None = None) -> View:
    """The city, or the unit / district with that id (MapRequestError naming near matches if none)."""
    ds = scene.ds
    if unit and district:
        raise MapRequestError("choose a unit or a district, not both")
    if unit:
        units = ds.units
        match = units[units["unit_id"] == unit]
        if match.empty:
            raise MapRequestError(f"unit {unit[:60]!r} is not in the units table{_suggest(unit, units['unit_id'])}")
        name = str(match["name"].iat[0]) or unit
        positions = scene.unit_positions(unit)
        fallback = np.array([], dtype=int)
        if ds.frame is not None and len(scene.district_ids):
            fallback = np.flatnonzero(ds.frame["fallback_unit"].to_numpy(dtype=object) == unit)
        geoms = np.concatenate([scene.draw_geoms[positions], scene.district_geoms[fallback]])
        bounds = _bounds(geoms) or scene.bounds
        return View("unit", unit, name, positions, bounds, fallback)
    if district:
        ids = list(scene.district_ids)
        if ds.frame is None:
            raise MapRequestError(
                f"{ds.path.name} has no districts (catalog.toml declares no [frame]): draw a unit or the whole city"
            )
        if district not in ids:
            hint = _suggest(district, pd.Series(ids, dtype=object))
            raise MapRequestError(f"district {district[:60]!r} is not in the frame layer{hint}")
        position = ids.index(district)
        bounds = _bounds(scene.district_geoms[[position]]) or scene.bounds
        return View(
            "district", district, str(scene.district_names[position]), scene.district_positions(district), bounds
        )
    return View("city", "", scene.ds.name, np.arange(len(scene.zones)), scene.bounds)


def _bounds(geoms: np.ndarray) -> Extent | None:
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return None
    bounds = shapely.total_bounds(geoms)
    return tuple(float(v) for v in bounds) if np.all(np.isfinite(bounds)) else None  # type: ignore[return-value]


def _suggest(value: str, known: pd.Series) -> str:
    import difflib

    values = [str(v) for v in known]
    close = difflib.get_close_matches(value, values, n=3, cutoff=0.5)
    if close:
        return f" (did you mean {', '.join(close)}?)"
    return f" ({len(values)} known, e.g. {', '.join(values[:3])})" if values else ""


# -- categories -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Categories:
    """Per drawn zone its category, and the legend in order."""

    positions: np.ndarray  # zone positions drawn in colour
    keys: np.ndarray  # category key per position
    styles: list[CategoryStyle]
    kinds: dict[str, str]  # category key -> geometry kind for the legend key
    title: str


def categorize(scene: Scene, positions: np.ndarray, color_by: str, *, hatch: bool, focus_unit: str = "") -> Categories:
    """Assign each zone at ``positions`` to a legend category by unit, layer or grade."""
    w = words(scene.lang)
    zones = scene.zones
    positions = np.asarray(positions, dtype=int)
    roles = zones["role"].to_numpy(dtype=object)[positions]
    units = zones["unit_id"].to_numpy(dtype=object)[positions]
    # Supervisors hold no ground; their rows repeat the lead's zone. Kept only as the subject's own.
    keep = np.isin(roles, HOLDING_OR_UNHELD) | ((units == focus_unit) & (focus_unit != ""))
    positions = _one_per_ground(zones, positions[keep], focus_unit)
    kinds_of = zones["kind"].to_numpy(dtype=object)[positions]
    if color_by == "layer":
        keys = zones["layer"].to_numpy(dtype=object)[positions]
        order = [spec.id for spec in scene.ds.catalog.layers] if scene.ds.catalog else sorted(set(keys))
        order = [k for k in order if k in set(keys)]
        styles = categorical_styles(order, [scene.layer_title(k) for k in order], hatch=hatch)
        kinds = {k: _kind_of(kinds_of[keys == k]) for k in order}
        return Categories(positions, keys, styles, kinds, w["legend_layer"])
    if color_by == "grade":
        keys = zones["grade"].to_numpy(dtype=object)[positions].astype(object)
        keys = np.where(keys == "", "__none__", keys)
        graded = sorted({k for k in keys if k != "__none__"}, key=grade_order)
        styles = ordinal_styles(graded, graded, hatch=hatch)
        if "__none__" in set(keys):
            styles.append(other_style(w["no_grade"]))
            styles[-1] = replace(styles[-1], key="__none__")
        kinds = {s.key: _kind_of(kinds_of[keys == s.key]) for s in styles}
        return Categories(positions, keys, styles, kinds, w["legend_grade"])
    # by unit: the subject first, then the units holding most ground, the rest grouped
    keys = zones["unit_id"].to_numpy(dtype=object)[positions].astype(object)
    size = pd.Series(_zone_weight(zones, positions)).groupby(keys).sum()
    size = size[size.index != ""]
    ranked = [u for u in size.sort_values(ascending=False, kind="stable").index if u != focus_unit]
    shown = ([focus_unit] if focus_unit and focus_unit in set(keys) else []) + ranked
    limit = MAX_UNIT_CATEGORIES
    named, rest = shown[:limit], shown[limit:]
    if rest:
        keys = np.where(np.isin(keys, rest), "__other__", keys)
    names = dict(zip(scene.ds.units["unit_id"], scene.ds.units["name"], strict=False))
    styles = categorical_styles(named, [str(names.get(u) or u) for u in named], hatch=hatch)
    if rest:
        styles.append(other_style(f"{w['legend_other_units']} ({len(rest)})"))
    if "" in set(keys):
        styles.append(unheld_style(w["unheld"]))
    kinds = {s.key: _kind_of(kinds_of[keys == s.key]) for s in styles}
    return Categories(positions, keys, styles, kinds, w["legend_unit"])


def _one_per_ground(zones: pd.DataFrame, positions: np.ndarray, focus_unit: str) -> np.ndarray:
    """One zone per piece of ground: the subject unit's own, else the lead's, else the first.

    A lane shared by three units has three rows with the same ground; drawn
    three times the last colour would win at random. The lead's colour stands
    for the ground (the table lists the sharing units).
    """
    if len(positions) < 2:
        return positions
    picked = zones.iloc[positions]
    rank = np.where(picked["role"].to_numpy(dtype=object) == "lead", 1, 2)
    if focus_unit:
        rank = np.where(picked["unit_id"].to_numpy(dtype=object) == focus_unit, 0, rank)
    frame = pd.DataFrame(
        {
            "position": positions,
            "rank": rank,
            "layer": picked["layer"].to_numpy(),
            "feature_id": picked["feature_id"].to_numpy(),
            "from_m": picked["from_m"].fillna(-1.0).to_numpy(),
            "to_m": picked["to_m"].fillna(-1.0).to_numpy(),
        }
    )
    frame = frame.sort_values(["rank", "position"], kind="stable")
    first = frame.drop_duplicates(["layer", "feature_id", "from_m", "to_m"], keep="first")
    return np.sort(first["position"].to_numpy(dtype=int))


def _zone_weight(zones: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """Ground held, for ranking units: area, or length x 10 m where a line has no width."""
    area = zones["area_m2"].to_numpy(dtype=float)[positions]
    length = zones["length_m"].to_numpy(dtype=float)[positions]
    return np.where(np.isfinite(area) & (area > 0), area, np.nan_to_num(length) * 10.0)


def _kind_of(kinds: np.ndarray) -> str:
    values = set(kinds)
    if values == {"line"}:
        return "line"
    if values == {"point"}:
        return "point"
    return "polygon"


# -- drawing a map on an axes -----------------------------------------------------
@dataclass
class DrawnMap:
    ax: Any
    extent: Extent
    categories: Categories
    placer: LabelPlacer | None
    handles: list[Any]
    labels: list[str]
    inset: Any | None = None


def draw_zones(ax: Any, scene: Scene, categories: Categories, *, scale: float = 1.0) -> None:
    """Draw categorised zones: big polygons under small ones, then lines, then points."""
    kinds = scene.zones["kind"].to_numpy(dtype=object)[categories.positions]
    geoms = scene.draw_geoms[categories.positions]
    base = {"polygon": 2.0, "line": 4.0, "point": 6.0}
    for rank, style in enumerate(categories.styles):
        chosen = categories.keys == style.key
        if not chosen.any():
            continue
        for kind, z in base.items():
            picked = geoms[chosen & (kinds == kind)]
            if len(picked):
                order = np.argsort(-shapely.area(picked), kind="stable") if kind == "polygon" else None
                draw_category(
                    ax,
                    picked if order is None else picked[order],
                    style,
                    zorder=z + (len(categories.styles) - rank) * 0.01,
                    scale=scale,
                )


def draw_context(ax: Any, scene: Scene, positions: np.ndarray, *, scale: float = 1.0) -> None:
    """Zones that are not the subject, in light grey, under everything."""
    if not len(positions):
        return
    roles = scene.zones["role"].to_numpy(dtype=object)[positions]
    positions = positions[np.isin(roles, HOLDING_OR_UNHELD)]
    geoms = scene.draw_geoms[positions]
    style = CategoryStyle(key="__context__", label="", color=CONTEXT_FILL, edgecolor=CONTEXT_EDGE, linewidth_pt=0.9)
    draw_category(ax, geoms, style, zorder=1.5, scale=scale * 0.8)


def draw_districts(
    ax: Any,
    scene: Scene,
    extent: Extent,
    *,
    focus: str = "",
    simplify_m: float = 0.0,
    fallback: np.ndarray | None = None,
) -> None:
    positions = scene.districts_in(extent)
    if not len(positions):
        return
    geoms = scene.simplified_districts(simplify_m)[positions] if simplify_m > 0 else scene.district_geoms[positions]
    ids = scene.district_ids[positions]
    draw_polygons(ax, geoms, facecolor=DISTRICT_FILL, edgecolor="none", linewidth=0, zorder=0.5)
    draw_polygons(ax, geoms, facecolor="none", edgecolor=DISTRICT_EDGE, linewidth=0.7, zorder=7)
    if focus:
        chosen = geoms[ids == focus]
        draw_polygons(ax, chosen, facecolor="none", edgecolor="black", linewidth=2.0, zorder=7.1)
    if fallback is not None and len(fallback):
        draw_polygons(
            ax,
            scene.district_geoms[fallback],
            facecolor="none",
            edgecolor="black",
            linewidth=1.6,
            hatch="..",
            zorder=1.0,
        )


# A page holds a few hundred names at most; trying more only costs time (a city of 20,000 lanes).
MAX_LABEL_CANDIDATES = 600


def label_candidates(scene: Scene, view: View, extent: Extent, *, subject_only: bool) -> list[LabelCandidate]:
    """Districts first (on a unit's page: after the unit's places), then the subject's places by size
    (biggest first), then the rest by size.

    At most :data:`MAX_LABEL_CANDIDATES` (the most important ones) are returned.
    """
    candidates: list[LabelCandidate] = []
    box = shapely.box(*extent)
    for position in scene.districts_in(extent):
        point = shapely.point_on_surface(shapely.intersection(scene.district_geoms[position], box))
        if point.is_empty:
            continue
        candidates.append(
            LabelCandidate(
                str(scene.district_names[position]),
                # On a unit's page its own places come first (they are what the page is about).
                priority=1.5 if subject_only else 0.0,
                x=point.x,
                y=point.y,
                fontsize=10.5,
                weight="bold",
                color="#6a6a6a",
            )
        )
    features = scene.features
    if not len(features):
        return candidates
    subject = set(
        zip(scene.zones["layer"].to_numpy()[view.focus], scene.zones["feature_id"].to_numpy()[view.focus], strict=True)
    )
    in_view = shapely.intersects(scene.feature_geoms, box)
    sizes = features["size"].to_numpy(dtype=float)
    order = np.argsort(-np.nan_to_num(sizes), kind="stable")
    max_size = float(np.nanmax(sizes)) if len(sizes) and np.isfinite(np.nanmax(sizes)) else 1.0
    layers = features["layer"].to_numpy(dtype=object)
    feature_ids = features["feature_id"].to_numpy(dtype=object)
    names = features["name"].to_numpy(dtype=object)
    kinds = features["kind"].to_numpy(dtype=object)
    others = 0
    for rank, position in enumerate(order):
        if not in_view[position] or kinds[position] == "point":
            continue  # facilities are many and small: the legend says what they are
        mine = (layers[position], feature_ids[position]) in subject
        if not mine and (subject_only or others >= MAX_LABEL_CANDIDATES):
            continue
        others += 0 if mine else 1
        priority = (1.0 if mine else 2.0) + rank / max(len(order), 1) - (sizes[position] / max_size) * 1e-3
        geom = scene.feature_geoms[position]
        fontsize = 7.5 if mine else 6.0
        color = TEXT_COLOR if mine else "#555555"
        if kinds[position] == "line":
            clipped = shapely.intersection(geom, box)
            candidates.append(
                LabelCandidate(
                    str(names[position]), priority=priority, line=longest_part(clipped), fontsize=fontsize, color=color
                )
            )
        else:
            point = shapely.point_on_surface(shapely.intersection(geom, box))
            if point.is_empty:
                continue
            candidates.append(
                LabelCandidate(
                    str(names[position]), priority=priority, x=point.x, y=point.y, fontsize=fontsize, color=color
                )
            )
    if len(candidates) > MAX_LABEL_CANDIDATES:
        candidates = sorted(candidates, key=lambda c: c.priority)[:MAX_LABEL_CANDIDATES]
    return candidates


@dataclass(frozen=True, slots=True)
class Plan:
    """What a map at a given extent will show: the subject's categories, the grey context, the legend."""

    extent: Extent
    visible: np.ndarray
    context: np.ndarray
    categories: Categories
    handles: list[Any]
    labels: list[str]


def plan_map(scene: Scene, view: View, options: MapOptions, extent: Extent) -> Plan:
    """Decide categories and legend for ``view`` drawn at ``extent`` (nothing is drawn yet)."""
    w = words(scene.lang)
    color_by = options.color_by or ("layer" if view.kind == "city" else "unit")
    visible = scene.zones_in(extent)
    if view.kind == "unit" and color_by == "unit":
        # Around a unit's zones, who else holds the ground next to them.
        categories = categorize(
            scene, np.union1d(visible, view.focus), "unit", hatch=options.hatch, focus_unit=view.key
        )
        subject = np.union1d(visible, view.focus)
    else:
        categories = categorize(
            scene, view.focus, color_by, hatch=options.hatch, focus_unit=view.key if view.kind == "unit" else ""
        )
        subject = view.focus
    context = np.setdiff1d(visible, subject) if view.kind != "city" else np.array([], dtype=int)
    handles = [legend_handle(style, categories.kinds.get(style.key, "polygon")) for style in categories.styles]
    labels = [style.label for style in categories.styles]
    if len(context):
        grey = CategoryStyle(key="", label=w["context"], color=CONTEXT_FILL, edgecolor=CONTEXT_EDGE)
        handles.append(legend_handle(grey, "polygon"))
        labels.append(w["context"])
    if len(view.fallback_districts):
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor="none", edgecolor="black", hatch="..", linewidth=1.2))
        labels.append(w["fallback"])
    return Plan(extent, visible, context, categories, handles, labels)


def map_extent(view: View, rect: tuple[float, float, float, float], fig_size_in: tuple[float, float]) -> Extent:
    """The view's bounds fitted to an axes at ``rect`` (figure fractions) on a page of ``fig_size_in``."""
    box_w, box_h = rect[2] * fig_size_in[0], rect[3] * fig_size_in[1]
    return fit_extent(view.bounds, box_h / box_w, margin=view_margin(view))


def view_margin(view: View) -> float:
    """Room around the view's data, as a fraction of its size: a city fills its frame, a unit keeps surroundings."""
    return 0.01 if view.kind == "city" else 0.08


def shows_whole_city(extent: Extent, city_bounds: Extent, share: float = 0.6) -> bool:
    """Whether the map already shows most of the city: an overview inset would repeat it as an empty grid."""
    city_w, city_h = city_bounds[2] - city_bounds[0], city_bounds[3] - city_bounds[1]
    return extent[2] - extent[0] >= share * city_w and extent[3] - extent[1] >= share * city_h


def draw_map(
    fig: Any,
    rect: tuple[float, float, float, float],
    scene: Scene,
    view: View,
    options: MapOptions,
    *,
    plan: Plan | None = None,
    simplify_context: bool = False,
    furniture: bool = True,
    reuse: DrawnMap | None = None,
) -> DrawnMap:
    """Draw the map of ``view`` into a new axes at ``rect`` (figure fractions); legend handles returned.

    ``simplify_context`` draws district outlines simplified to about a pixel
    (the atlas draws hundreds of pages; nobody sees the removed vertices).
    ``reuse`` is the previous page's map on the same figure: its axes are
    emptied and drawn on again instead of being rebuilt.
    """
    if reuse is not None:
        ax = reuse.ax
        reset_axes(ax)
        ax.set_position(rect)
        if reuse.inset is not None:
            reuse.inset.set_visible(False)
    else:
        ax = fig.add_axes(rect)
    extent = map_extent(view, rect, tuple(fig.get_size_inches()))
    if plan is None or plan.extent != extent:
        plan = plan_map(scene, view, options, extent)
    style_map_axes(ax, extent)
    scale = 1.0 if view.kind == "city" else 1.3
    box_w = rect[2] * fig.get_figwidth()
    pixel_m = (extent[2] - extent[0]) / (box_w * fig.dpi)
    draw_districts(
        ax,
        scene,
        extent,
        focus=view.key if view.kind == "district" else "",
        simplify_m=pixel_m if simplify_context else 0.0,
        fallback=view.fallback_districts,
    )
    draw_context(ax, scene, plan.context, scale=scale)
    draw_zones(ax, scene, plan.categories, scale=scale)

    want_inset = options.inset if options.inset is not None else view.kind != "city"
    inset = None
    inset_corner = ""
    north_corner = "upper right"
    if want_inset and len(scene.district_geoms) and not shows_whole_city(extent, scene.bounds):
        corner = emptiest_corner(
            scene.draw_geoms[view.focus],
            extent,
            0.28,
            0.22,
            ("upper left", "upper right", "lower right"),
            others=scene.draw_geoms[plan.categories.positions],
        )
        inset_corner = corner
        north_corner = "upper left" if corner == "upper right" else "upper right"
        city_w = scene.bounds[2] - scene.bounds[0]
        inset = add_inset(
            fig,
            ax,
            scene.simplified_districts(city_w / 400),
            scene.bounds,
            extent,
            scene.lang,
            corner=corner,
            inset=reuse.inset if reuse is not None else None,
        )
        inset.set_visible(True)
    arrow_box = None
    scale_box = None
    if furniture:
        # The scale bar goes in the corner (not taken by the inset or the arrow) where it hides no feature.
        corners = tuple(c for c in SCALE_CORNERS if c not in (inset_corner, north_corner))
        shown = np.union1d(plan.categories.positions, plan.context).astype(int)
        scale_corner = clearest_scale_corner(ax, extent, scene.lang, scene.draw_geoms[shown], corners)
        add_scale_bar(ax, extent, scene.lang, corner=scale_corner)
        x0, y0, x1, y1, _ = scale_bar_box(ax, extent, scene.lang, corner=scale_corner)
        width, height = extent[2] - extent[0], extent[3] - extent[1]
        scale_box = (
            (x0 - extent[0]) / width,
            (y0 - extent[1]) / height,
            (x1 - extent[0]) / width,
            (y1 - extent[1]) / height,
        )
        arrow_box = add_north_arrow(ax, scene.lang, convergence_deg=scene.convergence_deg, corner=north_corner)
    placer = None
    if options.labels:
        placer = LabelPlacer(ax)
        if scale_box is not None:
            placer.block_axes_fraction(*scale_box)  # scale bar
        if arrow_box is not None:
            placer.block_axes_fraction(*arrow_box)
        if inset is not None:
            placer.block(inset.get_window_extent(placer.renderer).expanded(1.05, 1.1))
        placer.place_all(label_candidates(scene, view, extent, subject_only=view.kind == "unit"))
    return DrawnMap(
        ax,
        extent,
        plan.categories,
        placer,
        plan.handles,
        plan.labels,
        inset if inset is not None else (reuse.inset if reuse is not None else None),
    )


# -- a whole page -------------------------------------------------------------------
def subtitle(scene: Scene) -> str:
    w = words(scene.lang)
    ds = scene.ds
    data_date = ds.catalog.data_date if ds.catalog and ds.catalog.data_date else "—"
    return f"{ds.name}  ·  {w['data_date']} {data_date}  ·  {w['as_of']} {scene.date.date().isoformat()}"


def source_line(scene: Scene) -> str:
    from geo import __version__

    crs = scene.ds.metric_crs
    epsg = crs.to_epsg()
    crs_name = f"{crs.name} (EPSG:{epsg})" if epsg else crs.name
    return words(scene.lang)["source"].format(
        dataset=scene.ds.name, path=scene.ds.path.name, version=__version__, crs=crs_name
    )


def view_title(scene: Scene, view: View) -> str:
    w = words(scene.lang)
    if view.kind == "unit":
        return w["unit_title"].format(name=view.name)
    if view.kind == "district":
        return w["district_title"].format(name=view.name)
    return w["city_title"]


def compose_page(fig: Any, scene: Scene, view: View, options: MapOptions) -> DrawnMap:
    """Title, subtitle, map, legend and source line on one page-sized figure."""
    width_in, height_in = fig.get_size_inches()
    mm_x, mm_y = 1 / (width_in * MM_PER_INCH), 1 / (height_in * MM_PER_INCH)
    landscape = width_in > height_in
    fig.text(
        0.5,
        1 - 11 * mm_y,
        options.title or view_title(scene, view),
        ha="center",
        va="center",
        fontsize=16,
        fontweight="bold",
        color=TEXT_COLOR,
    )
    fig.text(0.5, 1 - 18 * mm_y, subtitle(scene), ha="center", va="center", fontsize=8.5, color="#444444")

    ncols = 5 if landscape else 3
    left, right, top = 12 * mm_x, 1 - 12 * mm_x, 1 - 24 * mm_y

    aspect = data_aspect(view.bounds, margin=view_margin(view))

    def rect_for(rows: int) -> tuple[float, float, float, float]:
        # The room above the legend, narrowed to the data's shape: the frame hugs the map, no white bands.
        bottom = (8 + 9 + rows * 5.2) * mm_y
        return snug_rect((left, bottom, right - left, top - bottom), (width_in, height_in), aspect)

    # The legend's rows depend on what the extent shows, the extent on the room the legend
    # leaves: settle it in two rounds (the entry count changes little, if at all).
    rows = 2
    plan = None
    for _ in range(3):
        rect = rect_for(rows)
        plan = plan_map(scene, view, options, map_extent(view, rect, (width_in, height_in)))
        needed = max(1, math.ceil(len(plan.labels) / ncols))
        if needed == rows:
            break
        rows = needed
    rect = rect_for(rows)
    drawn = draw_map(fig, rect, scene, view, options, plan=plan)

    legend_top = drawn.ax.get_position().y0 - 2 * mm_y
    fig.legend(
        drawn.handles,
        drawn.labels,
        loc="upper left",
        bbox_to_anchor=(drawn.ax.get_position().x0, legend_top),
        ncols=ncols,
        frameon=False,
        fontsize=8,
        title=drawn.categories.title,
        title_fontsize=8.5,
        alignment="left",
        handlelength=2.4,
        handleheight=1.2,
        columnspacing=1.6,
    )
    fig.text(left, 5 * mm_y, source_line(scene), ha="left", va="center", fontsize=5.5, color="#555555")
    return drawn


def render_map(
    ds: Dataset,
    path: str | Path,
    *,
    unit: str | None = None,
    district: str | None = None,
    options: MapOptions | None = None,
    file_format: str | None = None,
) -> RenderResult:
    """Draw the city (or a unit, or a district) on a page and save it; format from the extension.

    Raises :class:`MapRequestError` for an unknown unit/district, paper or format.
    """
    options = (options or MapOptions()).checked()
    path = Path(path)
    fmt = file_format or FORMATS.get(path.suffix.lower())
    if fmt not in FORMATS.values():
        raise MapRequestError(f"{path.name}: the file name must end in .png, .svg or .pdf")
    scene = scene_for(ds, options.date)
    view = resolve_view(scene, unit=unit, district=district)
    with report_style(vector=fmt != "png"):
        width_in, height_in = page_size_in(options.paper, options.orientation, view.bounds)
        fig = new_figure(width_in, height_in, options.dpi)
        drawn = compose_page(fig, scene, view, options)
        as_plain_text(fig)
        fig.savefig(
            path, format=fmt, dpi=options.dpi, facecolor="white", metadata=_metadata(fmt, view_title(scene, view))
        )
    placed = tuple(p.text for p in drawn.placer.placed) if drawn.placer else ()
    skipped = tuple(drawn.placer.skipped) if drawn.placer else ()
    width_px, height_px = fig.canvas.get_width_height()  # what Agg writes: the page size truncated to pixels
    return RenderResult(path, width_px, height_px, placed, skipped)


def _metadata(fmt: str, title: str) -> dict[str, str] | None:
    if fmt == "pdf":
        return {"Title": title, "Creator": "respmap"}
    if fmt == "svg":
        return {"Title": title}
    if fmt == "png":
        return {"Title": title, "Software": "respmap"}
    return None
