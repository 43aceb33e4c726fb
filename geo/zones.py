"""The join: features x assignments x units x standards -> duty zones.

A duty zone is the ground one unit answers for on one feature: a polygon as
drawn, a point or line buffered by its layer's ``tolerance_m`` (in the metric
CRS), or a stretch ``from_m``..``to_m`` of a line. The result is one
GeoDataFrame, one row per (feature, assignment), with geometry in WGS-84 and in
the metric CRS, lengths and areas in metres. Features nobody holds get one row
with an empty ``unit_id`` so they stay visible.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.ops import substring

from geo.catalog import Catalog, LayerSpec
from geo.findings import Findings

ROLES: tuple[str, ...] = ("lead", "shared", "supervisor")
HOLDING_ROLES: tuple[str, ...] = ("lead", "shared")
# A stretch may end this far past the line's measured end (rounding in the source).
STRETCH_SLACK_M = 0.5
# Zones of points and lines are at least this wide, so they have an area.
MIN_TOLERANCE_M = 0.5

ZONE_COLUMNS: tuple[str, ...] = (
    "zone_id",
    "layer",
    "kind",
    "feature_id",
    "name",
    "unit_id",
    "unit_name",
    "role",
    "standard_id",
    "grade",
    "from_m",
    "to_m",
    "valid_from",
    "valid_until",
    "priority",
    "tolerance_m",
    "width_m",
    "length_m",
    "area_m2",
    "district_id",
)


@dataclass(frozen=True, slots=True)
class FeatureRef:
    """Where a feature id lives: its layer and its row in that layer."""

    layer: str
    position: int


def resolve_standards(
    spec: LayerSpec, layer: gpd.GeoDataFrame, standards: pd.DataFrame | None, findings: Findings
) -> tuple[np.ndarray, np.ndarray]:
    """Per feature: (standard_id, grade); '' where none applies.

    A value matches a ``standard_id`` directly, else a grade of a standard that
    applies to this layer, else a grade of a standard that applies to every
    layer (``*``). A value that matches nothing is an error.
    """
    n = len(layer)
    ids = np.full(n, "", dtype=object)
    grades = np.full(n, "", dtype=object)
    values = layer["standard_value"].to_numpy(dtype=object) if n else np.array([], dtype=object)
    if spec.default_standard:
        values = np.where(values == "", spec.default_standard, values)
    if standards is None:
        if spec.standard_field or spec.default_standard:
            findings.warning(
                "standards_missing",
                f"layer {spec.id} names standards but the dataset has no standards table",
                file=spec.file,
                field=spec.standard_field or "default_standard",
            )
        return ids, values
    by_id = dict(zip(standards["standard_id"], standards["grade"], strict=True))
    by_layer_grade: dict[tuple[str, str], str] = {}
    for standard_id, applies_to, grade in zip(
        standards["standard_id"], standards["applies_to"], standards["grade"], strict=True
    ):
        by_layer_grade.setdefault((applies_to, grade), standard_id)
    for position, value in enumerate(values):
        if value == "":
            if spec.standard_field:
                findings.warning(
                    "standard_missing",
                    f"{spec.file}: feature {layer['feature_id'].iat[position]} has no {spec.standard_field}",
                    file=spec.file,
                    feature_id=layer["feature_id"].iat[position],
                    field=spec.standard_field,
                )
            continue
        if value in by_id:
            ids[position], grades[position] = value, by_id[value] or value
            continue
        found = by_layer_grade.get((spec.id, value)) or by_layer_grade.get(("*", value))
        if found is None:
            findings.error(
                "standard_unknown",
                f"{spec.file}: feature {layer['feature_id'].iat[position]} has standard {str(value)[:40]!r}, "
                f"which is neither a standard_id nor a grade for layer {spec.id} in {standards.attrs.get('file', 'standards')}",
                file=spec.file,
                feature_id=layer["feature_id"].iat[position],
                field=spec.standard_field or "default_standard",
            )
            continue
        ids[position], grades[position] = found, value
    return ids, grades


def feature_index(
    catalog: Catalog, layers: dict[str, gpd.GeoDataFrame], findings: Findings
) -> dict[str, list[FeatureRef]]:
    """feature_id -> where it lives; ids shared between layers are reported."""
    index: dict[str, list[FeatureRef]] = {}
    for spec in catalog.layers:
        layer = layers.get(spec.id)
        if layer is None:
            continue
        for position, feature_id in enumerate(layer["feature_id"]):
            index.setdefault(feature_id, []).append(FeatureRef(spec.id, position))
    return index


def typed_assignments(
    assignments: pd.DataFrame,
    index: dict[str, list[FeatureRef]],
    catalog: Catalog,
    layers_metric: dict[str, gpd.GeoSeries],
    unit_ids: set[str],
    findings: Findings,
) -> pd.DataFrame:
    """Assignments checked against features, units, roles, stretches and dates.

    Rows that cannot be used are reported and left out; the rest are returned
    with ``layer``, ``position``, numeric ``from_m``/``to_m`` and timestamps.
    The loop runs over plain Python lists (tens of thousands of rows at scale),
    with dates parsed and line lengths measured once, vectorised.
    """
    file_name = assignments.attrs.get("file", "assignments")
    kinds = {spec.id: spec.geometry for spec in catalog.layers}
    lengths = {
        layer_id: shapely.length(np.asarray(series.values, dtype=object)) for layer_id, series in layers_metric.items()
    }
    starts = pd.to_datetime(assignments["valid_from"].replace("", None), errors="coerce", format="ISO8601")
    ends = pd.to_datetime(assignments["valid_until"].replace("", None), errors="coerce", format="ISO8601")
    start_values, end_values = starts.to_numpy(), ends.to_numpy()
    start_missing, end_missing = starts.isna().to_numpy(), ends.isna().to_numpy()
    columns = {
        name: assignments[name].to_numpy(dtype=object).tolist()
        for name in ("feature_id", "unit_id", "layer", "role", "from_m", "to_m", "valid_from", "valid_until")
    }
    keep: list[int] = []
    out_layer: list[str] = []
    out_position: list[int] = []
    out_role: list[str] = []
    out_from: list[float] = []
    out_to: list[float] = []
    for row in range(len(assignments)):
        feature_id, unit_id = columns["feature_id"][row], columns["unit_id"][row]

        def report(code: str, message: str, field: str, row: int = row, feature_id: str = feature_id) -> None:
            findings.error(
                code,
                f"{file_name} row {row + 2} ({feature_id[:60]}): {message}",
                file=file_name,
                feature_id=feature_id,
                field=field,
            )

        refs = index.get(feature_id, [])
        layer_hint = columns["layer"][row]
        if layer_hint:
            refs = [ref for ref in refs if ref.layer == layer_hint]
        if not refs:
            report("unknown_feature", f"feature {feature_id[:60]!r} is in no layer", "feature_id")
            continue
        if len(refs) > 1:
            layers_named = ", ".join(r.layer for r in refs)
            report(
                "ambiguous_feature",
                f"feature {feature_id} exists in layers {layers_named}; add a layer column",
                "feature_id",
            )
            continue
        ref = refs[0]
        if unit_id not in unit_ids:
            report("unknown_unit", f"unit {unit_id[:60]!r} is not in the units table", "unit_id")
            continue
        role = (columns["role"][row] or "lead").lower()
        if role not in ROLES:
            report("role_invalid", f"role {columns['role'][row][:30]!r} must be lead, shared or supervisor", "role")
            continue
        bad_date = False
        for column, missing in (("valid_from", start_missing), ("valid_until", end_missing)):
            text = columns[column][row]
            if text and missing[row]:
                report("date_invalid", f"{column} {text[:30]!r} is not a date (use YYYY-MM-DD)", column)
                bad_date = True
        if bad_date:
            continue
        if not start_missing[row] and not end_missing[row] and start_values[row] > end_values[row]:
            report(
                "date_invalid",
                f"valid_from {columns['valid_from'][row]} is after valid_until {columns['valid_until'][row]}",
                "valid_from",
            )
            continue
        from_text, to_text = columns["from_m"][row], columns["to_m"][row]
        from_m, to_m = _stretch_numbers(from_text, to_text)
        if from_m is not None or to_m is not None:
            if kinds[ref.layer] != "line":
                report("stretch_invalid", f"from_m/to_m are given but {feature_id} is a {kinds[ref.layer]}", "from_m")
                continue
            if from_m is None or to_m is None or not (np.isfinite(from_m) and np.isfinite(to_m)):
                report(
                    "stretch_invalid",
                    f"a stretch needs from_m and to_m as numbers (got {from_text!r}, {to_text!r})",
                    "from_m",
                )
                continue
            if from_m < 0 or from_m >= to_m:
                report("stretch_invalid", f"stretch {from_m:g}-{to_m:g} m is empty or negative", "from_m")
                continue
            length_m = float(lengths[ref.layer][ref.position])
            if to_m > length_m + STRETCH_SLACK_M:
                report(
                    "stretch_beyond_line",
                    f"stretch {from_m:g}-{to_m:g} m goes beyond the end of {feature_id}, which is {length_m:.1f} m long",
                    "to_m",
                )
                continue
            # Stretches measured elsewhere (other software, rounding) end a few
            # centimetres short of or past the line: snap them to its end.
            if to_m >= length_m - STRETCH_SLACK_M:
                to_m = length_m
        keep.append(row)
        out_layer.append(ref.layer)
        out_position.append(ref.position)
        out_role.append(role)
        out_from.append(np.nan if from_m is None else from_m)
        out_to.append(np.nan if to_m is None else to_m)
    rows = np.asarray(keep, dtype=int)
    typed = pd.DataFrame(
        {
            "layer": pd.Series(out_layer, dtype=object),
            "position": np.asarray(out_position, dtype=int),
            "feature_id": pd.Series([columns["feature_id"][i] for i in keep], dtype=object),
            "unit_id": pd.Series([columns["unit_id"][i] for i in keep], dtype=object),
            "role": pd.Series(out_role, dtype=object),
            "from_m": np.asarray(out_from, dtype=float),
            "to_m": np.asarray(out_to, dtype=float),
            "valid_from": pd.to_datetime(starts.iloc[rows].to_numpy() if len(rows) else []),
            "valid_until": pd.to_datetime(ends.iloc[rows].to_numpy() if len(rows) else []),
            "source_row": rows + 2,
        }
    )
    _report_overlapping_claims(typed, lengths, file_name, findings)
    return typed


def _stretch_numbers(from_text: str, to_text: str) -> tuple[float | None, float | None]:
    def one(text: str) -> float | None:
        if text is None or text == "":
            return None
        try:
            return float(text)
        except ValueError:
            return float("nan")

    return one(from_text), one(to_text)


def _report_overlapping_claims(
    typed: pd.DataFrame, lengths: dict[str, np.ndarray], file_name: str, findings: Findings
) -> None:
    """Two lead rows overlapping in metres and in time: a warning.

    The ground is claimed twice; coverage reports it as a conflict, so it is a
    warning here rather than an error that would refuse the dataset.
    """
    lead = typed[typed["role"] == "lead"]
    repeated = lead[lead.duplicated(["layer", "feature_id"], keep=False)]
    if repeated.empty:
        return
    far = 1e12
    day = np.timedelta64(1, "D")
    t0 = repeated["valid_from"].to_numpy(dtype="datetime64[D]")
    t1 = repeated["valid_until"].to_numpy(dtype="datetime64[D]")
    t0_days = np.where(np.isnat(t0), -far, (t0 - np.datetime64("1970-01-01")) / day)
    t1_days = np.where(np.isnat(t1), far, (t1 - np.datetime64("1970-01-01")) / day)
    layer_ids = repeated["layer"].to_numpy(dtype=object)
    positions = repeated["position"].to_numpy(dtype=int)
    line_length = np.array([lengths[layer][pos] for layer, pos in zip(layer_ids, positions, strict=True)])
    starts = np.nan_to_num(repeated["from_m"].to_numpy(dtype=float), nan=0.0)
    ends = np.where(np.isnan(repeated["to_m"].to_numpy(dtype=float)), np.maximum(line_length, far), repeated["to_m"])
    groups: dict[tuple[str, int], list[int]] = {}
    for i, key in enumerate(zip(layer_ids, positions, strict=True)):
        groups.setdefault(key, []).append(i)
    units = repeated["unit_id"].to_numpy(dtype=object)
    source = repeated["source_row"].to_numpy(dtype=int)
    features = repeated["feature_id"].to_numpy(dtype=object)
    for members in groups.values():
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                overlap_m = min(ends[a], ends[b]) - max(starts[a], starts[b])
                if overlap_m > 0 and t0_days[a] <= t1_days[b] and t0_days[b] <= t1_days[a]:
                    findings.warning(
                        "claim_overlap",
                        f"{file_name} rows {source[a]} and {source[b]}: units {units[a]} and {units[b]} both lead "
                        f"{features[a]} over the same ground at the same time",
                        file=file_name,
                        feature_id=features[a],
                        field="unit_id",
                    )


def build_duty_zones(
    catalog: Catalog,
    layers: dict[str, gpd.GeoDataFrame],
    layers_metric: dict[str, gpd.GeoSeries],
    typed: pd.DataFrame,
    units: pd.DataFrame,
    metric_crs: CRS,
    frame_metric: gpd.GeoSeries | None,
    frame_ids: np.ndarray | None,
) -> gpd.GeoDataFrame:
    """One row per (feature, assignment); unheld features get one empty row."""
    # the frame (districts) and the city boundary are frames, not places anybody cleans
    not_places = {catalog.frame.layer, catalog.frame.boundary_layer} if catalog.frame else set()
    parts: list[pd.DataFrame] = []
    for spec in catalog.layers:
        layer = layers.get(spec.id)
        if layer is None or spec.id in not_places or not len(layer):
            continue
        from_table = typed[typed["layer"] == spec.id]
        rows = pd.DataFrame(
            {
                "position": from_table["position"].to_numpy(dtype=int),
                "unit_id": from_table["unit_id"].to_numpy(dtype=object),
                "role": from_table["role"].to_numpy(dtype=object),
                "from_m": from_table["from_m"].to_numpy(dtype=float),
                "to_m": from_table["to_m"].to_numpy(dtype=float),
                "valid_from": from_table["valid_from"].to_numpy(),
                "valid_until": from_table["valid_until"].to_numpy(),
            }
        )
        if spec.unit_field:
            values = layer["unit_value"].to_numpy(dtype=object)
            has = np.flatnonzero(values != "")
            rows = pd.concat(
                [
                    rows,
                    pd.DataFrame(
                        {
                            "position": has,
                            "unit_id": values[has],
                            "role": "lead",
                            "from_m": np.nan,
                            "to_m": np.nan,
                            "valid_from": pd.NaT,
                            "valid_until": pd.NaT,
                        }
                    ),
                ],
                ignore_index=True,
            )
        unheld = np.setdiff1d(np.arange(len(layer)), rows["position"].to_numpy(dtype=int))
        rows = pd.concat(
            [
                rows,
                pd.DataFrame(
                    {
                        "position": unheld,
                        "unit_id": "",
                        "role": "",
                        "from_m": np.nan,
                        "to_m": np.nan,
                        "valid_from": pd.NaT,
                        "valid_until": pd.NaT,
                    }
                ),
            ],
            ignore_index=True,
        )
        rows = rows.sort_values(["position", "from_m", "valid_from"], kind="stable", na_position="first")
        rows = rows.reset_index(drop=True)
        parts.append(_zone_rows(spec, layer, layers_metric[spec.id], rows))
    if not parts:
        return _empty_zones(metric_crs)
    zones = pd.concat(parts, ignore_index=True)
    names = dict(zip(units["unit_id"], units["name"], strict=True))
    zones["unit_name"] = zones["unit_id"].map(lambda u: names.get(u, "")).astype(object)
    zones["zone_id"] = (
        zones["layer"] + "/" + zones["feature_id"] + "/" + zones.groupby(["layer", "feature_id"]).cumcount().astype(str)
    )
    zone_metric = gpd.GeoSeries(zones.pop("zone_metric").to_numpy(), crs=metric_crs)
    feature_metric = gpd.GeoSeries(zones.pop("feature_metric").to_numpy(), crs=metric_crs)
    zones["district_id"] = _districts_of(zone_metric, frame_metric, frame_ids)
    result = gpd.GeoDataFrame(zones[list(ZONE_COLUMNS)], geometry=zone_metric.to_crs(4326).values, crs=4326)
    result["zone_metric"] = zone_metric.values
    result["feature_metric"] = feature_metric.values
    return result


def _zone_rows(spec: LayerSpec, layer: gpd.GeoDataFrame, metric: gpd.GeoSeries, rows: pd.DataFrame) -> pd.DataFrame:
    positions = rows["position"].to_numpy(dtype=int)
    feature_geoms = np.asarray(metric.values, dtype=object)[positions]
    tolerance_m = float(spec.tolerance_m)
    width_m = layer["width_m"].to_numpy(dtype=float)[positions]
    from_m = rows["from_m"].to_numpy(dtype=float)
    to_m = rows["to_m"].to_numpy(dtype=float)
    if spec.geometry == "polygon":
        zone_geoms = shapely.buffer(feature_geoms, tolerance_m) if tolerance_m > 0 else feature_geoms
        length_m = np.full(len(rows), np.nan)
        area_m2 = shapely.area(feature_geoms)
    elif spec.geometry == "point":
        zone_geoms = shapely.buffer(feature_geoms, max(tolerance_m, MIN_TOLERANCE_M))
        length_m = np.full(len(rows), np.nan)
        area_m2 = np.zeros(len(rows))
    else:
        radius = max(tolerance_m, MIN_TOLERANCE_M)
        full_length = shapely.length(feature_geoms)
        zone_geoms = shapely.buffer(feature_geoms, radius)
        length_m = full_length.copy()
        stretched = np.flatnonzero(np.isfinite(from_m))
        for i in stretched:
            zone_geoms[i] = stretch_zone(feature_geoms[i], from_m[i], to_m[i], radius)
            length_m[i] = to_m[i] - from_m[i]
        area_m2 = length_m * width_m
    return pd.DataFrame(
        {
            "layer": spec.id,
            "kind": spec.geometry,
            "feature_id": layer["feature_id"].to_numpy(dtype=object)[positions],
            "name": layer["name"].to_numpy(dtype=object)[positions],
            "unit_id": rows["unit_id"].to_numpy(dtype=object),
            "role": rows["role"].to_numpy(dtype=object),
            "standard_id": layer["standard_id"].to_numpy(dtype=object)[positions],
            "grade": layer["grade"].to_numpy(dtype=object)[positions],
            "from_m": from_m,
            "to_m": to_m,
            "valid_from": rows["valid_from"].to_numpy(),
            "valid_until": rows["valid_until"].to_numpy(),
            "priority": spec.priority,
            "tolerance_m": tolerance_m,
            "width_m": width_m if spec.geometry == "line" else np.nan,
            "length_m": length_m,
            "area_m2": area_m2,
            "zone_metric": zone_geoms,
            "feature_metric": feature_geoms,
        }
    )


def as_single_line(line: object) -> object:
    """A LineString for drawing; MultiLineStrings are merged (or chained).

    Not for measuring stretches: chaining adds the gaps between parts. Use
    :func:`line_substring`, which measures as ``line.project`` does.
    """
    if shapely.get_type_id(line) == 1:
        return line
    merged = shapely.line_merge(line)
    if shapely.get_type_id(merged) == 1:
        return merged
    coords = np.concatenate([shapely.get_coordinates(part) for part in shapely.get_parts(merged)])
    return shapely.linestrings(coords)


def line_substring(line: object, from_m: float, to_m: float) -> object:
    """The stretch from_m..to_m of a line, in metres along it.

    Measured the way ``shapely.length`` and ``line.project`` measure a
    MultiLineString (part after part, the gaps between parts not counted), so
    that stretches in the tables, in lookups and on maps are the same ground.
    Returns a LineString, a MultiLineString when the stretch spans parts, or a
    Point for a zero-length stretch.
    """
    if shapely.get_type_id(line) == 1:
        return substring(line, from_m, to_m)
    merged = shapely.line_merge(line)
    if shapely.get_type_id(merged) == 1 and abs(shapely.length(merged) - shapely.length(line)) < 1e-9:
        return substring(merged, from_m, to_m)
    pieces = []
    offset = 0.0
    for part in shapely.get_parts(line):
        length = shapely.length(part)
        a, b = max(from_m - offset, 0.0), min(to_m - offset, length)
        if b > a or (b == a and 0 <= a <= length and from_m == to_m):
            pieces.append(substring(part, a, b))
        offset += length
    lines = [p for p in pieces if shapely.get_type_id(p) == 1]
    if not lines:
        return pieces[0] if pieces else shapely.Point()
    return lines[0] if len(lines) == 1 else shapely.multilinestrings(lines)


def stretch_zone(line: object, from_m: float, to_m: float, radius_m: float) -> object:
    """The ground of a stretch: points whose projection on the line falls in it.

    Flat ends where the stretch meets a neighbouring stretch, round ends at the
    line's own ends (as a whole line's buffer has).
    """
    total = shapely.length(line)
    piece = line_substring(line, from_m, to_m)
    if shapely.get_type_id(piece) == 0:  # a zero-length stretch collapses to a point
        return shapely.buffer(piece, radius_m)
    zone = shapely.buffer(piece, radius_m, cap_style="flat")
    caps = []
    if from_m <= 0:
        caps.append(shapely.buffer(shapely.line_interpolate_point(line, 0.0), radius_m))
    if to_m >= total:
        caps.append(shapely.buffer(shapely.line_interpolate_point(line, total), radius_m))
    if caps:
        zone = shapely.union_all([zone, *caps])
    return zone


def _districts_of(
    zone_metric: gpd.GeoSeries, frame_metric: gpd.GeoSeries | None, frame_ids: np.ndarray | None
) -> np.ndarray:
    """The district holding each zone's representative point ('' outside the frame)."""
    result = np.full(len(zone_metric), "", dtype=object)
    if frame_metric is None or frame_ids is None or not len(zone_metric) or not len(frame_metric):
        return result
    points = shapely.point_on_surface(np.asarray(zone_metric.values, dtype=object))
    tree = shapely.STRtree(np.asarray(frame_metric.values, dtype=object))
    point_idx, frame_idx = tree.query(points, predicate="intersects")
    first = np.unique(point_idx, return_index=True)[1]
    result[point_idx[first]] = frame_ids[frame_idx[first]]
    return result


