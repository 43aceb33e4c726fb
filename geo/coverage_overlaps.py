"""Overlapping duty zones: conflicts (two units, same priority) and nesting (different priorities).

A *claim* is the ground of one (feature, stretch) and the units holding it
(lead or shared) on a date; units sharing one feature share one claim, so a
lead and its sharing units never conflict with each other. Two claims whose
ground overlaps are then:

* a **conflict** when they sit at the same priority and their units differ:
  nobody can tell which unit answers for that ground;
* **nesting** when the priorities differ: the more specific zone (lower
  priority number, e.g. a back street) wins inside the broader one (an urban
  village). Reported as information, never as a conflict;
* nothing when the same units hold both.

Two different lines (two streets, two bank segments) always overlap a little
where they meet end to end, cross or form a T, because their zones are
buffered by the lookup tolerance. Such a **junction** is not a conflict: the
lookup gives the nearer centreline. Two lines conflict only when they *run
together*: each lies on the other's cleaned surface (centreline buffered by
half the wider street's width plus 1 m) for more than
``max(JUNCTION_RUN_M, 4 x that distance)`` (at most half the shorter line,
so a short duplicate is caught). A crossing runs together for only
2d / sin(angle), so only crossings flatter than about 15-30 degrees would
count. Two points (facilities) conflict only when they are the same place
(within ``DUPLICATE_POINT_M``); their zones are lookup tolerance, not ground.

Stretches of one line are compared along the line, not as polygons: two
stretches that meet at a cut touch along a line (zero area), and at a bend
their flat ends would overlap in a small wedge that is not a conflict. They
conflict only when two different lead units claim the same metres
(``double_lead``); the ground is the stretch zone of the common metres. A
feature with two lead units over the same ground is a ``double_lead`` too.

Candidate pairs come from an STRtree query (never all pairs); intersections
are one vectorised shapely call over the pair arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.coverage_frame import NOISE_M2, is_sliver, mean_width_m, valid_polygons
from geo.zones import HOLDING_ROLES, MIN_TOLERANCE_M, STRETCH_SLACK_M, line_substring, stretch_zone

# Two lines running together for longer than this are one street claimed twice, not a junction.
JUNCTION_RUN_M = 50.0
# Two facilities closer than this are one facility entered twice.
DUPLICATE_POINT_M = 1.0

CONFLICT_COLUMNS = (
    "kind",
    "area_m2",
    "length_m",
    "priority",
    "layer",
    "layers",
    "unit_ids",
    "unit_names",
    "feature_ids",
    "feature_names",
    "district_id",
    "is_sliver",
    "geometry",
)
NESTING_COLUMNS = (
    "kind",
    "area_m2",
    "inner_layer",
    "inner_feature_id",
    "inner_name",
    "inner_unit_ids",
    "inner_priority",
    "outer_layer",
    "outer_feature_id",
    "outer_name",
    "outer_unit_ids",
    "outer_priority",
    "district_id",
    "geometry",
)


def claims(zones: pd.DataFrame) -> pd.DataFrame:
    """One row per (layer, feature, stretch) held on the date, with its holders and leads."""
    holding = zones[zones["role"].isin(HOLDING_ROLES)]
    if holding.empty:
        return pd.DataFrame(
            columns=[
                "layer",
                "feature_id",
                "name",
                "kind",
                "priority",
                "from_m",
                "to_m",
                "tolerance_m",
                "district_id",
                "holders",
                "leads",
                "unit_names",
                "width_m",
                "zone_metric",
                "feature_metric",
                "centreline",
            ]
        )
    # One pass over plain arrays: a pandas groupby with Python callbacks is far slower at 60,000 zones.
    starts = holding["from_m"].fillna(-1.0).to_numpy(dtype=float)
    ends = holding["to_m"].fillna(-1.0).to_numpy(dtype=float)
    layers = holding["layer"].to_numpy(dtype=object)
    fids = holding["feature_id"].to_numpy(dtype=object)
    units = holding["unit_id"].to_numpy(dtype=object)
    unit_names = holding["unit_name"].to_numpy(dtype=object)
    is_lead = (holding["role"] == "lead").to_numpy(dtype=bool)
    position_of: dict[tuple, int] = {}
    first_rows: list[int] = []
    holder_sets: list[set[str]] = []
    lead_sets: list[set[str]] = []
    name_maps: list[dict[str, str]] = []
    for row, key in enumerate(zip(layers, fids, starts, ends, strict=True)):
        position = position_of.get(key)
        if position is None:
            position = position_of[key] = len(first_rows)
            first_rows.append(row)
            holder_sets.append(set())
            lead_sets.append(set())
            name_maps.append({})
        holder_sets[position].add(units[row])
        name_maps[position][units[row]] = unit_names[row]
        if is_lead[row]:
            lead_sets[position].add(units[row])
    first = holding.iloc[first_rows]
    holders = np.empty(len(first_rows), dtype=object)
    leads = np.empty(len(first_rows), dtype=object)
    names = np.empty(len(first_rows), dtype=object)
    for position in range(len(first_rows)):
        holders[position] = tuple(sorted(holder_sets[position]))
        leads[position] = tuple(sorted(lead_sets[position]))
        names[position] = name_maps[position]
    result = pd.DataFrame(
        {
            "layer": first["layer"].to_numpy(dtype=object),
            "feature_id": first["feature_id"].to_numpy(dtype=object),
            "name": first["name"].to_numpy(dtype=object),
            "kind": first["kind"].to_numpy(dtype=object),
            "priority": first["priority"].to_numpy(),
            "from_m": first["from_m"].to_numpy(dtype=float),
            "to_m": first["to_m"].to_numpy(dtype=float),
            "tolerance_m": first["tolerance_m"].to_numpy(dtype=float),
            "district_id": first["district_id"].to_numpy(dtype=object),
            "holders": holders,
            "leads": leads,
            "unit_names": names,
            "width_m": np.nan_to_num(first["width_m"].to_numpy(dtype=float)),
            "zone_metric": valid_polygons(np.asarray(first["zone_metric"].values, dtype=object)),
            "feature_metric": np.asarray(first["feature_metric"].values, dtype=object),
        }
    )
    result["centreline"] = _centrelines(result)
    return result


def _centrelines(table: pd.DataFrame) -> np.ndarray:
    """The claimed piece of each line (the stretch, or the whole line); the feature itself otherwise."""
    lines = np.asarray(table["feature_metric"].to_numpy(), dtype=object).copy()
    stretched = np.flatnonzero(
        (table["kind"].to_numpy() == "line") & np.isfinite(table["from_m"].to_numpy(dtype=float))
    )
    for position in stretched:
        lines[position] = line_substring(
            lines[position], float(table["from_m"].iat[position]), float(table["to_m"].iat[position])
        )
    return lines


def overlaps(zones: pd.DataFrame, sliver_m2: float, sliver_width_m: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(conflicts, nesting) among the zones in force on one date, geometry in the metric CRS.

    Conflicts smaller than ``sliver_m2`` (or thinner than ``sliver_width_m``)
    come back flagged ``is_sliver``: the caller reports them as slivers.
    """
    table = claims(zones)
    conflict_rows: list[dict] = []
    nesting_rows: list[dict] = []
    if table.empty:
        return _frame(conflict_rows, CONFLICT_COLUMNS), _frame(nesting_rows, NESTING_COLUMNS)
    # Plain arrays: per-row pandas access costs microseconds each, and there are tens of thousands of pairs.
    cols = {column: table[column].to_numpy() for column in table.columns}
    geoms = np.asarray(table["zone_metric"].to_numpy(), dtype=object)
    layers = table["layer"].to_numpy(dtype=object)
    fids = table["feature_id"].to_numpy(dtype=object)
    priority = table["priority"].to_numpy(dtype=float)
    holders = table["holders"].to_numpy(dtype=object)
    leads = table["leads"].to_numpy(dtype=object)

    for position in np.flatnonzero([len(v) > 1 for v in leads]):
        # Two lead units over the very same ground (a whole feature or one stretch).
        conflict_rows.append(
            _conflict(cols, position, position, "double_lead", geoms[position], length_m=_length(cols, position))
        )

    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    same_feature = (layers[left] == layers[right]) & (fids[left] == fids[right])
    same_holders = np.array([holders[a] == holders[b] for a, b in zip(left, right, strict=True)], dtype=bool)

    for a, b in zip(left[same_feature], right[same_feature], strict=True):
        row = _stretch_conflict(cols, int(a), int(b))
        if row is not None:
            conflict_rows.append(row)

    other = ~same_feature & ~same_holders
    level = priority[left] == priority[right]
    conflict_pairs = other & level
    junctions = conflict_pairs & _meeting_only(cols, left, right)
    conflict_pairs &= ~junctions
    if conflict_pairs.any():
        a_idx, b_idx = left[conflict_pairs], right[conflict_pairs]
        pieces = _intersection(geoms[a_idx], geoms[b_idx])
        areas = shapely.area(pieces)
        for k in np.flatnonzero(areas > NOISE_M2):
            conflict_rows.append(_conflict(cols, int(a_idx[k]), int(b_idx[k]), "overlap", pieces[k]))

    nesting_pairs = other & ~level
    if nesting_pairs.any():
        a_idx, b_idx = left[nesting_pairs], right[nesting_pairs]
        inner = np.where(priority[a_idx] < priority[b_idx], a_idx, b_idx)
        outer = np.where(priority[a_idx] < priority[b_idx], b_idx, a_idx)
        shapely.prepare(geoms)
        contained = shapely.covers(geoms[outer], geoms[inner])
        pieces = geoms[inner].copy()
        partial = ~contained
        if partial.any():
            pieces[partial] = _intersection(geoms[outer[partial]], geoms[inner[partial]])
        areas = shapely.area(pieces)
        for k in np.flatnonzero(areas > NOISE_M2):
            i, o = int(inner[k]), int(outer[k])
            nesting_rows.append(
                {
                    "kind": "nested" if contained[k] else "partial",
                    "area_m2": float(areas[k]),
                    "inner_layer": layers[i],
                    "inner_feature_id": fids[i],
                    "inner_name": cols["name"][i],
                    "inner_unit_ids": list(holders[i]),
                    "inner_priority": int(priority[i]),
                    "outer_layer": layers[o],
                    "outer_feature_id": fids[o],
                    "outer_name": cols["name"][o],
                    "outer_unit_ids": list(holders[o]),
                    "outer_priority": int(priority[o]),
                    "district_id": "",
                    "geometry": pieces[k],
                }
            )

    conflicts = _frame(conflict_rows, CONFLICT_COLUMNS)
    conflicts.attrs["junctions"] = int(junctions.sum()) if len(left) else 0
    if len(conflicts):
        conflict_geoms = np.asarray(conflicts["geometry"].to_numpy(), dtype=object)
        conflicts["is_sliver"] = is_sliver(
            conflicts["area_m2"].to_numpy(dtype=float), mean_width_m(conflict_geoms), sliver_m2, sliver_width_m
        )
        conflicts = conflicts.sort_values("area_m2", ascending=False, kind="stable").reset_index(drop=True)
    nesting = _frame(nesting_rows, NESTING_COLUMNS)
    if len(nesting):
        nesting = nesting.sort_values("area_m2", ascending=False, kind="stable").reset_index(drop=True)
    return conflicts, nesting


