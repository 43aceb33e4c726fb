"""What a static map draws, prepared once per dataset and date.

Projection, the stretch centre lines, the spatial index and the simplified
background are computed once and cached on the Dataset (``ds.cached``), so
rendering the city, then every unit, then an atlas of 156 pages never
re-projects or re-derives anything: a page only asks the index for what lies
in its extent.

Everything here is in the dataset's metric CRS: axes are in metres, so the
scale bar is exact and buffers and simplification tolerances are in metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj.exceptions import CRSError, ProjError

from geo import Dataset
from geo.zones import line_substring


@dataclass
class Scene:
    """The drawable state of one dataset on one date (metric CRS)."""

    ds: Dataset
    date: pd.Timestamp
    zones: pd.DataFrame  # zones_on(date), reset index, plain columns (no geometry columns)
    draw_geoms: np.ndarray  # per zone: polygon / stretch centre line / point, metric CRS
    zone_tree: shapely.STRtree
    district_ids: np.ndarray
    district_names: np.ndarray
    district_geoms: np.ndarray  # metric CRS
    bounds: tuple[float, float, float, float]
    convergence_deg: float  # angle from grid north to true north at the centre
    features: pd.DataFrame  # one row per (layer, feature): name, kind, size for labels
    feature_geoms: np.ndarray  # the full feature geometry, metric CRS
    _simplified: dict[float, Any] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.ds.lang

    def layer_title(self, layer_id: str) -> str:
        try:
            return self.ds.layer_spec(layer_id).title_in(self.lang)
        except (AssertionError, KeyError):
            return layer_id

    def zones_in(self, extent: tuple[float, float, float, float]) -> np.ndarray:
        """Positions of zones whose drawing intersects ``extent`` (xmin, ymin, xmax, ymax)."""
        return np.sort(self.zone_tree.query(shapely.box(*extent), predicate="intersects"))

    def districts_in(self, extent: tuple[float, float, float, float]) -> np.ndarray:
        if not len(self.district_geoms):
            return np.array([], dtype=int)
        return np.flatnonzero(shapely.intersects(self.district_geoms, shapely.box(*extent)))

    def simplified_districts(self, tolerance_m: float) -> np.ndarray:
        """District outlines simplified to ``tolerance_m`` (cached per tolerance), for insets and covers."""
        key = round(float(tolerance_m), 1)
        if key not in self._simplified:
            self._simplified[key] = shapely.simplify(self.district_geoms, key, preserve_topology=True)
        return self._simplified[key]

    def unit_positions(self, unit_id: str) -> np.ndarray:
        return np.flatnonzero(self.zones["unit_id"].to_numpy(dtype=object) == unit_id)

    def district_positions(self, district_id: str) -> np.ndarray:
        return np.flatnonzero(self.zones["district_id"].to_numpy(dtype=object) == district_id)


def scene_for(ds: Dataset, date: Any = None) -> Scene:
    """The cached :class:`Scene` of ``ds`` on ``date`` (default: the dataset's reference date)."""
    when = ds.reference_date if date is None else pd.Timestamp(date).normalize()
    return ds.cached(("static_scene", when), lambda: _build_scene(ds, when))


def _build_scene(ds: Dataset, when: pd.Timestamp) -> Scene:
    zones_gdf = _with_unheld_pieces(ds, when, ds.zones_on(when))
    zones = pd.DataFrame(zones_gdf.drop(columns=["geometry", "zone_metric", "feature_metric"])).reset_index(drop=True)
    zone_metric = np.asarray(zones_gdf["zone_metric"].values, dtype=object)
    feature_metric = np.asarray(zones_gdf["feature_metric"].values, dtype=object)
    draw = _draw_geometries(zones, zone_metric, feature_metric)

    if ds.frame is not None and len(ds.frame):
        frame_metric = ds.frame.to_crs(ds.metric_crs)
        district_geoms = np.asarray(frame_metric.geometry.values, dtype=object)
        district_ids = ds.frame["district_id"].to_numpy(dtype=object)
        district_names = ds.frame["name"].to_numpy(dtype=object)
    else:
        district_geoms = np.array([], dtype=object)
        district_ids = np.array([], dtype=object)
        district_names = np.array([], dtype=object)

    everything = np.concatenate([district_geoms, draw]) if len(draw) or len(district_geoms) else np.array([])
    if len(everything):
        bounds = tuple(float(v) for v in shapely.total_bounds(everything))
    else:
        bounds = (0.0, 0.0, 1000.0, 1000.0)
    if not all(math.isfinite(v) for v in bounds) or bounds[2] <= bounds[0] or bounds[3] <= bounds[1]:
        cx, cy = (bounds[0] + bounds[2]) / 2 if math.isfinite(bounds[0]) else 0.0, 0.0
        bounds = (cx - 500, cy - 500, cx + 500, cy + 500)

    first = zones.drop_duplicates(["layer", "feature_id"])
    features = first[["layer", "feature_id", "name", "kind"]].reset_index(drop=True)
    feature_geoms = feature_metric[first.index.to_numpy()]
    sizes = (
        np.where(features["kind"].to_numpy() == "line", shapely.length(feature_geoms), shapely.area(feature_geoms))
        if len(features)
        else np.array([])
    )
    features["size"] = sizes

    return Scene(
        ds=ds,
        date=when,
        zones=zones,
        draw_geoms=draw,
        zone_tree=shapely.STRtree(draw),
        district_ids=district_ids,
        district_names=district_names,
        district_geoms=district_geoms,
        bounds=bounds,  # type: ignore[arg-type]
        convergence_deg=_convergence_deg(ds, bounds),
        features=features,
        feature_geoms=feature_geoms,
    )


def _with_unheld_pieces(ds: Dataset, when: pd.Timestamp, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The zones plus a "nobody holds" row (empty unit and role) for every piece no zone row draws.

    ``zones_on`` has rows for assignments only: the tail of a street that no
    stretch covers, and a place only a supervisor answers for (supervisors hold
    no ground, so their rows are not drawn), would be missing from the page, and
    a street would look shorter than it is. The unheld pieces come from
    :func:`maps.pieces.duty_pieces`, the cut the interactive map draws too.
    """
    from maps.pieces import duty_pieces

    if zones.empty:
        return zones
    pieces = duty_pieces(ds, when)
    unheld = pieces[pieces["status"].to_numpy(dtype=object) == "unheld"]
    if unheld.empty:
        return zones
    holding = zones["role"].isin(("lead", "shared", "")).to_numpy()
    drawn = set(zip(zones["layer"].to_numpy()[holding], zones["feature_id"].to_numpy()[holding], strict=True))
    first_row = zones.reset_index(drop=True).drop_duplicates(["layer", "feature_id"])
    row_of = {
        key: i
        for i, key in zip(first_row.index, zip(first_row["layer"], first_row["feature_id"], strict=True), strict=True)
    }
    from_m = unheld["from_m"].to_numpy(dtype=float)
    picked: list[int] = []
    spans: list[tuple[float, float]] = []
    for position, (layer_id, feature_id) in enumerate(zip(unheld["layer"], unheld["feature_id"], strict=True)):
        stretch = bool(np.isfinite(from_m[position]))
        # A whole feature already drawn (an orphan row, or a holder) needs nothing more.
        if (stretch or (layer_id, feature_id) not in drawn) and (layer_id, feature_id) in row_of:
            picked.append(position)
            spans.append((from_m[position], float(unheld["to_m"].iat[position])))
    if not picked:
        return zones
    base = zones.reset_index(drop=True)
    extra = base.iloc[[row_of[(unheld["layer"].iat[p], unheld["feature_id"].iat[p])] for p in picked]].copy()
    extra["unit_id"] = ""
    extra["unit_name"] = ""
    extra["role"] = ""
    extra["valid_from"] = pd.NaT
    extra["valid_until"] = pd.NaT
    starts = np.array([a for a, _ in spans], dtype=float)
    ends = np.array([b for _, b in spans], dtype=float)
    extra["from_m"] = starts
    extra["to_m"] = ends
    stretched = np.isfinite(starts)
    if stretched.any():
        lengths = np.where(stretched, ends - starts, extra["length_m"].to_numpy(dtype=float))
        extra["length_m"] = lengths
        extra["area_m2"] = np.where(
            stretched, lengths * extra["width_m"].to_numpy(dtype=float), extra["area_m2"].to_numpy(dtype=float)
        )
    return pd.concat([base, extra], ignore_index=True)


def _draw_geometries(zones: pd.DataFrame, zone_metric: np.ndarray, feature_metric: np.ndarray) -> np.ndarray:
    """Polygons as their zone, lines as the centre line of their stretch, points as points.

    A line's duty zone is a buffer of its tolerance (15 m either side): drawn
    as a polygon it is a sliver; the centre line with a line style reads far
    better in print and shows where one unit's stretch ends and the next begins.
    """
    draw = zone_metric.copy()
    kinds = zones["kind"].to_numpy(dtype=object)
    lines = np.flatnonzero(kinds == "line")
    if len(lines):
        draw[lines] = feature_metric[lines]
        from_m = zones["from_m"].to_numpy(dtype=float)
        to_m = zones["to_m"].to_numpy(dtype=float)
        for position in lines[np.isfinite(from_m[lines]) & np.isfinite(to_m[lines])]:
            piece = line_substring(feature_metric[position], from_m[position], to_m[position])
            if shapely.get_type_id(piece) in (1, 5):
                draw[position] = piece
    points = np.flatnonzero(kinds == "point")
    if len(points):
        draw[points] = feature_metric[points]
    return draw


def _convergence_deg(ds: Dataset, bounds: tuple[float, float, float, float]) -> float:
    """Meridian convergence at the map centre: how far true north leans from the grid's up.

    Half a degree at Ankang in the Gauss-Krüger zone of 108°E; a north arrow
    drawn straight up would be that far off.
    """
    try:
        centre = gpd.GeoSeries.from_xy([(bounds[0] + bounds[2]) / 2], [(bounds[1] + bounds[3]) / 2], crs=ds.metric_crs)
        lon, lat = shapely.get_coordinates(centre.to_crs(4326).values)[0]
        north = gpd.GeoSeries.from_xy([lon, lon], [lat, min(lat + 0.01, 89.99)], crs=4326).to_crs(ds.metric_crs)
        (x0, y0), (x1, y1) = shapely.get_coordinates(north.values)
        angle = math.degrees(math.atan2(x1 - x0, y1 - y0))
        return angle if math.isfinite(angle) else 0.0
    except (ProjError, CRSError):  # a CRS PROJ cannot invert here: no correction rather than no map
        return 0.0
