"""The city's plan: the winding Han River, the main roads and the districts between them.

What: one town tile of 9 km x 6 km in EPSG:4545 metres (``--scale N`` lays N tiles side
by side, row by row).  Across it the Han River winds west to east, 300 m wide; main roads
run beside it on both banks (longitudinal roads that follow its bends, less and less
the further they are from it) and cross it on two bridges (transverse roads).  The 16
campaign districts (双创片区) are the blocks between the river's centre line, the main
roads and the tile's edge, so that district boundaries are roads and the river, as in a
real plan.  Also here: the riverbank segments (one per riverside district, on its own
bank, cut where the district's roads meet the water) and the six city entrances (the
stretches of the main roads that leave the tile).

Why: a planner's first look at the demo decides whether they trust the tool; a grid of
squares and a straight river look generated.  The plan is fixed (not random): the seed
varies only the places drawn inside the districts (``places.py``).

How: every line is sampled on one knot grid (every 50 m along the river's direction) with
the feet of the transverse roads inserted, and neighbouring districts are stitched from
the same arrays, so shared edges hold bit-identical vertices: no gap, no overlap, and the
same holds across the seams between tiles (every line ends at the same height on the
tile's west and east edges; both the bottom and the top edge carry the feet of the roads
that meet either).  Alleys (``places.py``) start on road vertices, so they touch the
roads exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.ops

from .model import BANK_OFFSET_M, N_DISTRICTS, N_ENTRANCES, TILE_H_M, TILE_W_M, Demo, Feature, make_ids
from .names import DISTRICT_BASES, ENTRANCE_ROADS, RIVER_NAME, SIDE_WORD, cn_number, dedupe

KNOT_STEP_M = 50.0  # vertex spacing along the longitudinal lines
TRANSVERSE_STEP_M = 60.0  # vertex spacing along the transverse roads
SPECIAL_GAP_M = 20.0  # a regular knot this close to a road's foot is dropped


def _meander(u: np.ndarray) -> np.ndarray:
    """The Han River's bends (metres north of its mean course): one long and one shorter wave."""
    w = TILE_W_M
    return 420.0 * np.sin(2 * np.pi * u / w + 0.6) + 170.0 * np.sin(4 * np.pi * u / w + 2.2)


def _wiggle(u: np.ndarray, amplitude_m: float, waves: int, phase: float) -> np.ndarray:
    return amplitude_m * np.sin(2 * np.pi * waves * u / TILE_W_M + phase)


# The longitudinal lines, south to north, as heights (m above the tile's south edge) at u.
# Every one is periodic over the tile's width, so tiles side by side continue each other.
# road: whether the line is a main road (alleys start on roads; the river and the edges are not).
LINES: list[tuple[str, bool]] = [
    ("south edge", False),
    ("南环路", True),  # S2: the southern ring road, at the foot of the hills
    ("安康大道", True),  # S1: the old town's main road, parallel to the river
    ("汉江", False),  # the river's centre line
    ("江北大道", True),  # N1: the north bank's main road
    ("north edge", False),
]


def _line_height(index: int, u: np.ndarray) -> np.ndarray:
    m = _meander(u)
    if index == 0:
        return np.zeros_like(u)
    if index == 1:
        return 1050.0 + 0.30 * m + _wiggle(u, 45.0, 3, 1.0)
    if index == 2:
        return 2100.0 + 0.65 * m + _wiggle(u, 35.0, 5, 0.3)
    if index == 3:
        return 3250.0 + m
    if index == 4:
        return 4550.0 + 0.55 * m + _wiggle(u, 40.0, 4, 2.0)
    return np.full_like(u, TILE_H_M)


RIVER_LINE = 3

# Transverse roads per band (band b lies between line b and line b+1): (u at the lower
# line, u at the upper line, bend in metres).  Roads continue across lines where their
# feet meet (the bridges at u = 4400 and 6300 cross the river).
BANDS: list[list[tuple[float, float, float]]] = [
    [(4700.0, 4700.0, 35.0)],  # hills south of the ring road: two districts
    [(2300.0, 2250.0, -40.0), (4700.0, 4550.0, 25.0), (6900.0, 7000.0, 30.0)],  # new town
    [(1900.0, 1750.0, 30.0), (4550.0, 4400.0, -20.0), (6200.0, 6300.0, 25.0)],  # old town on the river
    [(2300.0, 2400.0, -30.0), (4400.0, 4300.0, 20.0), (6300.0, 6250.0, -25.0)],  # north bank
    [(5200.0, 5200.0, -40.0)],  # hills north of the north bank's road
]
# The edges carry both feet that meet them from either side, so tiles stacked north-south share vertices.
EDGE_FEET = (4700.0, 5200.0)

