"""Workload: who cleans how much ground, what the standards ask for it, and what nobody holds.

The unit of account is a *share*: a piece of a feature's cleaned ground
attributed to one holding unit (lead or shared; supervisors clean nothing)
in one district. Shares are built so that totals add up:

* Polygons: the polygon's area. Points: no area (they are counted only).
  Lines: the cleaned area is length x ``width_m``.
* A feature held by several units is split among its distinct holding units
  by role weight (``ROLE_WEIGHTS``): a lead counts 2, a sharing unit 1, so a
  lead with one sharing unit takes 2/3 and the sharing unit 1/3; two leads in
  conflict take half each. The sum over units is the feature's area, once.
* A line is cut at every ``from_m``/``to_m`` of its holding assignments into
  elementary pieces; each piece is split as above among the units whose
  stretches cover it, and the pieces no stretch covers are *unheld
  stretches*. Every metre of a split street is counted exactly once.
* A unit's share lands in the district of the unit's own zone (the zone's
  ``district_id``); shares outside every district are totalled apart.

Cleaners required: ``workers_per_10000m2 x area / 10000``, else
``area / m2_per_worker``; annual cost: ``yuan_per_m2_year x area``, both from
the feature's standard. Ground whose standard gives no quota or price is
reported as ``unpriced_area_m2`` rather than silently costed at zero.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import shapely

from geo.zones import HOLDING_ROLES, MIN_TOLERANCE_M, STRETCH_SLACK_M, stretch_zone

# Unheld pieces of a line shorter than this are rounding in the stretch table
# (the loader accepts stretches ending up to STRETCH_SLACK_M past the line's end).
UNHELD_MIN_M = STRETCH_SLACK_M
# How shared ground is split: a sharing unit does half the work of a lead (配合 vs 牵头).
ROLE_WEIGHTS = {"lead": 2.0, "shared": 1.0}

SHARE_COLUMNS = ("layer", "feature_id", "unit_id", "district_id", "standard_id", "length_m", "area_m2")
# What nobody holds, as workload finds it (geometry in the metric CRS); coverage adds where and whose fallback.
UNHELD_COLUMNS = (
    "layer",
    "kind",
    "feature_id",
    "name",
    "standard_id",
    "from_m",
    "to_m",
    "length_m",
    "area_m2",
    "reason",
    "district_id",
    "zone_metric",
)


def holding_shares(zones: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the held ground among units; collect what nobody holds.

    Args:
        zones: duty zones in force on one date (``Dataset.zones_on``), every role.

    Returns:
        (shares, unheld_stretches): ``shares`` has one row per (feature, unit,
        district) with ``length_m`` and ``area_m2``; ``unheld_stretches`` has the
        pieces of partly held lines that no stretch covers (whole unheld
        features are found by :func:`unheld_features`).
    """
    holding = zones[zones["role"].isin(HOLDING_ROLES)]
    lines = holding[holding["kind"] == "line"]
    others = holding[holding["kind"] != "line"]
    parts = [_area_shares(others)]
    line_shares, unheld_stretches = _line_shares(lines)
    parts.append(line_shares)
    shares = (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty_shares()
    )
    return shares, unheld_stretches


def _empty_shares() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=object) for column in SHARE_COLUMNS})
    return frame.astype({"length_m": float, "area_m2": float})


def _area_shares(zones: pd.DataFrame) -> pd.DataFrame:
    """Polygons and points: the whole feature split among its distinct holders by role weight."""
    if zones.empty:
        return _empty_shares()
    weighted = zones.assign(_weight=zones["role"].map(ROLE_WEIGHTS).fillna(1.0))
    weighted = weighted.sort_values("_weight", ascending=False, kind="stable")
    distinct = weighted.drop_duplicates(["layer", "feature_id", "unit_id"])
    weight = distinct["_weight"].to_numpy(dtype=float)
    weight_sum = distinct.groupby(["layer", "feature_id"], sort=False)["_weight"].transform("sum").to_numpy(dtype=float)
    area = np.nan_to_num(distinct["area_m2"].to_numpy(dtype=float)) * weight / weight_sum
    return pd.DataFrame(
        {
            "layer": distinct["layer"].to_numpy(dtype=object),
            "feature_id": distinct["feature_id"].to_numpy(dtype=object),
            "unit_id": distinct["unit_id"].to_numpy(dtype=object),
            "district_id": distinct["district_id"].to_numpy(dtype=object),
            "standard_id": distinct["standard_id"].to_numpy(dtype=object),
            "length_m": 0.0,
            "area_m2": area,
        }
    )


