"""Shapely geometries to matplotlib artists, a whole category at a time.

A city map has hundreds of zones and an atlas draws them again on every page;
one matplotlib artist per geometry would make the figure slow to build and the
PDF slow to write. Here every category becomes one compound ``Path`` (all its
polygons, holes included) or one ``LineCollection`` or one scatter, built from
flat coordinate arrays without a Python loop over geometries. Coordinates are
in the metric CRS, so the axes are in metres (what the scale bar needs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from maps.print_style import CategoryStyle

POLYGON_TYPES = (3, 6)  # Polygon, MultiPolygon
LINE_TYPES = (1, 2, 5)  # LineString, LinearRing, MultiLineString
POINT_TYPES = (0, 4)  # Point, MultiPoint


def polygon_path(geoms: np.ndarray) -> Any | None:
    """One compound matplotlib Path for all polygons in ``geoms`` (None when empty).

    Exteriors counter-clockwise and holes clockwise, so the non-zero fill rule
    leaves the holes empty and overlapping polygons filled once.
    """
    from matplotlib.path import Path

    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[np.isin(shapely.get_type_id(geoms), POLYGON_TYPES)]
    if not len(geoms):
        return None
    polygons = shapely.orient_polygons(shapely.get_parts(geoms), exterior_cw=False)
    rings = shapely.get_rings(polygons)
    if not len(rings):
        return None
    coords, ring_index = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(coords), Path.LINETO, dtype=Path.code_type)
    starts = np.r_[0, np.flatnonzero(np.diff(ring_index)) + 1]
    ends = np.r_[starts[1:] - 1, len(coords) - 1]
    codes[starts] = Path.MOVETO
    codes[ends] = Path.CLOSEPOLY
    return Path(coords, codes)


def line_segments(geoms: np.ndarray) -> list[np.ndarray]:
    """The vertex arrays of every LineString part, for a LineCollection."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[np.isin(shapely.get_type_id(geoms), LINE_TYPES)]
    if not len(geoms):
        return []
    parts = shapely.get_parts(geoms)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    return [segment for segment in np.split(coords, splits) if len(segment) >= 2]


def point_coords(geoms: np.ndarray) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[np.isin(shapely.get_type_id(geoms), POINT_TYPES)]
    if not len(geoms):
        return np.empty((0, 2))
    return shapely.get_coordinates(geoms)


def draw_polygons(
    ax: Any,
    geoms: np.ndarray,
    *,
    facecolor: str,
    edgecolor: str,
    linewidth: float = 0.5,
    hatch: str = "",
    zorder: float = 2,
    alpha: float = 1.0,
    label: str | None = None,
) -> Any | None:
    from matplotlib.patches import PathPatch

    path = polygon_path(geoms)
    if path is None:
        return None
    patch = PathPatch(
        path,
        facecolor=facecolor,
        edgecolor=edgecolor,
        linewidth=linewidth,
        hatch=hatch or None,
        zorder=zorder,
        alpha=alpha,
        label=label,
        joinstyle="round",
    )
    ax.add_artist(patch)
    return patch


def draw_lines(
    ax: Any,
    geoms: np.ndarray,
    *,
    color: str,
    linewidth: float,
    linestyle: object = "-",
    zorder: float = 3,
    casing: str | None = None,
) -> list[Any]:
    """A LineCollection; with ``casing`` a wider line underneath (white halo) for legibility."""
    from matplotlib.collections import LineCollection

    segments = line_segments(geoms)
    if not segments:
        return []
    artists = []
    if casing:
        under = LineCollection(
            segments,
            colors=casing,
            linewidths=linewidth + 1.6,
            zorder=zorder - 0.01,
            capstyle="round",
            joinstyle="round",
        )
        ax.add_collection(under, autolim=False)
        artists.append(under)
    lines = LineCollection(
        segments,
        colors=color,
        linewidths=linewidth,
        linestyles=[linestyle],
        zorder=zorder,
        capstyle="butt",
        joinstyle="round",
    )
    ax.add_collection(lines, autolim=False)
    artists.append(lines)
    return artists


def draw_category(ax: Any, geoms: np.ndarray, style: CategoryStyle, *, zorder: float = 3, scale: float = 1.0) -> None:
    """Draw one category's geometries of any kind with its style."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return
    types = shapely.get_type_id(geoms)
    polygons = geoms[np.isin(types, POLYGON_TYPES)]
    if len(polygons):
        draw_polygons(
            ax,
            polygons,
            facecolor=style.color,
            edgecolor=style.edgecolor,
            linewidth=0.6 * scale,
            hatch=style.hatch,
            zorder=zorder,
        )
    lines = geoms[np.isin(types, LINE_TYPES)]
    if len(lines):
        # A dark casing keeps light colours (pale yellow) visible on white paper.
        draw_lines(ax, lines, color=style.edgecolor, linewidth=(style.linewidth_pt + 1.0) * scale, zorder=zorder + 0.5)
        draw_lines(
            ax,
            lines,
            color=style.color,
            linewidth=style.linewidth_pt * scale,
            linestyle=style.linestyle,
            zorder=zorder + 0.51,
        )
    points = point_coords(geoms[np.isin(types, POINT_TYPES)])
    if len(points):
        ax.scatter(
            points[:, 0],
            points[:, 1],
            s=22 * scale,
            marker=style.marker,
            facecolor=style.color,
            edgecolor=style.edgecolor,
            linewidths=0.6,
            zorder=zorder + 1,
        )


def legend_handle(style: CategoryStyle, kind: str) -> Any:
    """A legend key that looks like what is on the map: a patch, a line or a marker."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if kind == "line":
        return Line2D(
            [0],
            [0],
            color=style.color,
            linewidth=style.linewidth_pt + 0.4,
            linestyle=style.linestyle,
            path_effects=_casing(style.edgecolor, style.linewidth_pt + 1.4),
        )
    if kind == "point":
        return Line2D(
            [0],
            [0],
            linestyle="none",
            marker=style.marker,
            markersize=6,
            markerfacecolor=style.color,
            markeredgecolor=style.edgecolor,
        )
    return Patch(facecolor=style.color, edgecolor=style.edgecolor, hatch=style.hatch or None, linewidth=0.6)


def _casing(color: str, width: float) -> list[Any]:
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=width, foreground=color), patheffects.Normal()]
