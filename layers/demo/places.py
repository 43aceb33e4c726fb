"""The places inside the districts: urban villages, back streets, compounds and facilities.

What: the features a campaign plan lists, drawn inside the districts of ``plan.py``:

- urban villages (城中村): irregular polygons, mostly on the town's edge, away from the
  water and from the main roads;
- back streets and alleys (背街小巷): a network grown from the main roads, fishbone
  fashion.  Each alley starts on a main-road vertex or on an earlier alley (sharing that
  vertex exactly), runs inward roughly at right angles, sometimes with a bend, and ends
  where it meets another alley (a T junction, the meeting point a vertex of both) or as a
  dead end short of the next road or the water.  So every alley touches a main road or
  another alley, and the alleys of a district with its roads form one connected network.
  Alleys run at least 45 m apart except at their junctions (their 15 m zones touch only
  there), and the old town is the densest;
- compounds without property management (无物业管理小区): blocks set beside an alley,
  facing it, plus the planted overlapping pair;
- sanitation facilities (环卫设施): bins beside the alleys, toilets and transfer stations a
  little further off, named after the nearest alley.

Why: a planner trusts a demo whose alleys hang off the roads and whose compounds stand on
their lanes; random hooks that touch nothing look generated.  Everything here is drawn
from ``Demo.rng`` in a fixed order, so the same seed gives the same places.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import shapely
import shapely.ops

from .model import N_COMPOUNDS, N_FACILITIES, N_STREETS, N_VILLAGES, Demo, Feature, make_ids, to_lonlat
from .names import (
    COMPOUND_PREFIXES,
    COMPOUND_SUFFIXES,
    GRADES4,
    STREET_PREFIXES,
    STREET_SUFFIXES,
    SURNAMES,
    VILLAGE_SUFFIXES,
    cn_number,
    combo_names,
)

# Share of the alleys per district, by the district's place in its tile (north hills,
# north bank x4, old town on the river x4, new town x4, south hills): the old town densest.
STREET_DENSITY = (0.4, 0.4, 1.1, 1.1, 1.1, 1.1, 1.8, 1.8, 1.8, 1.8, 1.1, 1.1, 1.1, 1.1, 0.4, 0.4)
# Where urban villages are likelier: the edge of town more than the old town.
VILLAGE_DENSITY = (1.0, 1.0, 0.8, 0.8, 0.8, 0.8, 0.2, 0.2, 0.2, 0.2, 0.7, 0.7, 0.7, 0.7, 1.0, 1.0)

MIN_ALLEY_M = 150.0  # shorter stretches are not listed as back streets
ALLEY_GAP_M = 45.0  # alleys run at least this far apart (their 15 m zones never merge)
JUNCTION_CLEAR_M = 50.0  # within this of its own ends an alley may come closer (it meets there)
EDGE_CLEAR_M = 40.0  # dead ends stop this short of a main road, the water and the frame edge
SNAP_M = 1.0  # a junction this close to an existing vertex uses that vertex
MAX_VERTICES = 8
NEIGHBOURHOOD_M = 350.0  # alleys gather within a few hundred metres of a neighbourhood's centre


@dataclass
class Alley:
    """One back street while the network grows: vertices (metres), its district, its line."""

    coords: np.ndarray
    district: int
    line: shapely.LineString = field(init=False)

    def __post_init__(self) -> None:
        self.line = shapely.LineString(self.coords)

    def reshape(self, coords: np.ndarray) -> None:
        """New vertices (a junction inserted): the line follows."""
        self.coords = coords
        self.line = shapely.LineString(coords)


# ------------------------------------------------------------------- shared helpers


def finish_layer(st: Demo, layer: str, feats: list[Feature], sort: bool = True) -> None:
    """Find each feature's district, order features spatially, give them ids."""
    geoms = np.array([f.geom for f in feats], dtype=object)
    rep = np.empty(len(geoms), dtype=object)
    kind = shapely.get_type_id(geoms)
    is_line = kind == 1
    rep[is_line] = shapely.line_interpolate_point(geoms[is_line], 0.5, normalized=True)
    rep[kind == 3] = shapely.point_on_surface(geoms[kind == 3])
    rep[kind == 0] = geoms[kind == 0]
    hit = st.district_tree.query(rep, predicate="intersects")
    district = np.full(len(geoms), 10**9)
    np.minimum.at(district, hit[0], hit[1])
    if (district == 10**9).any():
        raise RuntimeError(f"{layer}: feature outside every district")
    for f, d in zip(feats, district, strict=True):
        if f.district < 0:
            f.district = int(d)
    if sort:
        xy = shapely.get_coordinates(rep)
        order = sorted(range(len(feats)), key=lambda i: (feats[i].district, -round(xy[i, 1]), round(xy[i, 0]), i))
        feats = [feats[i] for i in order]
    ids = make_ids(layer, len(feats), st.scale)
    for f, fid in zip(feats, ids, strict=True):
        f.props = {"id": fid, **f.props}
    st.layers[layer] = feats


