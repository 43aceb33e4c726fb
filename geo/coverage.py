"""Coverage analytics for planners: what nobody holds, what two units fight over, who lacks staff or money.

``compute_coverage(ds, date)`` answers, for one date:

* **gaps**: ground in no district (holes of the districts' union; with a city
  boundary, also the boundary outside the frame), see :mod:`geo.coverage_frame`;
* **frame_overlaps**: districts overlapping each other;
* **slivers**: gap, district-overlap and conflict pieces under ``sliver_m2``
  (digitising noise, kept apart so they do not drown the real problems);
* **conflicts** and **nesting**: see :mod:`geo.coverage_overlaps`;
* **unheld**: features no lead or sharing unit holds, and the parts of lines
  that no stretch covers;
* **units** and **districts**: workload against the standards, see
  :mod:`geo.workload` (how shared ground is split, how shortfall is defined);
* **idle_units**: units with no duty on the date (no lead, shared or
  supervisor assignment in force; a unit that only supervises cleans nothing,
  so its workload is 0, but it is not idle; a district HQ that is some
  district's fallback is never idle), and **districts_without_hq**.

The result is a frozen :class:`CoverageReport`; ``to_dict()`` is the JSON of
``respmap coverage --json`` and of the HTTP API. Areas are always measured in
the dataset's metric CRS; geometries in the report are WGS-84.

Example:
    >>> report = ds.coverage("2026-03-01")
    >>> report.totals["area_m2"], len(report.conflicts), report.idle_units
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage_frame import Piece, frame_pieces, mean_width_m, valid_polygons
from geo.coverage_overlaps import overlaps
from geo.dataset import idle_unit_ids
from geo.datums import WGS84_CRS
from geo.workload import FIGURES, allocate_staff, holding_shares, layer_counts, priced, unheld_features, unit_table
from geo.workload import UNHELD_COLUMNS as PIECE_UNHELD_COLUMNS

if TYPE_CHECKING:
    from geo.dataset import Dataset

DEFAULT_SLIVER_M2 = 1.0

GAP_COLUMNS = ("gap_id", "kind", "area_m2", "district_ids", "lon", "lat")
SLIVER_COLUMNS = ("sliver_id", "kind", "area_m2", "width_m", "district_ids", "unit_ids", "feature_ids", "lon", "lat")
# workload's unheld pieces, geometry replaced by the fallback unit and a lon/lat to find them by
UNHELD_COLUMNS = (*(c for c in PIECE_UNHELD_COLUMNS if c != "zone_metric"), "fallback_unit", "lon", "lat")
FRAME_OVERLAP_COLUMNS = ("overlap_id", "area_m2", "district_ids", "district_names", "lon", "lat")
# The report's problem layers (GeoDataFrames), in the order reports list them: the CLI's -o files
# and the report kit take them from here.
PROBLEM_LAYERS = ("gaps", "frame_overlaps", "slivers", "conflicts", "nesting", "unheld")


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of one dataset on one date. GeoDataFrames are in WGS-84; areas in m².

    Reports are cached on the Dataset and shared between callers (threads of
    the server): treat the tables as read-only and ``.copy()`` before changing one.

    Attributes:
        date: the date the answers are for.
        sliver_m2: pieces below this area were classed as slivers.
        gaps: ground in no district (``kind`` hole | outside_frame).
        frame_overlaps: districts overlapping each other.
        slivers: small pieces (``kind`` gap | frame_overlap | conflict).
        conflicts: ground two units claim at the same priority (``kind`` overlap | double_lead).
        nesting: a more specific zone inside a broader one (info, ``kind`` nested | partial).
        unheld: features and stretches nobody holds (``reason``).
        units: workload per unit; districts: the same per district.
        totals: city-wide figures (see :meth:`to_dict`).
        idle_units: ids of units holding nothing on the date.
        districts_without_hq: ids of districts with no fallback unit.
    """

    date: dt.date
    sliver_m2: float
    gaps: gpd.GeoDataFrame
    frame_overlaps: gpd.GeoDataFrame
    slivers: gpd.GeoDataFrame
    conflicts: gpd.GeoDataFrame
    nesting: gpd.GeoDataFrame
    unheld: gpd.GeoDataFrame
    units: pd.DataFrame
    districts: pd.DataFrame
    totals: dict[str, Any]
    idle_units: tuple[str, ...]
    districts_without_hq: tuple[str, ...]
    layer_ids: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (no NaN: null), as printed by ``respmap coverage --json``."""
        units = self.units.set_index("unit_id", drop=False)
        districts = self.districts.set_index("district_id", drop=False)
        return json_value(
            {
                "date": self.date.isoformat(),
                "sliver_m2": self.sliver_m2,
                "gaps": _summary(self.gaps),
                "frame_overlaps": _summary(self.frame_overlaps),
                "slivers": _summary(self.slivers),
                "conflicts": _conflict_summary(self.conflicts),
                "nesting": _summary(self.nesting),
                "unheld": _records(self.unheld),
                "idle_units": [
                    {
                        "unit_id": unit_id,
                        "name": units.at[unit_id, "name"] if unit_id in units.index else "",
                        "kind": units.at[unit_id, "kind"] if unit_id in units.index else "",
                        "staff": units.at[unit_id, "staff"] if unit_id in units.index else None,
                        "supervises": units.at[unit_id, "supervises"] if unit_id in units.index else 0,
                    }
                    for unit_id in self.idle_units
                ],
                "districts_without_hq": [
                    {
                        "district_id": district_id,
                        "name": districts.at[district_id, "name"] if district_id in districts.index else "",
                    }
                    for district_id in self.districts_without_hq
                ],
                "units": _records(self.units),
                "districts": _records(self.districts),
                "totals": self.totals,
            }
        )


def to_geojson(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """A report GeoDataFrame as a GeoJSON FeatureCollection dict (WGS-84; lists kept, NaN as null)."""
    columns = [c for c in frame.columns if c != "geometry"]
    features = [
        {
            "type": "Feature",
            "properties": {c: json_value(v) for c, v in zip(columns, row, strict=True)},
            "geometry": None if geometry is None or geometry.is_empty else geometry.__geo_interface__,
        }
        for row, geometry in zip(frame[columns].itertuples(index=False), frame.geometry, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _conflict_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Conflicts with ``units`` and ``features`` (ids) beside the ``unit_ids``/``feature_ids`` columns."""
    summary = _summary(frame)
    for item in summary["items"]:
        item["units"] = list(item["unit_ids"])
        item["features"] = list(item["feature_ids"])
    return summary


