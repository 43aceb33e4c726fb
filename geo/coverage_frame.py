"""Frame coverage: where the campaign districts leave ground uncovered or cover it twice.

The districts (the *frame*) must together cover the city with no gap and no
overlap. Without a declared city boundary, the gaps we can see are the holes
of the districts' union (ground enclosed by districts that no district covers,
such as a ring district whose hole nobody took) and the cracks between
neighbours: a channel narrower than ``CRACK_WIDTH_M`` between two districts
digitised by different people, even where it runs out to the frame's edge
and so is no hole. With a boundary, the boundary's ground outside the frame
is a gap too. Districts overlapping each other are
reported apart (``frame_overlaps``). Pieces smaller than ``sliver_m2`` (or
thinner than ``sliver_width_m`` on average) are slivers: digitising noise, not
ground someone forgot.

All geometry work is in the metric CRS on a 1 mm grid (``GRID_M``), which
makes the overlay robust on foreign data whose shared edges were digitised
twice and differ by micrometres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

# Overlay precision: coordinates are snapped to a 1 mm grid, far below any
# survey accuracy, so independently digitised shared edges meet exactly.
GRID_M = 0.001
# Pieces of ground below this are numerical noise, not even slivers.
NOISE_M2 = 1e-3
# Channels between two districts narrower than this are cracks (digitising
# gaps): found even where they run out to the frame's edge.
CRACK_WIDTH_M = 2.0


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of ground the frame check found (metric CRS)."""

    kind: str  # "hole" (a crack between districts too) | "outside_frame" | "frame_overlap"
    geometry: object
    area_m2: float
    district_ids: tuple[str, ...]
    is_sliver: bool


