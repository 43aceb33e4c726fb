"""Who a case belongs to: respmap's lookup at the place and date of the report, frozen.

The units are those holding the most specific place at the point (lead and sharing units,
in the lookup's order); a place nobody holds passes to the next match and, at the end, to
the district's headquarters (属地兜底, ``fallback``). A category that applies to some layers
only (water on the riverbank) prefers a match in those layers. The answer is kept with the
dataset's content hash, so a later change of responsibility never rewrites history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import shapely

from cases.categories import Category
from geo import Dataset

HOLDING_ROLES = ("lead", "shared")


class OutsideFrameError(ValueError):
    """A point outside every district: nobody is responsible unless the office assigns it by hand."""

    def __init__(self, message: str, nearest_district: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.nearest_district = nearest_district


@dataclass(frozen=True)
class Attribution:
    """The frozen answer for one case."""

    lon: float
    lat: float
    date: dt.date
    dataset_hash: str
    district_id: str | None
    district_name: str | None
    layer: str | None
    feature_id: str | None
    feature_name: str | None
    stretch: tuple[float, float] | None
    units: tuple[tuple[str, str, str], ...]  # (unit_id, name, role)
    fallback: bool
    forced: bool = False
    answer: dict[str, Any] = field(default_factory=dict)


def attribute(
    ds: Dataset,
    lon: float,
    lat: float,
    *,
    crs: str = "wgs84",
    date: dt.date,
    category: Category | None = None,
    force_unit: str | None = None,
) -> Attribution:
    """Attribute a point; raises ``geo.lookup.CoordinateError`` for bad coordinates and
    :class:`OutsideFrameError` outside every district unless ``force_unit`` is given."""
    result = ds.lookup(lon, lat, crs=crs, date=date)
    answer = result.to_dict()
    district = result.district
    if force_unit is not None:
        best = result.best
        place = best if best is not None and not best.fallback else None
        holders = ((force_unit, unit_name(ds, force_unit), "manual"),)
        return _attribution(ds, result, date, district, place, holders, None, False, answer, forced=True)
    if not result.inside_frame:
        nearest = nearest_district(ds, result.lon_wgs84, result.lat_wgs84)
        where = (
            f"; the nearest district is {nearest['name']} ({nearest['district_id']}), {nearest['distance_m']:.0f} m away"
            if nearest
            else ""
        )
        raise OutsideFrameError(f"the point ({lon}, {lat}, {crs}) is outside every district{where}", nearest)
    matches = [m for m in result.matches if not m.fallback]
    if category is not None and category.applies_to:
        preferred = [m for m in matches if m.layer in category.applies_to]
        matches = preferred + [m for m in matches if m.layer not in category.applies_to]
    place = matches[0] if matches else None
    for match in matches:
        holders = tuple((u.unit_id, u.name, u.role) for u in match.units if u.role in HOLDING_ROLES)
        if holders:
            stretch = None if match.stretch is None else (match.stretch.from_m, match.stretch.to_m)
            return _attribution(ds, result, date, district, match, holders, stretch, False, answer)
    hq = [m for m in result.matches if m.fallback]
    holders = tuple((u.unit_id, u.name, "fallback") for m in hq[:1] for u in m.units)
    return _attribution(ds, result, date, district, place, holders, None, True, answer)


def _attribution(
    ds: Dataset,
    result: Any,
    date: dt.date,
    district: dict[str, str] | None,
    match: Any,
    holders: tuple[tuple[str, str, str], ...],
    stretch: tuple[float, float] | None,
    fallback: bool,
    answer: dict[str, Any],
    *,
    forced: bool = False,
) -> Attribution:
    return Attribution(
        lon=result.lon_wgs84,
        lat=result.lat_wgs84,
        date=date,
        dataset_hash=ds.content_hash,
        district_id=district["district_id"] if district else None,
        district_name=district["name"] if district else None,
        layer=None if match is None else match.layer,
        feature_id=None if match is None else match.feature_id,
        feature_name=None if match is None else match.name,
        stretch=stretch,
        units=holders,
        fallback=fallback,
        forced=forced,
        answer=answer,
    )


def nearest_district(ds: Dataset, lon: float, lat: float) -> dict[str, Any] | None:
    """The district whose edge is nearest to a WGS-84 point, and how far (metres), or None."""
    frame = ds.frame
    if frame is None or frame.empty:
        return None
    metric = ds.cached(("frame_metric",), lambda: frame.to_crs(ds.metric_crs))
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").to_crs(ds.metric_crs).iloc[0]
    distances = shapely.distance(metric.geometry.values, point)
    i = int(distances.argmin())
    row = frame.iloc[i]
    return {"district_id": str(row["district_id"]), "name": str(row["name"]), "distance_m": float(distances[i])}


def unit_exists(ds: Dataset, unit_id: str) -> bool:
    units = ds.units
    if units is not None and not units.empty and unit_id in set(units["unit_id"].astype(str)):
        return True
    frame = ds.frame
    return frame is not None and not frame.empty and unit_id in set(frame["fallback_unit"].astype(str))


def unit_name(ds: Dataset, unit_id: str) -> str:
    units = ds.units
    if units is not None and not units.empty:
        hit = units.loc[units["unit_id"].astype(str) == unit_id, "name"]
        if len(hit):
            return str(hit.iloc[0])
    return unit_id