# Entrances: (line index, which end) for the longitudinal roads, or (band, road, end) for transverse ones.
# The road's name outside town is in names.toml (entrance_roads, in this order).
ENTRANCES: list[tuple[str, tuple[int, ...]]] = [
    ("W", (2, 0)),  # 安康大道 leaving west
    ("E", (2, 1)),  # 安康大道 leaving east
    ("N", (4, 0, 1)),  # the north hills' road leaving north
    ("S", (0, 0, 0)),  # the south hills' road leaving south
    ("W", (4, 0)),  # 江北大道 leaving west
    ("E", (4, 1)),  # 江北大道 leaving east
]


@dataclass
class RoadEdge:
    """A stretch of main road on a district's boundary, vertices in the ring's (CCW) order."""

    coords: np.ndarray  # (n, 2) metres; the interior of the district is on the left


@dataclass
class Tile:
    """One town tile in local metres (origin at its south-west corner), shared by every copy."""

    cells: list[tuple[int, int, np.ndarray, list[np.ndarray]]]  # band, k, ring (open), road edges
    north_bank: np.ndarray
    south_bank: np.ndarray
    bank_cuts: dict[tuple[int, int], tuple[float, float]]  # (band, k) -> bank stretch (u from, u to)
    entrance_paths: list[tuple[str, np.ndarray]]  # side, polyline starting on the tile's edge


def _knots(line: int) -> np.ndarray:
    """The line's vertices: every KNOT_STEP_M, plus every transverse foot on it; ends equal."""
    feet: list[float] = []
    if line > 0:
        feet += [hi for _, hi, _ in BANDS[line - 1]]
    if line < len(BANDS):
        feet += [lo for lo, _, _ in BANDS[line]]
    if line in (0, len(LINES) - 1):
        feet += list(EDGE_FEET)
    special = np.unique(np.array([*feet, 0.0, TILE_W_M]))
    regular = np.arange(KNOT_STEP_M, TILE_W_M, KNOT_STEP_M)
    near = np.min(np.abs(regular[:, None] - special[None, :]), axis=1) < SPECIAL_GAP_M
    u = np.unique(np.concatenate([special, regular[~near]]))
    v = _line_height(line, u)
    v[-1] = v[0]  # periodic: the west and east ends meet the next tile's at the same height
    return np.column_stack([u, v])


def _point_on(knots: np.ndarray, u: float) -> np.ndarray:
    i = int(np.searchsorted(knots[:, 0], u))
    if knots[i, 0] != u:
        raise RuntimeError(f"no knot at u={u}")
    return knots[i]


def _transverse(lower: np.ndarray, upper: np.ndarray, bend_m: float) -> np.ndarray:
    """A road from a foot on one line to a foot on the next, gently bent, vertices every ~60 m."""
    span = upper - lower
    n = max(2, math.ceil(float(np.hypot(*span)) / TRANSVERSE_STEP_M) + 1)
    t = np.linspace(0.0, 1.0, n)
    normal = np.array([-span[1], span[0]]) / float(np.hypot(*span))
    pts = lower[None, :] + t[:, None] * span[None, :] + (bend_m * np.sin(np.pi * t))[:, None] * normal[None, :]
    pts[0], pts[-1] = lower, upper
    return pts