def place(
    st: Demo,
    make_batch: Callable[[int], tuple[np.ndarray, np.ndarray]],
    n: int,
    keep_out: Sequence[tuple[np.ndarray, float]],
    gap_self: float,
    accept: Callable[[np.ndarray], np.ndarray] | None = None,
    margin: float = 50.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw batches of candidates until n are accepted.

    A candidate is kept if it is valid (also once rounded to lon/lat), inside the frame
    by ``margin``, at least the given gap from every keep-out geometry, from every
    feature already accepted, and from every earlier candidate of its own batch.
    Spatial indexes keep this O(n log n).
    """
    inner = shapely.buffer(st.frame, -margin, join_style="mitre")
    shapely.prepare(inner)
    trees = [(shapely.STRtree(g), d) for g, d in keep_out if len(g)]
    done_g: list[np.ndarray] = []
    done_t: list[np.ndarray] = []
    have = 0
    for _ in range(500):
        need = n - have
        if need <= 0:
            break
        cand, tags = make_batch(max(16, 2 * need))
        ok = shapely.is_valid(cand) & shapely.within(cand, inner)
        if accept is not None:
            ok &= accept(cand)
        ll = to_lonlat(cand)
        ok &= shapely.is_valid(ll) & shapely.is_simple(ll)
        for tree, dist in trees:
            hit = tree.query(cand, predicate="dwithin", distance=dist)
            ok[hit[0]] = False
        if done_g:
            tree = shapely.STRtree(np.concatenate(done_g))
            hit = tree.query(cand, predicate="dwithin", distance=gap_self)
            ok[hit[0]] = False
        tree = shapely.STRtree(cand)
        hit = tree.query(cand, predicate="dwithin", distance=gap_self)
        earlier = (hit[1] < hit[0]) & ok[hit[1]]
        ok[hit[0][earlier]] = False
        idx = np.flatnonzero(ok)[:need]
        done_g.append(cand[idx])
        done_t.append(tags[idx])
        have += len(idx)
    if have < n:
        raise RuntimeError(f"could only place {have} of {n} features")
    return np.concatenate(done_g), np.concatenate(done_t)


def _quotas(st: Demo, total: int, density: Sequence[float]) -> list[int]:
    """Split total over the districts in proportion to their density (largest remainder)."""
    weight = np.array([density[d % len(density)] for d in range(len(st.district_geoms))])
    exact = total * weight / weight.sum()
    quota = np.floor(exact).astype(int)
    rest = total - int(quota.sum())
    order = np.argsort(-(exact - quota), kind="stable")
    quota[order[:rest]] += 1
    return [int(q) for q in quota]


def _points_in_districts(st: Demo, m: int, density: Sequence[float], margin: float) -> np.ndarray:
    """m points inside the districts, districts chosen by density x area."""
    rng = st.rng
    weight = np.array([density[d % len(density)] for d in range(len(st.district_geoms))])
    weight = weight * shapely.area(st.district_geoms)
    weight /= weight.sum()
    out = np.empty((m, 2))
    districts = rng.choice(len(weight), size=m, p=weight)
    for i, d in enumerate(districts):
        poly = st.district_geoms[int(d)]
        inner = shapely.buffer(poly, -margin)
        x0, y0, x1, y1 = poly.bounds
        for _ in range(200):
            p = (rng.uniform(x0, x1), rng.uniform(y0, y1))
            if shapely.contains_xy(inner, *p):
                break
        out[i] = p
    return out


def _points_in_districts_of(st: Demo, d: int, m: int) -> np.ndarray:
    """m points spread uniformly inside district d."""
    rng = st.rng
    poly = st.district_geoms[d]
    x0, y0, x1, y1 = poly.bounds
    out = []
    while len(out) < m:
        p = (rng.uniform(x0, x1), rng.uniform(y0, y1))
        if shapely.contains_xy(poly, *p):
            out.append(p)
    return np.array(out)


def _near_water(st: Demo, geom: shapely.Geometry, distance_m: float) -> shapely.Geometry:
    """The water within reach of geom, grown by distance_m (empty when none is near)."""
    near = [w for w in st.water if shapely.dwithin(w, geom, distance_m + 1.0)]
    return shapely.buffer(shapely.union_all(near), distance_m) if near else shapely.Polygon()


# ------------------------------------------------------------------- urban villages


def _village_batch(st: Demo, m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = st.rng
    centre = _points_in_districts(st, m, VILLAGE_DENSITY, 200.0)
    k = rng.integers(6, 11, m)
    radius = rng.uniform(120, 290, m)
    ang0 = rng.uniform(0, 2 * np.pi, m)
    j = np.arange(10)
    t = (j[None, :] + rng.uniform(-0.3, 0.3, (m, 10))) / k[:, None] * 2 * np.pi + ang0[:, None]
    rad = radius[:, None] * rng.uniform(0.7, 1.0, (m, 10))
    pts = centre[:, None, :] + rad[..., None] * np.stack([np.cos(t), np.sin(t)], axis=-1)
    valid = j[None, :] < k[:, None]
    rings = shapely.linearrings(pts[valid], indices=np.repeat(np.arange(m), k))
    return shapely.polygons(rings), np.zeros(m, dtype=int)


def build_villages(st: Demo) -> None:
    """Urban villages: irregular 6-10 vertex polygons, 200-600 m across, inside one district."""
    n = N_VILLAGES * st.scale

    def size_ok(g: np.ndarray) -> np.ndarray:
        across = 2 * shapely.minimum_bounding_radius(g)
        return (across >= 200) & (across <= 600)

    keep_out = [(st.water, 60.0), (st.district_edges, 15.0)]
    geoms, _ = place(st, partial(_village_batch, st), n, keep_out, 40.0, size_ok, margin=60.0)
    names = combo_names(st.rng, n, SURNAMES, VILLAGE_SUFFIXES, lambda p, s, k: f"{p}{s[:-1]}{cn_number(k)}村")
    grades = st.rng.choice(["一级", "二级", "三级"], size=n, p=[0.2, 0.5, 0.3])
    feats = []
    for g, name, grade in zip(geoms, names, grades, strict=True):
        households = int(shapely.area(g) / 10000 * st.rng.uniform(40, 90))
        feats.append(Feature("urban_villages", g, {"name": name, "grade": str(grade), "households": households}))
    st.village_geoms = geoms
    finish_layer(st, "urban_villages", feats)


# ------------------------------------------------------------------- back streets


def _road_starts(st: Demo, d: int, usable: shapely.Geometry) -> list[tuple[np.ndarray, np.ndarray]]:
    """Main-road vertices of district d where an alley can start, with the inward direction."""
    starts = []
    for edge in st.road_edges[d]:
        for i in range(2, len(edge) - 2):
            tangent = edge[i + 1] - edge[i - 1]
            normal = np.array([-tangent[1], tangent[0]]) / float(np.hypot(*tangent))
            probe = edge[i] + 70.0 * normal
            if shapely.contains_xy(usable, probe[0], probe[1]):
                starts.append((edge[i], normal))
    return starts


def _rotate(v: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def _snap_or_insert(alley: Alley, point: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The junction vertex on an alley: an existing vertex within SNAP_M, else point inserted.

    Returns (vertex, new coords), or None when the alley has no room for another vertex.
    """
    d = np.hypot(*(alley.coords - point).T)
    i = int(np.argmin(d))
    if d[i] <= SNAP_M:
        return alley.coords[i], alley.coords
    if len(alley.coords) >= MAX_VERTICES:
        return None
    along = alley.line.project(shapely.Point(point))
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(alley.coords, axis=0).T))])
    j = int(np.searchsorted(cum, along))
    return point, np.vstack([alley.coords[:j], point[None, :], alley.coords[j:]])


