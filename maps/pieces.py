"""Duty zones cut into the pieces a map draws: one per feature, or per stretch of a line.

The duty-zone table has one row per (feature, assignment); a map wants one
shape per piece of ground with everyone who answers for it. A line held in
stretches (0-400 m by one unit, 400-1000 m by another, a supervisor over the
whole) is cut at every stretch end; each piece lists the assignments that
cover it, and pieces no lead or sharing unit covers come out as "nobody
holds" (the 1000-1200 m tail in that example). Polygons and points are one
piece each. Computed once per (Dataset, date) and cached on the Dataset.
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import Dataset
from geo.zones import HOLDING_ROLES, line_substring

# Stretch ends closer than this are one cut (rounding in assignment tables).
CUT_SLACK_M = 0.01

PIECE_COLUMNS = (
    "layer",
    "kind",
    "feature_id",
    "name",
    "from_m",
    "to_m",
    "standard_id",
    "grade",
    "district_id",
    "holders",
    "lead_unit",
    "status",
)


def duty_pieces(ds: Dataset, date: pd.Timestamp | None) -> gpd.GeoDataFrame:
    """The pieces in force on ``date`` (None: today); geometry in ``ds.metric_crs``.

    Columns: layer, kind, feature_id, name, from_m/to_m (NaN for a whole
    feature), standard_id, grade, district_id, holders (tuple of
    ``(unit_id, role, valid_from, valid_until)`` for every assignment that
    covers the piece, supervisors included), lead_unit (the first lead, else
    the first sharing unit, '' when nobody holds it) and status: ``held``,
    ``unheld`` (no lead or sharing unit) or ``conflict`` (two different lead units).
    """
    key = ("maps.duty_pieces", None if date is None else pd.Timestamp(date).normalize())
    return ds.cached(key, lambda: _build(ds, date))


def _build(ds: Dataset, date: pd.Timestamp | None) -> gpd.GeoDataFrame:
    zones = ds.zones_on(date)
    if zones.empty:
        return gpd.GeoDataFrame({c: [] for c in PIECE_COLUMNS}, geometry=[], crs=ds.metric_crs)
    unit_ids = zones["unit_id"].to_numpy(dtype=object)
    roles = zones["role"].to_numpy(dtype=object)
    starts = zones["valid_from"].to_numpy()
    ends = zones["valid_until"].to_numpy()
    from_m = zones["from_m"].to_numpy(dtype=float)
    to_m = zones["to_m"].to_numpy(dtype=float)
    kinds = zones["kind"].to_numpy(dtype=object)
    features = np.asarray(zones["feature_metric"].values, dtype=object)
    names = zones["name"].to_numpy(dtype=object)
    standard_ids = zones["standard_id"].to_numpy(dtype=object)
    grades = zones["grade"].to_numpy(dtype=object)
    districts = zones["district_id"].to_numpy(dtype=object)

    records: list[tuple] = []
    geometries: list[object] = []
    groups = zones.groupby(["layer", "feature_id"], sort=False).indices
    for (layer_id, feature_id), rows in groups.items():
        first = rows[0]
        base = (layer_id, kinds[first], feature_id, names[first])
        tail = (standard_ids[first], grades[first], districts[first])
        stretched = rows[np.isfinite(from_m[rows])]
        if kinds[first] != "line" or not len(stretched):
            holders = _holders(rows, unit_ids, roles, starts, ends)
            records.append((*base, math.nan, math.nan, *tail, holders, *_lead_and_status(holders)))
            geometries.append(features[first])
            continue
        line = features[first]
        length_m = float(shapely.length(line))
        cuts = np.unique(np.clip(np.concatenate([[0.0, length_m], from_m[stretched], to_m[stretched]]), 0.0, length_m))
        cuts = cuts[np.concatenate([[True], np.diff(cuts) > CUT_SLACK_M])]
        if cuts[-1] < length_m:
            cuts[-1] = length_m
        intervals: list[tuple[float, float, tuple]] = []
        for a, b in itertools.pairwise(cuts):
            middle = (a + b) / 2
            covering = rows[~np.isfinite(from_m[rows]) | ((from_m[rows] <= middle) & (to_m[rows] >= middle))]
            holders = _holders(covering, unit_ids, roles, starts, ends)
            if intervals and intervals[-1][2] == holders:  # same people on both sides: one piece
                intervals[-1] = (intervals[-1][0], b, holders)
            else:
                intervals.append((a, b, holders))
        for a, b, holders in intervals:
            whole = a <= 0 and b >= length_m
            records.append(
                (
                    *base,
                    math.nan if whole else float(a),
                    math.nan if whole else float(b),
                    *tail,
                    holders,
                    *_lead_and_status(holders),
                )
            )
            geometries.append(features[first] if whole else line_substring(line, a, b))
    frame = pd.DataFrame.from_records(records, columns=list(PIECE_COLUMNS))
    return gpd.GeoDataFrame(frame, geometry=np.asarray(geometries, dtype=object), crs=ds.metric_crs)


def _holders(rows: np.ndarray, unit_ids: np.ndarray, roles: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple:
    """Assignments covering a piece, lead first, then sharing, then supervising units."""
    order = {"lead": 0, "shared": 1, "supervisor": 2}
    found = {(unit_ids[r], roles[r], _day(starts[r]), _day(ends[r])) for r in rows if unit_ids[r]}
    return tuple(sorted(found, key=lambda h: (order.get(h[1], 3), h[0], h[2], h[3])))


def _day(value: object) -> str:
    stamp = pd.Timestamp(value)
    return "" if pd.isna(stamp) else stamp.date().isoformat()


def _lead_and_status(holders: tuple) -> tuple[str, str]:
    holding = [h for h in holders if h[1] in HOLDING_ROLES]
    if not holding:
        return "", "unheld"
    leads = {h[0] for h in holding if h[1] == "lead"}
    return holding[0][0], "conflict" if len(leads) > 1 else "held"