def _line_shares(zones: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lines cut into elementary pieces at every stretch end; see the module docstring."""
    if zones.empty:
        return _empty_shares(), _empty_unheld()
    zones = zones.sort_values(["layer", "feature_id"], kind="stable")
    full_length = shapely.length(np.asarray(zones["feature_metric"].values, dtype=object))
    starts = np.clip(np.nan_to_num(zones["from_m"].to_numpy(dtype=float), nan=0.0), 0.0, None)
    ends = zones["to_m"].to_numpy(dtype=float)
    ends = np.minimum(np.where(np.isnan(ends), full_length, ends), full_length)
    units = zones["unit_id"].to_numpy(dtype=object)
    weights = zones["role"].map(ROLE_WEIGHTS).fillna(1.0).to_numpy(dtype=float)
    districts = zones["district_id"].to_numpy(dtype=object)
    widths = np.nan_to_num(zones["width_m"].to_numpy(dtype=float))
    keys = list(zip(zones["layer"], zones["feature_id"], strict=True))
    layers = zones["layer"].to_numpy(dtype=object)
    fids = zones["feature_id"].to_numpy(dtype=object)
    standards = zones["standard_id"].to_numpy(dtype=object)

    share_rows: list[tuple] = []
    unheld_rows: list[dict] = []
    boundaries = [0, *[i for i in range(1, len(keys)) if keys[i] != keys[i - 1]], len(keys)]
    for group_start, group_end in itertools.pairwise(boundaries):
        rows = np.arange(group_start, group_end)
        length_m = float(full_length[group_start])
        width_m = float(widths[group_start])
        cuts = np.unique(np.concatenate([[0.0, length_m], starts[rows], ends[rows]]))
        cuts = cuts[(cuts >= 0.0) & (cuts <= length_m)]
        piece_from, piece_to = cuts[:-1], cuts[1:]
        middle = (piece_from + piece_to) / 2.0
        # covered[i, j]: assignment row i covers elementary piece j.
        covered = (starts[rows, None] <= middle[None, :]) & (middle[None, :] <= ends[rows, None])
        per_unit: dict[tuple[str, str], float] = {}
        gap_from: float | None = None
        for j in range(len(middle)):
            piece_m = float(piece_to[j] - piece_from[j])
            covering = rows[covered[:, j]]
            if not len(covering):
                gap_from = float(piece_from[j]) if gap_from is None else gap_from
                continue
            if gap_from is not None:
                _add_unheld(unheld_rows, zones, group_start, gap_from, float(piece_from[j]), width_m)
                gap_from = None
            # One entry per distinct unit (its strongest role); its share goes to its own zone's district.
            first_zone: dict[str, int] = {}
            for row in covering:
                known = first_zone.get(units[row])
                if known is None or weights[row] > weights[known]:
                    first_zone[units[row]] = row
            weight_sum = sum(weights[row] for row in first_zone.values())
            for unit_id, row in first_zone.items():
                key = (unit_id, districts[row])
                per_unit[key] = per_unit.get(key, 0.0) + piece_m * weights[row] / weight_sum
        if gap_from is not None:
            _add_unheld(unheld_rows, zones, group_start, gap_from, length_m, width_m)
        for (unit_id, district_id), share_m in per_unit.items():
            share_rows.append(
                (
                    layers[group_start],
                    fids[group_start],
                    unit_id,
                    district_id,
                    standards[group_start],
                    share_m,
                    share_m * width_m,
                )
            )
    shares = pd.DataFrame(share_rows, columns=list(SHARE_COLUMNS)) if share_rows else _empty_shares()
    unheld = pd.DataFrame(unheld_rows, columns=list(UNHELD_COLUMNS)) if unheld_rows else _empty_unheld()
    return shares, unheld


def _add_unheld(
    rows: list[dict], zones: pd.DataFrame, position: int, from_m: float, to_m: float, width_m: float
) -> None:
    """Record a piece of a line no stretch covers, with its ground as a zone."""
    if to_m - from_m < UNHELD_MIN_M:
        return
    record = zones.iloc[position]
    radius_m = max(float(record["tolerance_m"]), MIN_TOLERANCE_M)
    rows.append(
        {
            "layer": record["layer"],
            "kind": "line",
            "feature_id": record["feature_id"],
            "name": record["name"],
            "standard_id": record["standard_id"],
            "from_m": from_m,
            "to_m": to_m,
            "length_m": to_m - from_m,
            "area_m2": (to_m - from_m) * width_m,
            "reason": "stretch_uncovered",
            "district_id": "",
            "zone_metric": stretch_zone(record["feature_metric"], from_m, to_m, radius_m),
        }
    )


def _empty_unheld() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=object) for column in UNHELD_COLUMNS})
    return frame.astype({"from_m": float, "to_m": float, "length_m": float, "area_m2": float})


def unheld_features(zones: pd.DataFrame, all_zones: pd.DataFrame) -> pd.DataFrame:
    """Features no lead or sharing unit holds on the date, with the reason.

    Reasons: ``no_assignment`` (nobody ever held it), ``not_in_force`` (its
    assignments start later or ended earlier), ``supervisor_only`` (someone
    supervises it but nobody does the work).

    Args:
        zones: zones in force on the date (``Dataset.zones_on``).
        all_zones: every duty zone of every date (``Dataset.duty_zones``).
    """
    holding_keys = set(zip(*_keys(zones[zones["role"].isin(HOLDING_ROLES)]), strict=True))
    features = zones.drop_duplicates(["layer", "feature_id"])
    layer_ids, feature_ids = _keys(features)
    lost = np.array([key not in holding_keys for key in zip(layer_ids, feature_ids, strict=True)], dtype=bool)
    lost_rows = features[lost]
    if lost_rows.empty:
        return _empty_unheld()
    ever_held = set(zip(*_keys(all_zones[all_zones["role"].isin(HOLDING_ROLES)]), strict=True))
    supervised = set(zip(*_keys(zones[zones["role"] == "supervisor"]), strict=True))
    reasons = []
    for key in zip(*_keys(lost_rows), strict=True):
        if key in supervised:
            reasons.append("supervisor_only")
        elif key in ever_held:
            reasons.append("not_in_force")
        else:
            reasons.append("no_assignment")
    geoms = np.asarray(lost_rows["feature_metric"].values, dtype=object)
    kinds = lost_rows["kind"].to_numpy(dtype=object)
    length_m = np.where(kinds == "line", shapely.length(geoms), np.nan)
    widths = np.nan_to_num(lost_rows["width_m"].to_numpy(dtype=float))
    area_m2 = np.where(kinds == "line", length_m * widths, np.where(kinds == "polygon", shapely.area(geoms), 0.0))
    # The zone of a supervisor row may be a stretch: the unheld ground is the whole feature.
    zone_geoms = np.asarray(lost_rows["zone_metric"].values, dtype=object).copy()
    is_line = kinds == "line"
    if is_line.any():
        radius = np.maximum(lost_rows["tolerance_m"].to_numpy(dtype=float)[is_line], MIN_TOLERANCE_M)
        zone_geoms[is_line] = shapely.buffer(geoms[is_line], radius)
    return pd.DataFrame(
        {
            "layer": lost_rows["layer"].to_numpy(dtype=object),
            "kind": kinds,
            "feature_id": lost_rows["feature_id"].to_numpy(dtype=object),
            "name": lost_rows["name"].to_numpy(dtype=object),
            "standard_id": lost_rows["standard_id"].to_numpy(dtype=object),
            "from_m": np.where(is_line, 0.0, np.nan),
            "to_m": np.where(is_line, length_m, np.nan),
            "length_m": length_m,
            "area_m2": area_m2,
            "reason": reasons,
            "district_id": lost_rows["district_id"].to_numpy(dtype=object),
            "zone_metric": zone_geoms,
        }
    )


def _keys(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return frame["layer"].to_numpy(dtype=object), frame["feature_id"].to_numpy(dtype=object)


def priced(shares: pd.DataFrame, standards: pd.DataFrame) -> pd.DataFrame:
    """Shares with ``required_workers``, ``cost_yuan`` and ``unpriced_area_m2`` from their standard."""

    def column(name: str) -> dict[str, float]:
        if name not in standards.columns:
            return {}
        return dict(zip(standards["standard_id"], pd.to_numeric(standards[name], errors="coerce"), strict=True))

    per_10000 = shares["standard_id"].map(column("workers_per_10000m2")).to_numpy(dtype=float)
    per_worker = shares["standard_id"].map(column("m2_per_worker")).to_numpy(dtype=float)
    price = shares["standard_id"].map(column("yuan_per_m2_year")).to_numpy(dtype=float)
    area = shares["area_m2"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_area = np.where(per_worker > 0, area / per_worker, np.nan)
    required = np.where(np.isfinite(per_10000), per_10000 * area / 10000.0, by_area)
    cost = price * area
    unpriced = np.where(~np.isfinite(required) | ~np.isfinite(cost), area, 0.0)
    return shares.assign(
        required_workers=np.nan_to_num(required, nan=0.0, posinf=0.0),
        cost_yuan=np.nan_to_num(cost, nan=0.0, posinf=0.0),
        unpriced_area_m2=unpriced,
    )


FIGURES = ("length_m", "area_m2", "required_workers", "cost_yuan", "unpriced_area_m2")


def layer_counts(shares: pd.DataFrame, by: str, layer_ids: list[str]) -> pd.DataFrame:
    """Distinct features per layer for each ``by`` value (a unit or a district), as ``n_<layer>``."""
    distinct = shares.drop_duplicates([by, "layer", "feature_id"])
    counts = distinct.groupby([by, "layer"]).size().unstack("layer", fill_value=0)
    counts = counts.reindex(columns=layer_ids, fill_value=0)
    counts.columns = [f"n_{layer_id}" for layer_id in counts.columns]
    return counts.astype(int)


def unit_table(
    shares: pd.DataFrame,
    units: pd.DataFrame,
    zones: pd.DataFrame,
    unheld: pd.DataFrame,
    fallback_of: dict[str, str],
    layer_ids: list[str],
) -> pd.DataFrame:
    """Per unit: counts by layer, length, area, required cleaners, staff, shortfall, cost.

    ``shortfall`` = required - staff where positive, else 0; ``surplus`` =
    staff - required where positive, else 0 (so neither is ever negative and
    a surplus in one unit never hides a shortfall in another); both null when
    the unit's staff is unknown. ``fallback_*`` is the ground the unit answers
    for as a district HQ because nobody else holds it: shown, not added to its
    workload.
    """
    known = set(units["unit_id"])
    extra = sorted(set(shares["unit_id"]) - known)
    base = units[["unit_id", "name", "kind", "district", "staff"]].copy()
    if extra:  # holders missing from the units table (reported by validation): still counted
        base = pd.concat(
            [base, pd.DataFrame({"unit_id": extra, "name": "", "kind": "", "district": "", "staff": np.nan})],
            ignore_index=True,
        )
    base = base.set_index("unit_id")
    counts = layer_counts(shares, "unit_id", layer_ids)
    sums = shares.groupby("unit_id")[list(FIGURES)].sum()
    table = base.join(counts).join(sums)
    for column in counts.columns:
        table[column] = table[column].fillna(0).astype(int)
    for column in FIGURES:
        table[column] = table[column].fillna(0.0)
    supervising = zones[zones["role"] == "supervisor"].drop_duplicates(["unit_id", "layer", "feature_id"])
    table["supervises"] = supervising.groupby("unit_id").size().reindex(table.index, fill_value=0).astype(int)
    _balance(table)
    fallback = unheld.assign(unit_id=unheld["district_id"].map(lambda d: fallback_of.get(d, "")).astype(object))
    fallback = fallback[fallback["unit_id"] != ""]
    by_hq = fallback.groupby("unit_id")[["length_m", "area_m2"]].sum()
    table["fallback_districts"] = pd.Series(Counter(fallback_of.values()), dtype=int).reindex(table.index, fill_value=0)
    table["fallback_length_m"] = by_hq["length_m"].reindex(table.index).fillna(0.0)
    table["fallback_area_m2"] = by_hq["area_m2"].reindex(table.index).fillna(0.0)
    table = table.reset_index()
    order = [
        "unit_id",
        "name",
        "kind",
        "district",
        *counts.columns,
        "length_m",
        "area_m2",
        "required_workers",
        "staff",
        "shortfall",
        "surplus",
        "cost_yuan",
        "unpriced_area_m2",
        "supervises",
        "fallback_districts",
        "fallback_length_m",
        "fallback_area_m2",
    ]
    return table[order]


def _balance(table: pd.DataFrame) -> None:
    staff = table["staff"].to_numpy(dtype=float)
    required = table["required_workers"].to_numpy(dtype=float)
    known = np.isfinite(staff)
    table["shortfall"] = np.where(known, np.maximum(required - np.nan_to_num(staff), 0.0), np.nan)
    table["surplus"] = np.where(known, np.maximum(np.nan_to_num(staff) - required, 0.0), np.nan)


def allocate_staff(shares: pd.DataFrame, units: pd.DataFrame, district_ids: list[str]) -> pd.Series:
    """Each unit's staff spread over districts in proportion to its cleaned area there.

    A unit that cleans no area (it holds only points, or nothing) counts in its
    home district (the units table's ``district``) when that is a district.
    Units working outside every district leave that part of their staff
    unallocated, so the districts' staff may sum to less than the city's.
    """
    staff = dict(zip(units["unit_id"], pd.to_numeric(units["staff"], errors="coerce"), strict=True))
    per_district = {district_id: 0.0 for district_id in district_ids}
    area = shares.groupby(["unit_id", "district_id"])["area_m2"].sum()
    unit_area = area.groupby(level="unit_id").sum()
    for (unit_id, district_id), part_m2 in area.items():
        people = staff.get(unit_id, np.nan)
        if not np.isfinite(people) or district_id not in per_district or unit_area[unit_id] <= 0:
            continue
        per_district[district_id] += people * part_m2 / unit_area[unit_id]
    for unit_id, home in zip(units["unit_id"], units["district"], strict=True):
        people = staff.get(unit_id, np.nan)
        if np.isfinite(people) and home in per_district and unit_area.get(unit_id, 0.0) <= 0:
            per_district[home] += people
    return pd.Series(per_district, dtype=float)