def _first_run(cand: shapely.LineString, usable: shapely.Geometry, entry_m: float) -> float:
    """How far the candidate runs inside usable ground from its start (0 when it never gets in).

    A candidate that starts on a main road enters the usable ground within entry_m.
    """
    inside = shapely.intersection(cand, usable)
    best = 0.0
    for part in shapely.get_parts(inside):
        if part.geom_type != "LineString" or part.is_empty:
            continue
        a = cand.project(shapely.Point(part.coords[0]))
        b = cand.project(shapely.Point(part.coords[-1]))
        a, b = min(a, b), max(a, b)
        if a <= entry_m:
            best = max(best, b)
    return best


def _grow_alleys(st: Demo, d: int, alleys: list[Alley], target: int) -> None:
    """Grow district d's alley network until it holds target alleys (or no room is left)."""
    rng = st.rng
    poly = st.district_geoms[d]
    usable = shapely.difference(shapely.buffer(poly, -EDGE_CLEAR_M), _near_water(st, poly, EDGE_CLEAR_M))
    shapely.prepare(usable)
    starts = _road_starts(st, d, usable)
    if not starts:
        return
    # Alleys cluster into neighbourhoods: road starts near a few centres are likelier.
    centres = _points_in_districts_of(st, d, int(rng.integers(2, 5)))
    start_xy = np.array([s[0] for s in starts])
    near_m = np.min(np.hypot(*(start_xy[:, None, :] - centres[None, :, :]).transpose(2, 0, 1)), axis=1)
    start_p = np.exp(-near_m / NEIGHBOURHOOD_M) + 0.02
    start_p /= start_p.sum()
    lines = np.array([a.line for a in alleys], dtype=object)  # kept in step with alleys
    attempts = 0
    while len(alleys) < target and attempts < 80 * target + 200:
        attempts += 1
        parent: Alley | None = None
        if not alleys or rng.random() < 0.4:
            p, normal = starts[int(rng.choice(len(starts), p=start_p))]
            entry_m = EDGE_CLEAR_M + 15.0
        else:
            parent = alleys[int(rng.integers(len(alleys)))]
            line = parent.line
            if line.length < 2 * JUNCTION_CLEAR_M + 10:
                continue
            at = float(rng.uniform(JUNCTION_CLEAR_M, line.length - JUNCTION_CLEAR_M))
            p = np.array(line.interpolate(at).coords[0])
            ahead = np.array(line.interpolate(min(at + 1.0, line.length)).coords[0])
            behind = np.array(line.interpolate(max(at - 1.0, 0.0)).coords[0])
            tangent = ahead - behind
            normal = np.array([-tangent[1], tangent[0]]) / float(np.hypot(*tangent))
            if rng.random() < 0.5:
                normal = -normal
            entry_m = 0.0
        heading = _rotate(normal, float(rng.normal(0.0, 0.05)))
        length_m = MIN_ALLEY_M + 20.0 + 480.0 * float(rng.beta(1.4, 2.0))
        if rng.random() < 0.35:
            f = float(rng.uniform(0.35, 0.65))
            turn = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.12, 0.35))
            knee = p + f * length_m * heading
            pts = np.array([p, knee, knee + (1 - f) * length_m * _rotate(heading, turn)])
        else:
            pts = np.array([p, p + length_m * heading])
        cand = shapely.LineString(pts)
        end_m = _first_run(cand, usable, entry_m)
        if end_m < MIN_ALLEY_M:
            continue
        # The first alley it meets ends it: a T junction.
        hit: tuple[float, int, np.ndarray] | None = None
        crossings = shapely.intersection(cand, lines) if alleys else np.empty(0, dtype=object)
        for k in np.flatnonzero(~shapely.is_empty(crossings)):
            if alleys[k] is parent:
                continue
            for q in shapely.get_parts(crossings[k]):
                if q.geom_type != "Point":
                    continue
                at_q = cand.project(q)
                if 1.0 < at_q < end_m and (hit is None or at_q < hit[0]):
                    hit = (at_q, int(k), np.array(q.coords[0]))
        if hit is not None:
            end_m = hit[0]
            if end_m < MIN_ALLEY_M:
                continue
            other_line = alleys[hit[1]].line
            at_other = other_line.project(shapely.Point(hit[2]))
            if min(at_other, other_line.length - at_other) < JUNCTION_CLEAR_M:
                continue  # not at the very end of the other alley
        path = np.array(shapely.ops.substring(cand, 0.0, end_m).coords)
        path[0] = p
        # Clear of every other alley away from its own junctions.
        middle = shapely.ops.substring(
            shapely.LineString(path), JUNCTION_CLEAR_M, end_m - (JUNCTION_CLEAR_M if hit is not None else 0.0)
        )
        if middle.length > 0 and shapely.dwithin(middle, lines, ALLEY_GAP_M).any():
            continue
        # Junction vertices shared exactly.
        updates: list[tuple[Alley, np.ndarray]] = []
        if parent is not None:
            snapped = _snap_or_insert(parent, p)
            if snapped is None:
                continue
            path[0] = snapped[0]
            updates.append((parent, snapped[1]))
        if hit is not None:
            snapped = _snap_or_insert(alleys[hit[1]], hit[2])
            if snapped is None:
                continue
            path[-1] = snapped[0]
            updates.append((alleys[hit[1]], snapped[1]))
        for alley, coords in updates:
            alley.reshape(coords)
        alleys.append(Alley(path, d))
        lines = np.array([a.line for a in alleys], dtype=object)