def _insert(coords: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Insert a point lying on a polyline as a vertex, at its place along the line."""
    line = shapely.LineString(coords)
    at = line.project(shapely.Point(point))
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    i = int(np.searchsorted(along, at))
    return np.vstack([coords[:i], point[None, :], coords[i:]])


def _banks() -> tuple[np.ndarray, np.ndarray]:
    """North and south banks: the centre line offset 150 m either side, cut to the tile."""
    centre = _knots(RIVER_LINE)
    fine_u = np.unique(np.concatenate([centre[:, 0], np.linspace(-200.0, TILE_W_M + 200.0, 400)]))
    c = np.column_stack([fine_u, _line_height(RIVER_LINE, fine_u)])
    d = np.gradient(c, axis=0)
    d /= np.hypot(d[:, 0], d[:, 1])[:, None]
    normal = np.column_stack([-d[:, 1], d[:, 0]])  # points north (left of west-to-east)
    out = []
    box = shapely.box(0.0, -1e4, TILE_W_M, TILE_H_M + 1e4)
    for sign in (1.0, -1.0):
        bank = shapely.intersection(shapely.LineString(c + sign * BANK_OFFSET_M * normal), box)
        pts = shapely.get_coordinates(bank)
        pts = pts[np.argsort(pts[:, 0], kind="stable")]
        pts[0, 0], pts[-1, 0] = 0.0, TILE_W_M
        pts[-1, 1] = pts[0, 1]  # periodic, as the lines
        out.append(pts)
    return out[0], out[1]


def build_tile() -> Tile:
    """The plan of one tile: district rings, their road edges, banks and entrance paths."""
    knots = [_knots(j) for j in range(len(LINES))]
    north_bank, south_bank = _banks()
    roads: list[list[np.ndarray]] = []
    for b, band in enumerate(BANDS):
        roads.append([_transverse(_point_on(knots[b], lo), _point_on(knots[b + 1], hi), bend) for lo, hi, bend in band])
    # Roads that reach the water: their crossing with the bank becomes a vertex of both.
    for b, bank_name in ((RIVER_LINE - 1, "south"), (RIVER_LINE, "north")):
        for k, road in enumerate(roads[b]):
            bank = south_bank if bank_name == "south" else north_bank
            hit = shapely.intersection(shapely.LineString(road), shapely.LineString(bank))
            if hit.geom_type != "Point":
                raise RuntimeError("a road crosses a bank more than once")
            p = np.array([hit.x, hit.y])
            roads[b][k] = _insert(road, p)
            if bank_name == "south":
                south_bank = _insert(south_bank, p)
            else:
                north_bank = _insert(north_bank, p)
    bank_ends = {"south": (south_bank[0], south_bank[-1]), "north": (north_bank[0], north_bank[-1])}

    cells: list[tuple[int, int, np.ndarray, list[np.ndarray]]] = []
    bank_cuts: dict[tuple[int, int], tuple[float, float]] = {}
    for b, band in enumerate(BANDS):
        low, high = knots[b], knots[b + 1]
        low_road, high_road = LINES[b][1], LINES[b + 1][1]
        n = len(band) + 1
        for k in range(n):
            if k == 0:
                left = np.array([low[0], high[0]])
            else:
                left = roads[b][k - 1]
            if k == n - 1:
                right = np.array([low[-1], high[-1]])
            else:
                right = roads[b][k]
            # Frame edges of riverside bands carry the bank's end as a vertex.
            for side, edge in (("left", left), ("right", right)):
                if (k == 0 and side == "left") or (k == n - 1 and side == "right"):
                    end = 0 if side == "left" else 1
                    extra = []
                    if b == RIVER_LINE - 1:
                        extra.append(bank_ends["south"][end])
                    if b == RIVER_LINE:
                        extra.append(bank_ends["north"][end])
                    if extra:
                        edge = np.vstack([edge[:1], np.array(extra), edge[1:]])
                    if side == "left":
                        left = edge
                    else:
                        right = edge
            i0 = int(np.searchsorted(low[:, 0], left[0, 0]))
            i1 = int(np.searchsorted(low[:, 0], right[0, 0]))
            j0 = int(np.searchsorted(high[:, 0], left[-1, 0]))
            j1 = int(np.searchsorted(high[:, 0], right[-1, 0]))
            bottom = low[i0 : i1 + 1]
            top = high[j0 : j1 + 1][::-1]
            ring = np.vstack([bottom, right[1:-1], top, left[1:-1][::-1]])
            edges: list[np.ndarray] = []
            if low_road:
                edges.append(bottom)
            if 0 < k:
                edges.append(left[::-1])
            if k < n - 1:
                edges.append(right)
            if high_road:
                edges.append(top)
            cells.append((b, k, ring, edges))
            if b in (RIVER_LINE - 1, RIVER_LINE):
                bank = south_bank if b == RIVER_LINE - 1 else north_bank
                u_from = float(left[np.argmin(np.abs(_bank_hits(left, bank))), 0]) if k else 0.0
                u_to = float(right[np.argmin(np.abs(_bank_hits(right, bank))), 0]) if k < n - 1 else TILE_W_M
                bank_cuts[(b, k)] = (u_from, u_to)
    entrance_paths = []
    for side, spec in ENTRANCES:
        if len(spec) == 2:
            line, end = spec
            path = knots[line] if end == 0 else knots[line][::-1]
        else:
            band, road, end = spec
            path = roads[band][road] if end == 0 else roads[band][road][::-1]
        entrance_paths.append((side, path))
    return Tile(cells, north_bank, south_bank, bank_cuts, entrance_paths)


def _bank_hits(edge: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """Distance of each vertex of an edge to the bank (the crossing vertex has distance 0)."""
    return shapely.distance(shapely.points(edge), shapely.LineString(bank))


def _bank_stretch(bank: np.ndarray, u_from: float, u_to: float) -> np.ndarray:
    """The bank's vertices from one cut to the next (cuts are bank vertices)."""
    i = int(np.flatnonzero(bank[:, 0] == u_from)[0])
    j = int(np.flatnonzero(bank[:, 0] == u_to)[-1])
    return bank[i : j + 1]


def build_plan(st: Demo) -> None:
    """Districts, riverbank segments and city entrances for every tile of the frame."""
    tile = build_tile()
    if len(tile.cells) != N_DISTRICTS or len(tile.entrance_paths) != N_ENTRANCES:
        raise RuntimeError("the plan's districts or entrances do not match the demo's counts")
    rng = st.rng
    districts: list[Feature] = []
    banks: list[Feature] = []
    entrance_lines: list[shapely.Geometry] = []
    entrance_sides: list[str] = []
    waters = []
    st.road_edges = []
    ids = make_ids("districts", len(tile.cells) * st.scale, st.scale)
    # Cells north-west first within a tile: bands from the north, then west to east.
    order = sorted(range(len(tile.cells)), key=lambda i: (-tile.cells[i][0], tile.cells[i][1]))
    for copy, (ox, oy) in enumerate(st.tile_origins):
        origin = np.array([ox, oy])
        suffix = cn_number(copy + 1) if copy else ""
        river = RIVER_NAME
        first = len(districts)
        for rank, i in enumerate(order):
            b, k, ring, edges = tile.cells[i]
            d = first + rank
            base = DISTRICT_BASES[rank % len(DISTRICT_BASES)]
            tag = base + suffix
            districts.append(
                Feature(
                    "districts",
                    shapely.Polygon(ring + origin),
                    {"id": ids[d], "name": f"{tag}片区"},
                    district=d,
                    tag=tag,
                )
            )
            st.road_edges.append([e + origin for e in edges])
            if (b, k) in tile.bank_cuts:
                south = b == RIVER_LINE - 1
                word = "南岸" if south else "北岸"
                stretch = _bank_stretch(tile.south_bank if south else tile.north_bank, *tile.bank_cuts[(b, k)])
                banks.append(
                    Feature(
                        "riverbank_segments",
                        shapely.LineString(stretch + origin),
                        {
                            "name": f"{river}{word}{tag}段",
                            "bank": word,
                            "district": ids[d],
                            "grade": "一级" if rng.random() < 0.55 else "二级",
                            "width_m": float(round(rng.uniform(10, 30))),
                        },
                        district=d,
                        tag="north" if not south else "south",
                    )
                )
        waters.append(shapely.Polygon(np.vstack([tile.north_bank, tile.south_bank[::-1]]) + origin))
        for side, path in tile.entrance_paths:
            length_m = float(rng.uniform(650, 1450))
            line = shapely.LineString(path + origin)
            length_m = min(length_m, 0.9 * line.length)
            entrance_lines.append(shapely.ops.substring(line, 0.0, length_m))
            entrance_sides.append(side)
    st.layers["districts"] = districts
    st.district_geoms = np.array([f.geom for f in districts], dtype=object)
    st.district_tree = shapely.STRtree(st.district_geoms)
    st.district_edges = shapely.boundary(st.district_geoms)
    st.water = np.array(waters, dtype=object)
    st.entrance_lines = entrance_lines
    st.entrance_sides = entrance_sides
    _check_tiling(st)
    # Riverbank segments keep plan order (west to east per bank); ids follow it.
    ids_rb = make_ids("riverbank_segments", len(banks), st.scale)
    for f, fid in zip(banks, ids_rb, strict=True):
        f.props = {"id": fid, **f.props}
    st.layers["riverbank_segments"] = banks
    _entrance_features(st)


def _entrance_features(st: Demo) -> None:
    """Turn the entrance stretches into features named after their road and side."""
    rng = st.rng
    names = dedupe(
        [f"{ENTRANCE_ROADS[i % len(ENTRANCES)]}{SIDE_WORD[side]}入口" for i, side in enumerate(st.entrance_sides)]
    )
    feats = []
    for i, g in enumerate(st.entrance_lines):
        feats.append(
            Feature(
                "city_entrances",
                g,
                {
                    "name": names[i],
                    "grade": "一级" if rng.random() < 0.67 else "二级",
                    "width_m": float(round(rng.uniform(20, 40))),
                },
            )
        )
    geoms = np.array([f.geom for f in feats], dtype=object)
    mid = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    hit = st.district_tree.query(mid, predicate="intersects")
    district = np.full(len(feats), 10**9)
    np.minimum.at(district, hit[0], hit[1])
    ids = make_ids("city_entrances", len(feats), st.scale)
    for f, d, fid in zip(feats, district, ids, strict=True):
        f.district = int(d)
        f.props = {"id": fid, **f.props}
    st.layers["city_entrances"] = feats


def _check_tiling(st: Demo) -> None:
    geoms = st.district_geoms
    if not shapely.is_valid(geoms).all():
        raise RuntimeError("invalid district polygon")
    total = float(shapely.area(geoms).sum())
    union = shapely.union_all(geoms)
    if abs(total - float(union.area)) > 1e-6 * total or abs(float(union.area) - st.frame.area) > 1.0:
        raise RuntimeError("districts do not tile the frame")