def _meeting_only(cols: dict[str, np.ndarray], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """For each pair: True when two lines merely meet (junction) or two points are distinct places.

    See the module docstring for the rule; pairs of other kinds are False.
    """
    kinds = cols["kind"].astype(object)
    result = np.zeros(len(left), dtype=bool)
    centres = np.asarray(cols["centreline"], dtype=object)
    points = (kinds[left] == "point") & (kinds[right] == "point")
    if points.any():
        result[points] = shapely.distance(centres[left[points]], centres[right[points]]) > DUPLICATE_POINT_M
    lines = (kinds[left] == "line") & (kinds[right] == "line")
    if lines.any():
        a, b = left[lines], right[lines]
        widths = cols["width_m"].astype(float)
        reach_m = np.maximum(np.maximum(widths[a], widths[b]) / 2.0, MIN_TOLERANCE_M) + 1.0
        together_a = shapely.length(shapely.intersection(centres[a], shapely.buffer(centres[b], reach_m)))
        together_b = shapely.length(shapely.intersection(centres[b], shapely.buffer(centres[a], reach_m)))
        together_m = np.minimum(together_a, together_b)
        shorter_m = np.minimum(shapely.length(centres[a]), shapely.length(centres[b]))
        threshold_m = np.maximum(2.0 * reach_m, np.minimum(np.maximum(JUNCTION_RUN_M, 4.0 * reach_m), shorter_m / 2.0))
        result[lines] = together_m <= threshold_m
    return result


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Vectorised intersection; pairs GEOS cannot overlay in floating point retry on a 1 mm grid."""
    try:
        return shapely.intersection(a, b)
    except shapely.errors.GEOSException:
        result = np.empty(len(a), dtype=object)
        for k in range(len(a)):
            try:
                result[k] = shapely.intersection(a[k], b[k])
            except shapely.errors.GEOSException:
                result[k] = shapely.intersection(a[k], b[k], grid_size=0.001)
        return result


def _length(cols: dict[str, np.ndarray], position: int) -> float:
    if cols["kind"][position] != "line":
        return float("nan")
    start, end = cols["from_m"][position], cols["to_m"][position]
    if np.isnan(start):
        return float(shapely.length(cols["feature_metric"][position]))
    return float(end - start)


def _stretch_conflict(cols: dict[str, np.ndarray], a: int, b: int) -> dict | None:
    """Two claims on one line: a conflict only if different lead units claim the same metres."""
    leads_a, leads_b = set(cols["leads"][a]), set(cols["leads"][b])
    if not leads_a or not leads_b or (leads_a == leads_b and len(leads_a) == 1):
        return None
    if cols["kind"][a] != "line":
        return None
    line = cols["feature_metric"][a]
    full_m = float(shapely.length(line))

    def span(position: int) -> tuple[float, float]:
        start, end = cols["from_m"][position], cols["to_m"][position]
        return (0.0, full_m) if np.isnan(start) else (float(start), float(end))

    (a0, a1), (b0, b1) = span(a), span(b)
    start, end = max(a0, b0), min(a1, b1)
    if end - start <= STRETCH_SLACK_M:
        return None  # the stretches meet at a cut (or overlap by rounding)
    radius_m = max(float(cols["tolerance_m"][a]), MIN_TOLERANCE_M)
    ground = stretch_zone(line, start, end, radius_m)
    return _conflict(cols, a, b, "double_lead", ground, length_m=end - start, units=tuple(sorted(leads_a | leads_b)))


def _conflict(
    cols: dict[str, np.ndarray],
    a: int,
    b: int,
    kind: str,
    ground: object,
    *,
    length_m: float = float("nan"),
    units: tuple[str, ...] | None = None,
) -> dict:
    unit_ids = units if units is not None else tuple(sorted(set(cols["holders"][a]) | set(cols["holders"][b])))
    names = {**cols["unit_names"][a], **cols["unit_names"][b]}
    positions = (
        [a]
        if a == b or (cols["feature_id"][a] == cols["feature_id"][b] and cols["layer"][a] == cols["layer"][b])
        else [a, b]
    )
    layers = sorted({cols["layer"][p] for p in positions})
    return {
        "kind": kind,
        "area_m2": float(shapely.area(ground)),
        "length_m": length_m,
        "priority": int(cols["priority"][a]),
        "layer": "+".join(layers),
        "layers": layers,
        "unit_ids": list(unit_ids),
        "unit_names": [names.get(u, "") for u in unit_ids],
        "feature_ids": [cols["feature_id"][p] for p in positions],
        "feature_names": [cols["name"][p] for p in positions],
        "district_id": "",
        "is_sliver": False,
        "geometry": ground,
    }


def _frame(rows: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    if rows:
        return pd.DataFrame(rows, columns=list(columns))
    return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