def build_streets(st: Demo) -> None:
    """Back streets: the alley network of every district, grown from its main roads."""
    n = N_STREETS * st.scale
    quotas = _quotas(st, n, STREET_DENSITY)
    per_district: list[list[Alley]] = [[] for _ in quotas]
    carry = 0
    for d, quota in enumerate(quotas):
        _grow_alleys(st, d, per_district[d], quota + carry)
        carry = quota + carry - len(per_district[d])
    for d in np.argsort([-q for q in quotas], kind="stable"):
        if carry <= 0:
            break
        before = len(per_district[int(d)])
        _grow_alleys(st, int(d), per_district[int(d)], before + carry)
        carry -= len(per_district[int(d)]) - before
    alleys = [a for group in per_district for a in group]
    if len(alleys) != n:
        raise RuntimeError(f"could only grow {len(alleys)} of {n} back streets")
    geoms = np.array([a.line for a in alleys], dtype=object)
    ll = to_lonlat(geoms)
    if not (shapely.is_valid(ll).all() and shapely.is_simple(ll).all()):
        raise RuntimeError("a back street is not simple once rounded")
    st.street_geoms = geoms
    names = combo_names(st.rng, n, STREET_PREFIXES, STREET_SUFFIXES, lambda p, s, k: f"{p}{cn_number(k)}{s}")
    grades = st.rng.choice(GRADES4, size=n, p=[0.15, 0.4, 0.35, 0.1])
    widths = np.round((3 + 9 * st.rng.beta(1.5, 3.0, n)) * 2) / 2
    feats = [
        Feature(
            "back_streets",
            g,
            {"name": name, "grade": str(grade), "width_m": float(w)},
            district=alley.district,
            tag=f"s{i}",
        )
        for i, (g, alley, name, grade, w) in enumerate(zip(geoms, alleys, names, grades, widths, strict=True))
    ]
    finish_layer(st, "back_streets", feats)