def _summary(frame: pd.DataFrame) -> dict[str, Any]:
    area = float(frame["area_m2"].sum()) if len(frame) else 0.0
    return {"count": len(frame), "area_m2": area, "items": _records(frame)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [c for c in frame.columns if c != "geometry"]
    return [
        {column: json_value(value) for column, value in zip(columns, row, strict=True)}
        for row in frame[columns].itertuples(index=False)
    ]


def json_value(value: Any) -> Any:
    """A JSON value: numpy scalars unwrapped, NaN and NaT as None, sequences as lists."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.isoformat()[:10]
    return value if isinstance(value, str) else str(value)


def compute_coverage(
    ds: Dataset,
    date: dt.date | str | pd.Timestamp | None = None,
    sliver_m2: float = DEFAULT_SLIVER_M2,
    *,
    sliver_width_m: float = 0.0,
    boundary_layer: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> CoverageReport:
    """Coverage of ``ds`` on ``date`` (default: the dataset's reference date), cached per options.

    Args:
        ds: the dataset.
        date: the date assignments are evaluated on.
        sliver_m2: gap, overlap and conflict pieces smaller than this are slivers.
        sliver_width_m: pieces thinner than this on average are slivers too (0: off).
        boundary_layer: a polygon layer holding the city boundary; default the
            catalog's ``[frame] boundary_layer`` when it declares one.
        progress: called with the name of each stage as it starts (``COVERAGE_STAGES``),
            for a progress line on a terminal; not called when the report is cached.

    Raises:
        ValueError: a date that cannot be read or a negative sliver size (the
            data itself never raises).
    """
    when = ds.reference_date if date is None else _parse_date(date)
    sliver_m2 = float(sliver_m2)
    sliver_width_m = float(sliver_width_m)
    if not math.isfinite(sliver_m2) or sliver_m2 < 0:
        raise ValueError(f"sliver_m2 must be a number >= 0, not {sliver_m2}")
    if not math.isfinite(sliver_width_m) or sliver_width_m < 0:
        raise ValueError(f"sliver_width_m must be a number >= 0, not {sliver_width_m}")
    boundary_id = boundary_layer or _declared_boundary(ds)
    if boundary_id is not None and boundary_id not in ds.layers:
        raise ValueError(f"boundary layer {boundary_id!r} is not a layer of the dataset")
    key = ("coverage", when, sliver_m2, sliver_width_m, boundary_id)
    # a report per date and option set; few kept, they are large at city scale
    return ds.cached(
        key, lambda: build_coverage(ds, when, sliver_m2, sliver_width_m, boundary_id, progress=progress), limit=4
    )


def _parse_date(date: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    try:
        when = pd.Timestamp(date)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"date {str(date)[:40]!r} is not a date (use YYYY-MM-DD)") from exc
    if pd.isna(when):
        raise ValueError(f"date {str(date)[:40]!r} is not a date (use YYYY-MM-DD)")
    return when.normalize()


def _declared_boundary(ds: Dataset) -> str | None:
    """The catalog's ``[frame] boundary_layer``, if this version of the catalog has one."""
    frame = ds.catalog.frame if ds.catalog is not None else None
    return getattr(frame, "boundary_layer", None) or None


# The stages of build_coverage, in order, as reported to a progress callback.
COVERAGE_STAGES: tuple[str, ...] = ("frame", "overlaps", "workload", "tables")


def build_coverage(
    ds: Dataset,
    when: pd.Timestamp,
    sliver_m2: float,
    sliver_width_m: float = 0.0,
    boundary_id: str | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> CoverageReport:
    """The uncached computation behind :func:`compute_coverage`."""
    stage = progress or (lambda _name: None)
    stage(COVERAGE_STAGES[0])
    metric = ds.metric_crs
    # With no duty zones at all there is nothing to filter by date (and the date filter needs typed columns).
    zones = ds.zones_on(when) if len(ds.duty_zones) else ds.duty_zones
    if boundary_id is not None:  # the boundary is a frame, not a place anybody cleans
        zones = zones[zones["layer"] != boundary_id]
    frame = (
        ds.frame
        if ds.frame is not None
        else gpd.GeoDataFrame({"district_id": [], "name": [], "fallback_unit": []}, geometry=[], crs=WGS84_CRS)
    )
    frame_metric = ds.cached(
        ("coverage_frame_metric",),
        lambda: valid_polygons(np.asarray(frame.geometry.to_crs(metric).values, dtype=object)),
    )
    district_ids = frame["district_id"].to_numpy(dtype=object)
    layer_ids = [
        spec.id
        for spec in (ds.catalog.layers if ds.catalog else ())
        if spec.id in ds.layers
        and (ds.catalog.frame is None or spec.id != ds.catalog.frame.layer)
        and spec.id != boundary_id
    ]

    boundary = _boundary(ds, boundary_id)
    pieces = frame_pieces(frame_metric, district_ids, boundary, sliver_m2, sliver_width_m)
    gaps, frame_overlaps = _frame_layers(pieces, frame, metric)
    stage(COVERAGE_STAGES[1])
    conflicts_all, nesting_metric = overlaps(zones, sliver_m2, sliver_width_m)
    conflicts_kept, conflicts, nesting = _overlap_layers(
        conflicts_all, nesting_metric, frame_metric, district_ids, metric
    )
    slivers = _sliver_layer(pieces, conflicts_all, metric)

    stage(COVERAGE_STAGES[2])
    shares, unheld_stretches = holding_shares(zones)
    shares = priced(shares, ds.standards)
    fallback_of = dict(zip(frame["district_id"], frame["fallback_unit"], strict=True))
    unheld_table = _unheld_table(
        unheld_features(zones, ds.duty_zones), unheld_stretches, frame_metric, district_ids, fallback_of
    )
    unheld = _to_wgs84(
        unheld_table.drop(columns="zone_metric").to_dict("records"),
        list(unheld_table["zone_metric"]),
        UNHELD_COLUMNS,
        metric,
    )

    stage(COVERAGE_STAGES[3])
    units = unit_table(shares, ds.units, zones, unheld_table, {k: v for k, v in fallback_of.items() if v}, layer_ids)
    districts = _district_table(ds, frame, frame_metric, shares, unheld_table, conflicts, layer_ids)

    # -- idle units and districts without an HQ -------------------------------
    # A unit with a duty on the date (lead, shared or supervisor) or a district's fallback is not idle.
    idle = idle_unit_ids(zones, ds.units["unit_id"], {v for v in fallback_of.values() if v})
    units["idle"] = units["unit_id"].isin(idle)
    without_hq = tuple(d for d, hq in fallback_of.items() if not hq)

    conflict_geoms = np.asarray(conflicts_kept["geometry"].to_numpy(), dtype=object)
    conflict_ground_m2 = float(shapely.area(shapely.union_all(conflict_geoms))) if len(conflict_geoms) else 0.0
    totals = _totals(
        units,
        districts,
        shares,
        unheld,
        gaps,
        frame_overlaps,
        slivers,
        conflicts,
        nesting,
        idle,
        without_hq,
        frame_metric,
        layer_ids,
        conflict_ground_m2,
        int(conflicts_all.attrs.get("junctions", 0)),
    )
    return CoverageReport(
        date=when.date(),
        sliver_m2=sliver_m2,
        gaps=gaps,
        frame_overlaps=frame_overlaps,
        slivers=slivers,
        conflicts=conflicts,
        nesting=nesting,
        unheld=unheld,
        units=units,
        districts=districts,
        totals=totals,
        idle_units=idle,
        districts_without_hq=without_hq,
        layer_ids=tuple(layer_ids),
    )


def _boundary(ds: Dataset, boundary_id: str | None) -> object | None:
    """The city boundary in the metric CRS (the union of the boundary layer), or None."""
    if boundary_id is None:
        return None
    geoms = valid_polygons(np.asarray(ds.layers[boundary_id].geometry.to_crs(ds.metric_crs).values, dtype=object))
    return shapely.union_all(geoms) if len(geoms) else None


def _frame_layers(
    pieces: list[Piece], frame: gpd.GeoDataFrame, metric: Any
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Gaps and district overlaps that are not slivers, as WGS-84 layers."""
    names = dict(zip(frame["district_id"], frame["name"], strict=True))
    gap_rows = [p for p in pieces if p.kind != "frame_overlap" and not p.is_sliver]
    overlap_rows = [p for p in pieces if p.kind == "frame_overlap" and not p.is_sliver]
    gaps = _to_wgs84(
        [
            {"gap_id": f"G{k + 1}", "kind": p.kind, "area_m2": p.area_m2, "district_ids": list(p.district_ids)}
            for k, p in enumerate(gap_rows)
        ],
        [p.geometry for p in gap_rows],
        GAP_COLUMNS,
        metric,
    )
    frame_overlaps = _to_wgs84(
        [
            {
                "overlap_id": f"O{k + 1}",
                "area_m2": p.area_m2,
                "district_ids": list(p.district_ids),
                "district_names": [names.get(d, "") for d in p.district_ids],
            }
            for k, p in enumerate(overlap_rows)
        ],
        [p.geometry for p in overlap_rows],
        FRAME_OVERLAP_COLUMNS,
        metric,
    )
    return gaps, frame_overlaps


def _overlap_layers(
    conflicts_all: pd.DataFrame,
    nesting: pd.DataFrame,
    frame_metric: np.ndarray,
    district_ids: np.ndarray,
    metric: Any,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(conflicts that are not slivers in the metric CRS, the same as a WGS-84 layer, nesting as a WGS-84 layer)."""
    for table in (conflicts_all, nesting):
        if len(table):
            table["district_id"] = _district_at(
                np.asarray(table["geometry"].to_numpy(), dtype=object), frame_metric, district_ids
            )
    sliver_mask = conflicts_all["is_sliver"].to_numpy(dtype=bool) if len(conflicts_all) else np.zeros(0, dtype=bool)
    kept = conflicts_all[~sliver_mask].drop(columns="is_sliver").reset_index(drop=True)
    kept.insert(0, "conflict_id", [f"C{k + 1}" for k in range(len(kept))])
    conflicts = _to_wgs84(
        kept.drop(columns="geometry").to_dict("records"),
        list(kept["geometry"]),
        ("conflict_id", *[c for c in kept.columns if c not in ("conflict_id", "geometry")], "lon", "lat"),
        metric,
    )
    nesting.insert(0, "nesting_id", [f"N{k + 1}" for k in range(len(nesting))])
    nesting_layer = _to_wgs84(
        nesting.drop(columns="geometry").to_dict("records"),
        list(nesting["geometry"]),
        ("nesting_id", *[c for c in nesting.columns if c not in ("nesting_id", "geometry")], "lon", "lat"),
        metric,
    )
    return kept, conflicts, nesting_layer


def _sliver_layer(pieces: list[Piece], conflicts_all: pd.DataFrame, metric: Any) -> gpd.GeoDataFrame:
    """Gap, district-overlap and conflict pieces under the sliver size, in one WGS-84 layer."""
    records: list[dict] = []
    geoms: list[object] = []
    for p in pieces:
        if p.is_sliver:
            records.append(
                {
                    "kind": "gap" if p.kind != "frame_overlap" else "frame_overlap",
                    "area_m2": p.area_m2,
                    "district_ids": list(p.district_ids),
                    "unit_ids": [],
                    "feature_ids": [],
                }
            )
            geoms.append(p.geometry)
    if len(conflicts_all):
        for record in conflicts_all[conflicts_all["is_sliver"].to_numpy(dtype=bool)].itertuples(index=False):
            records.append(
                {
                    "kind": "conflict",
                    "area_m2": record.area_m2,
                    "district_ids": [record.district_id] if record.district_id else [],
                    "unit_ids": record.unit_ids,
                    "feature_ids": record.feature_ids,
                }
            )
            geoms.append(record.geometry)
    widths = mean_width_m(np.array(geoms, dtype=object)) if geoms else []
    for k, record in enumerate(records):
        record["sliver_id"] = f"L{k + 1}"
        record["width_m"] = float(widths[k])
    return _to_wgs84(records, geoms, SLIVER_COLUMNS, metric)


def _unheld_table(
    whole: pd.DataFrame,
    stretches: pd.DataFrame,
    frame_metric: np.ndarray,
    district_ids: np.ndarray,
    fallback_of: dict[str, str],
) -> pd.DataFrame:
    """Unheld features and stretches (metric ``zone_metric``), largest first, with their district's HQ."""
    parts = [t for t in (whole, stretches) if len(t)]
    table = pd.concat(parts, ignore_index=True) if parts else whole.copy()
    if len(table):
        stretch = table["reason"] == "stretch_uncovered"
        if stretch.any():  # a stretch's district is where its own ground lies, not its line's
            table.loc[stretch, "district_id"] = _district_at(
                np.asarray(table.loc[stretch, "zone_metric"].to_numpy(), dtype=object), frame_metric, district_ids
            )
        table = table.sort_values(["area_m2", "layer", "feature_id"], ascending=[False, True, True], kind="stable")
        table = table.reset_index(drop=True)
    table["fallback_unit"] = table["district_id"].map(lambda d: fallback_of.get(d, "")).astype(object)
    return table


def _to_wgs84(
    records: list[dict], geoms_metric: list[object], columns: tuple[str, ...], metric: Any
) -> gpd.GeoDataFrame:
    """A WGS-84 GeoDataFrame with the given columns, plus ``lon``/``lat`` of a point inside each piece."""
    geoms = gpd.GeoSeries(list(geoms_metric), crs=metric)
    inside = gpd.GeoSeries(shapely.point_on_surface(np.asarray(geoms.values, dtype=object)), crs=metric).to_crs(
        WGS84_CRS
    )
    table = pd.DataFrame(records)
    table["lon"] = shapely.get_x(np.asarray(inside.values, dtype=object)) if len(inside) else []
    table["lat"] = shapely.get_y(np.asarray(inside.values, dtype=object)) if len(inside) else []
    for column in columns:
        if column not in table.columns:
            table[column] = pd.Series(dtype=object)
    return gpd.GeoDataFrame(table[list(columns)], geometry=geoms.to_crs(WGS84_CRS).values, crs=WGS84_CRS)


def _district_at(geoms_metric: np.ndarray, frame_metric: np.ndarray, district_ids: np.ndarray) -> np.ndarray:
    """The district holding a point inside each geometry ('' outside every district)."""
    result = np.full(len(geoms_metric), "", dtype=object)
    if not len(geoms_metric) or not len(frame_metric):
        return result
    points = shapely.point_on_surface(geoms_metric)
    tree = shapely.STRtree(frame_metric)
    point_idx, frame_idx = tree.query(points, predicate="intersects")
    first = np.unique(point_idx, return_index=True)[1]
    result[point_idx[first]] = district_ids[frame_idx[first]]
    return result


def _district_table(
    ds: Dataset,
    frame: gpd.GeoDataFrame,
    frame_metric: np.ndarray,
    shares: pd.DataFrame,
    unheld: pd.DataFrame,
    conflicts: pd.DataFrame,
    layer_ids: list[str],
) -> pd.DataFrame:
    """Per district: the unit figures summed over the shares in it, plus its own area and problems."""
    ids = list(frame["district_id"])
    hq_names = dict(zip(ds.units["unit_id"], ds.units["name"], strict=True))
    table = pd.DataFrame(
        {
            "district_id": frame["district_id"].to_numpy(dtype=object),
            "name": frame["name"].to_numpy(dtype=object),
            "fallback_unit": frame["fallback_unit"].to_numpy(dtype=object),
            "fallback_unit_name": [hq_names.get(u, "") for u in frame["fallback_unit"]],
            "area_m2": shapely.area(frame_metric) if len(frame_metric) else np.zeros(0),
        }
    ).set_index("district_id", drop=False)
    counts = layer_counts(shares, "district_id", layer_ids).reindex(ids, fill_value=0)
    sums = shares.groupby("district_id")[list(FIGURES)].sum().reindex(ids).fillna(0.0)
    table = table.join(counts)
    table["units"] = shares.groupby("district_id")["unit_id"].nunique().reindex(ids, fill_value=0).astype(int)
    table["length_m"] = sums["length_m"]
    table["held_area_m2"] = sums["area_m2"]
    table["required_workers"] = sums["required_workers"]
    table["staff"] = allocate_staff(shares, ds.units, ids).reindex(ids).fillna(0.0)
    table["shortfall"] = np.maximum(table["required_workers"] - table["staff"], 0.0)
    table["surplus"] = np.maximum(table["staff"] - table["required_workers"], 0.0)
    table["cost_yuan"] = sums["cost_yuan"]
    table["unpriced_area_m2"] = sums["unpriced_area_m2"]
    by_unheld = unheld.groupby("district_id") if len(unheld) else None
    table["n_unheld"] = by_unheld.size().reindex(ids, fill_value=0).astype(int) if by_unheld is not None else 0
    table["unheld_length_m"] = by_unheld["length_m"].sum().reindex(ids).fillna(0.0) if by_unheld is not None else 0.0
    table["unheld_area_m2"] = by_unheld["area_m2"].sum().reindex(ids).fillna(0.0) if by_unheld is not None else 0.0
    by_conflict = conflicts.groupby("district_id") if len(conflicts) else None
    table["n_conflicts"] = by_conflict.size().reindex(ids, fill_value=0).astype(int) if by_conflict is not None else 0
    table["conflict_area_m2"] = (
        by_conflict["area_m2"].sum().reindex(ids).fillna(0.0) if by_conflict is not None else 0.0
    )
    table["has_hq"] = table["fallback_unit"] != ""
    return table.reset_index(drop=True)


def _totals(
    units: pd.DataFrame,
    districts: pd.DataFrame,
    shares: pd.DataFrame,
    unheld: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame,
    frame_overlaps: gpd.GeoDataFrame,
    slivers: gpd.GeoDataFrame,
    conflicts: gpd.GeoDataFrame,
    nesting: gpd.GeoDataFrame,
    idle: tuple[str, ...],
    without_hq: tuple[str, ...],
    frame_metric: np.ndarray,
    layer_ids: list[str],
    conflict_ground_m2: float,
    junctions: int,
) -> dict[str, Any]:
    """City-wide figures. Held figures are sums over shares, so they equal the sums over units."""
    held_features = shares.drop_duplicates(["layer", "feature_id"])
    totals: dict[str, Any] = {
        "units": len(units),
        "units_holding": int((units[[f"n_{layer}" for layer in layer_ids]].sum(axis=1) > 0).sum()) if layer_ids else 0,
        "idle_units": len(idle),
        "districts": len(districts),
        "districts_without_hq": len(without_hq),
        "frame_area_m2": float(shapely.area(shapely.union_all(frame_metric))) if len(frame_metric) else 0.0,
    }
    for layer_id in layer_ids:
        totals[f"n_{layer_id}"] = int((held_features["layer"] == layer_id).sum())
    totals.update(
        {
            "length_m": float(shares["length_m"].sum()),
            "area_m2": float(shares["area_m2"].sum()),
            "required_workers": float(shares["required_workers"].sum()),
            "staff": float(np.nansum(units["staff"].to_numpy(dtype=float))),
            # Summed per unit: one unit's surplus does not cover another's shortfall.
            "shortfall": float(np.nansum(units["shortfall"].to_numpy(dtype=float))),
            "surplus": float(np.nansum(units["surplus"].to_numpy(dtype=float))),
            "cost_yuan": float(shares["cost_yuan"].sum()),
            "unpriced_area_m2": float(shares["unpriced_area_m2"].sum()),
            "outside_frame_area_m2": float(
                shares.loc[~shares["district_id"].isin(set(districts["district_id"])), "area_m2"].sum()
            ),
            "unheld_features": int((unheld["reason"] != "stretch_uncovered").sum()) if len(unheld) else 0,
            "unheld_stretches": int((unheld["reason"] == "stretch_uncovered").sum()) if len(unheld) else 0,
            "unheld_length_m": float(np.nansum(unheld["length_m"].to_numpy(dtype=float))) if len(unheld) else 0.0,
            "unheld_area_m2": float(np.nansum(unheld["area_m2"].to_numpy(dtype=float))) if len(unheld) else 0.0,
            "gaps": len(gaps),
            "gap_area_m2": float(gaps["area_m2"].sum()) if len(gaps) else 0.0,
            "frame_overlaps": len(frame_overlaps),
            "frame_overlap_area_m2": float(frame_overlaps["area_m2"].sum()) if len(frame_overlaps) else 0.0,
            "slivers": len(slivers),
            "conflicts": len(conflicts),
            "conflict_area_m2": float(conflicts["area_m2"].sum()) if len(conflicts) else 0.0,
            # Ground under at least one conflict, counted once where conflicts overlap (three units on one spot).
            "conflict_ground_m2": conflict_ground_m2,
            "nesting": len(nesting),
            # Lines meeting end to end, crossing or forming a T: overlapping zones, not conflicts.
            "junctions": junctions,
        }
    )
    return totals