def valid_polygons(geoms: np.ndarray) -> np.ndarray:
    """make_valid where needed, keeping only the polygonal parts (never raises)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        repaired = shapely.make_valid(geoms[bad])
        geoms[bad] = [_polygonal(g) for g in repaired]
    return geoms


def _polygonal(geom: object) -> object:
    """The polygon parts of a geometry (a GeometryCollection after make_valid)."""
    if geom is None:
        return shapely.Polygon()
    type_id = shapely.get_type_id(geom)
    if type_id in (3, 6):
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def mean_width_m(geoms: np.ndarray | object) -> np.ndarray:
    """Mean width of each polygon: 2 x area / perimeter (a long thin strip of width w gives ~w)."""
    area = shapely.area(geoms)
    perimeter = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 2.0 * area / perimeter, 0.0)


def is_sliver(area_m2: np.ndarray, width_m: np.ndarray, sliver_m2: float, sliver_width_m: float) -> np.ndarray:
    """Small or thin: below ``sliver_m2``, or on average thinner than ``sliver_width_m`` (0 = off)."""
    small = np.asarray(area_m2) < sliver_m2
    if sliver_width_m > 0:
        small |= np.asarray(width_m) < sliver_width_m
    return small


def frame_pieces(
    district_geoms: np.ndarray,
    district_ids: np.ndarray,
    boundary: object | None,
    sliver_m2: float,
    sliver_width_m: float = 0.0,
) -> list[Piece]:
    """Holes, ground outside the frame (with a boundary) and overlaps of districts.

    Args:
        district_geoms: the districts' polygons in the metric CRS.
        district_ids: their ids, in the same order.
        boundary: the city boundary in the metric CRS, or None.
        sliver_m2: pieces below this area are slivers.
        sliver_width_m: pieces thinner than this on average are slivers too (0 = off).
    """
    geoms = valid_polygons(np.asarray(district_geoms, dtype=object))
    ids = np.asarray(district_ids, dtype=object)
    keep = ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
    geoms, ids = geoms[keep], ids[keep]
    if not len(geoms):
        return []
    geoms = shapely.set_precision(geoms, GRID_M)
    union = shapely.union_all(geoms, grid_size=GRID_M)
    shells, holes = _shells_and_holes(union)

    tree = shapely.STRtree(geoms)
    found: list[tuple[str, object]] = []
    if holes:
        # A hole may hold an island district: only what no district covers is a gap.
        bare = shapely.difference(np.array(holes, dtype=object), union, grid_size=GRID_M)
        found = [("hole", part) for part in shapely.get_parts(bare) if shapely.get_type_id(part) == 3]
    found += [("hole", crack) for crack in _cracks(shells, tree)]
    if boundary is not None and not shapely.is_empty(boundary):
        boundary = shapely.set_precision(_polygonal(shapely.make_valid(boundary)), GRID_M)
        filled = shapely.union_all(shells, grid_size=GRID_M) if len(shells) else shapely.Polygon()
        outside = shapely.difference(boundary, filled, grid_size=GRID_M)
        found += [("outside_frame", part) for part in shapely.get_parts(outside) if shapely.get_type_id(part) == 3]
        # A hole that lies beyond the city boundary is not city ground.
        found = [
            (kind, g) if kind != "hole" else (kind, shapely.intersection(g, boundary, grid_size=GRID_M))
            for kind, g in found
        ]

    pieces: list[Piece] = []
    if found:
        kinds = [kind for kind, _ in found]
        piece_geoms = np.array([g for _, g in found], dtype=object)
        areas = shapely.area(piece_geoms)
        widths = mean_width_m(piece_geoms)
        slivers = is_sliver(areas, widths, sliver_m2, sliver_width_m)
        # Which districts border each piece: the ones to talk to about it.
        piece_idx, district_idx = tree.query(shapely.buffer(piece_geoms, GRID_M * 10), predicate="intersects")
        neighbours: dict[int, list[str]] = {}
        for p, d in zip(piece_idx, district_idx, strict=True):
            neighbours.setdefault(int(p), []).append(str(ids[d]))
        for position, (kind, geom) in enumerate(zip(kinds, piece_geoms, strict=True)):
            if areas[position] <= NOISE_M2:
                continue
            pieces.append(
                Piece(
                    kind,
                    geom,
                    float(areas[position]),
                    tuple(sorted(set(neighbours.get(position, [])))),
                    bool(slivers[position]),
                )
            )

    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    if len(left):
        overlaps = shapely.intersection(geoms[left], geoms[right], grid_size=GRID_M)
        overlaps = np.array([_polygonal(g) for g in overlaps], dtype=object)
        areas = shapely.area(overlaps)
        widths = mean_width_m(overlaps)
        slivers = is_sliver(areas, widths, sliver_m2, sliver_width_m)
        for position in np.flatnonzero(areas > NOISE_M2):
            pieces.append(
                Piece(
                    "frame_overlap",
                    overlaps[position],
                    float(areas[position]),
                    (str(ids[left[position]]), str(ids[right[position]])),
                    bool(slivers[position]),
                )
            )
    return pieces


def _cracks(shells: list[object], tree: shapely.STRtree) -> list[object]:
    """Channels narrower than ``CRACK_WIDTH_M`` between two or more districts.

    The frame's outline with its holes filled is closed (grown by half the
    width, then shrunk back, with mitred corners so straight edges and corners
    return exactly where they were): the closing fills every channel narrower
    than the width. What it filled between two districts is a crack; a narrow
    notch in one district's own outline touches only that district and is no
    gap between districts.
    """
    if len(shells) < 2:
        return []
    filled = shapely.union_all(shells, grid_size=GRID_M)
    radius = CRACK_WIDTH_M / 2
    closed = shapely.buffer(shapely.buffer(filled, radius, join_style="mitre"), -radius, join_style="mitre")
    added = shapely.difference(closed, filled, grid_size=GRID_M)
    parts = np.array([p for p in shapely.get_parts(added) if shapely.get_type_id(p) == 3], dtype=object)
    if not len(parts):
        return []
    parts = parts[shapely.area(parts) > NOISE_M2]
    piece_idx, district_idx = tree.query(shapely.buffer(parts, GRID_M * 10), predicate="intersects")
    touching = pd.Series(district_idx).groupby(piece_idx).nunique() if len(piece_idx) else pd.Series(dtype=int)
    return [parts[int(p)] for p, count in touching.items() if count >= 2]


def _shells_and_holes(union: object) -> tuple[list[object], list[object]]:
    """The union's polygons with their holes filled, and the holes as polygons."""
    shells: list[object] = []
    holes: list[object] = []
    for part in shapely.get_parts(union):
        if shapely.get_type_id(part) != 3:
            continue
        shells.append(shapely.Polygon(part.exterior))
        holes.extend(shapely.Polygon(ring) for ring in part.interiors)
    return shells, holes