# ------------------------------------------------------------------- compounds


def _compound_shape(st: Demo, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Blocks in local (along, across) metres: rectangles, some L-shaped, slightly irregular."""
    rng = st.rng
    w = rng.uniform(55, 190, m)
    h = rng.uniform(45, 160, m)
    a = rng.uniform(0.4, 0.7, m)
    b = rng.uniform(0.4, 0.7, m)
    is_l = rng.random(m) < 0.35
    local = np.zeros((m, 6, 2))
    local[:] = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 1], [0, 1]], dtype=float)
    ell = np.stack(
        [
            np.column_stack([np.zeros(m), np.zeros(m)]),
            np.column_stack([np.ones(m), np.zeros(m)]),
            np.column_stack([np.ones(m), a]),
            np.column_stack([b, a]),
            np.column_stack([b, np.ones(m)]),
            np.column_stack([np.zeros(m), np.ones(m)]),
        ],
        axis=1,
    )
    local[is_l] = ell[is_l]
    local = local * np.stack([w, h], axis=-1)[:, None, :]
    local[..., 0] -= w[:, None] / 2
    local += rng.uniform(-0.04, 0.04, (m, 6, 2)) * np.minimum(w, h)[:, None, None]
    return local, is_l


def _to_polygons(local: np.ndarray, is_l: np.ndarray, origin: np.ndarray, along: np.ndarray) -> np.ndarray:
    """Local (along, across) blocks placed at origin with their along axis on direction along."""
    c, s = along[:, 0:1], along[:, 1:2]
    xs = local[..., 0] * c - local[..., 1] * s + origin[:, 0:1]
    ys = local[..., 0] * s + local[..., 1] * c + origin[:, 1:2]
    nv = np.where(is_l, 6, 4)
    valid = np.arange(6)[None, :] < nv[:, None]
    pts = np.stack([xs, ys], axis=-1)[valid]
    rings = shapely.linearrings(pts, indices=np.repeat(np.arange(len(local)), nv))
    return shapely.polygons(rings)


def _compound_batch(st: Demo, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Blocks facing an alley: front edge 10-22 m from its centre line, on either side."""
    rng = st.rng
    streets = st.street_geoms
    idx = rng.integers(0, len(streets), m)
    t = rng.uniform(0.15, 0.85, m)
    lengths = shapely.length(streets[idx])
    on = shapely.get_coordinates(shapely.line_interpolate_point(streets[idx], t * lengths))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(streets[idx], t * lengths + 1.0))
    direction = ahead - on
    direction /= np.hypot(direction[:, 0], direction[:, 1])[:, None]
    side = rng.choice([-1.0, 1.0], size=m)
    direction *= side[:, None]  # flipping the along axis puts the block on the other side
    local, is_l = _compound_shape(st, m)
    local[..., 1] += rng.uniform(10, 22, m)[:, None]
    return _to_polygons(local, is_l, on, direction), idx