def _empty_zones(metric_crs: CRS) -> gpd.GeoDataFrame:
    """Zero duty zones, with every column typed as a full table's would be."""
    columns: dict[str, pd.Series] = {}
    for column in ZONE_COLUMNS:
        if column in ("valid_from", "valid_until"):
            columns[column] = pd.Series([], dtype="datetime64[ns]")
        elif column in ("from_m", "to_m", "tolerance_m", "width_m", "length_m", "area_m2"):
            columns[column] = pd.Series([], dtype=float)
        elif column == "priority":
            columns[column] = pd.Series([], dtype=int)
        else:
            columns[column] = pd.Series([], dtype=object)
    empty = gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    empty["zone_metric"] = gpd.GeoSeries([], crs=metric_crs).values
    empty["feature_metric"] = gpd.GeoSeries([], crs=metric_crs).values
    return empty


def zones_on(duty_zones: gpd.GeoDataFrame, date: pd.Timestamp) -> gpd.GeoDataFrame:
    """Zones in force on ``date``; features left with none come back unheld.

    An expired assignment must not make a feature vanish from maps and
    coverage: it becomes a row with an empty ``unit_id`` instead.
    """
    start_ok = duty_zones["valid_from"].isna() | (duty_zones["valid_from"] <= date)
    end_ok = duty_zones["valid_until"].isna() | (duty_zones["valid_until"] >= date)
    current = duty_zones[start_ok & end_ok]
    held_keys = pd.MultiIndex.from_frame(current[["layer", "feature_id"]])
    all_keys = pd.MultiIndex.from_frame(duty_zones[["layer", "feature_id"]])
    lost = ~all_keys.isin(held_keys)
    if lost.any():
        orphans = duty_zones[lost].drop_duplicates(["layer", "feature_id"]).copy()
        for column, value in (("unit_id", ""), ("unit_name", ""), ("role", "")):
            orphans[column] = value
        orphans["from_m"] = np.nan
        orphans["to_m"] = np.nan
        orphans["valid_from"] = pd.NaT
        orphans["valid_until"] = pd.NaT
        whole = orphans["kind"] == "line"
        if whole.any():
            lines = orphans.loc[whole]
            radius = np.maximum(lines["tolerance_m"].to_numpy(dtype=float), MIN_TOLERANCE_M)
            full = shapely.buffer(np.asarray(lines["feature_metric"].values, dtype=object), radius)
            length_m = shapely.length(np.asarray(lines["feature_metric"].values, dtype=object))
            orphans.loc[whole, "zone_metric"] = gpd.GeoSeries(full, crs=orphans["zone_metric"].crs).values
            orphans.loc[whole, "geometry"] = gpd.GeoSeries(full, crs=orphans["zone_metric"].crs).to_crs(4326).values
            orphans.loc[whole, "length_m"] = length_m
            orphans.loc[whole, "area_m2"] = length_m * lines["width_m"].to_numpy(dtype=float)
        current = pd.concat([current, orphans])
    return current.reset_index(drop=True)