def _compound_keep_out(st: Demo) -> list[tuple[np.ndarray, float]]:
    return [(st.water, 30.0), (st.village_geoms, 20.0), (st.street_geoms, 8.0), (st.district_edges, 10.0)]


def build_compounds(st: Demo) -> None:
    """Compounds without property management beside the alleys, plus the planted overlapping pairs."""
    n = N_COMPOUNDS * st.scale
    n_pairs = st.scale
    keep_out = _compound_keep_out(st)

    def size_ok(g: np.ndarray) -> np.ndarray:
        across = 2 * shapely.minimum_bounding_radius(g)
        return (across >= 60) & (across <= 250)

    geoms, _ = place(st, partial(_compound_batch, st), n - n_pairs, keep_out, 20.0, size_ok, margin=60.0)
    partners = _plant_overlaps(st, geoms, n_pairs, keep_out, size_ok)
    all_geoms = np.concatenate([geoms, np.array([b for _, b in partners], dtype=object)])
    names = combo_names(st.rng, n, COMPOUND_PREFIXES, COMPOUND_SUFFIXES, lambda p, s, k: f"{p}{s}{cn_number(k)}期")
    grades = st.rng.choice(["一级", "二级", "三级"], size=n, p=[0.2, 0.5, 0.3])
    feats = []
    for i, (g, name, grade) in enumerate(zip(all_geoms, names, grades, strict=True)):
        households = max(20, int(shapely.area(g) / 10000 * st.rng.uniform(60, 150)))
        feats.append(
            Feature(
                "unmanaged_compounds", g, {"name": name, "grade": str(grade), "households": households}, tag=f"g{i}"
            )
        )
    finish_layer(st, "unmanaged_compounds", feats)
    by_tag = {f.tag: f.props["id"] for f in st.layers["unmanaged_compounds"]}
    st.overlap_pairs = [(str(by_tag[f"g{a}"]), str(by_tag[f"g{len(geoms) + i}"])) for i, (a, _) in enumerate(partners)]


def _plant_overlaps(
    st: Demo,
    geoms: np.ndarray,
    n_pairs: int,
    keep_out: Sequence[tuple[np.ndarray, float]],
    size_ok: Callable[[np.ndarray], np.ndarray],
) -> list[tuple[int, shapely.Geometry]]:
    """Planted problem 2: a second compound overlapping a first by ~400 m² (drawn twice in the plan)."""
    rng = st.rng
    tree = shapely.STRtree(geoms)
    inner = shapely.buffer(st.frame, -60.0, join_style="mitre")
    pairs: list[tuple[int, shapely.Geometry]] = []
    used: set[int] = set()
    order = rng.permutation(len(geoms))
    for a in order:
        if len(pairs) == n_pairs:
            break
        a = int(a)
        if a in used:
            continue
        ga = geoms[a]
        ca = np.array(shapely.get_coordinates(shapely.centroid(ga))[0])
        local, is_l = _compound_shape(st, 1)
        local[..., 1] -= local[..., 1].mean()
        theta = rng.uniform(0, 2 * np.pi)
        turn = np.array([[math.cos(theta + 0.3), math.sin(theta + 0.3)]])
        shape = _to_polygons(local, is_l, np.zeros((1, 2)), turn)[0]
        direction = np.array([math.cos(theta), math.sin(theta)])
        reach = shapely.minimum_bounding_radius(ga) + shapely.minimum_bounding_radius(shape)

        def moved(
            t: float, shape: shapely.Geometry = shape, ca: np.ndarray = ca, direction: np.ndarray = direction
        ) -> shapely.Geometry:
            offset = ca + t * direction
            return shapely.transform(shape, lambda c, o=offset: c + o)

        lo, hi = 0.0, float(reach) + 1.0
        for _ in range(50):
            mid = (lo + hi) / 2
            if shapely.area(shapely.intersection(ga, moved(mid))) > 400.0:
                lo = mid
            else:
                hi = mid
        gb = moved(hi)
        overlap = float(shapely.area(shapely.intersection(ga, gb)))
        if not (300.0 <= overlap <= 600.0):
            continue
        if not (size_ok(np.array([gb], dtype=object))[0] and shapely.within(gb, inner)):
            continue
        ll = to_lonlat(np.array([gb], dtype=object))[0]
        if not shapely.is_valid(ll):
            continue
        hits = tree.query(gb, predicate="dwithin", distance=20.0)
        if set(hits.tolist()) != {a}:
            continue
        if any(shapely.dwithin(gb, g, d).any() for g, d in keep_out if len(g)):
            continue
        if any(shapely.dwithin(gb, other, 20.0) for _, other in pairs):
            continue
        if any(shapely.dwithin(geoms[b], gb, 20.0) for b in used):
            continue
        pairs.append((a, gb))
        used.add(a)
    if len(pairs) < n_pairs:
        raise RuntimeError("could not plant the overlapping compounds")
    return pairs


# ------------------------------------------------------------------- facilities


def _facility_batch(st: Demo, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Bins 6-12 m from an alley (tag 1); toilets and transfer stations 15-35 m off one (tag 0)."""
    rng = st.rng
    streets = st.street_geoms
    near = rng.random(m) < 0.65
    idx = rng.integers(0, len(streets), m)
    t = rng.random(m)
    on = shapely.get_coordinates(shapely.line_interpolate_point(streets[idx], t, normalized=True))
    off = np.where(near, rng.uniform(6, 12, m), rng.uniform(15, 35, m))
    ang = rng.uniform(0, 2 * np.pi, m)
    pts = on + off[:, None] * np.column_stack([np.cos(ang), np.sin(ang)])
    return shapely.points(pts), near.astype(int)


def build_facilities(st: Demo) -> None:
    """Toilets, transfer stations and litter bins, named after the nearest back street."""
    n = N_FACILITIES * st.scale
    geoms, near = place(st, partial(_facility_batch, st), n, [(st.water, 20.0)], 25.0, margin=40.0)
    kinds = np.where(near == 1, "果皮箱", np.where(st.rng.random(n) < 0.72, "公厕", "垃圾转运站"))
    nearest = shapely.STRtree(st.street_geoms).query_nearest(geoms, all_matches=False)
    street_of = np.empty(n, dtype=int)
    street_of[nearest[0]] = nearest[1]
    # street_geoms keeps growing order; the layer itself is sorted, so map by tag.
    street_name = {f.tag: str(f.props["name"]) for f in st.layers["back_streets"]}
    seen: dict[tuple[str, str], int] = {}
    feats = []
    for g, kind, s in zip(geoms, kinds, street_of, strict=True):
        base = street_name[f"s{s}"]
        key = (base, str(kind))
        seen[key] = seen.get(key, 0) + 1
        k = seen[key]
        name = f"{base}{kind}" if k == 1 else f"{base}{k}号{kind}"
        feats.append(Feature("facilities", g, {"name": name, "kind": str(kind)}))
    finish_layer(st, "facilities", feats)
