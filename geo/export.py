"""Duty zones with every joined attribute, written as GeoJSON (RFC 7946) or GeoPackage.

Pure I/O: no plotting, no HTML. :func:`duty_zone_table` joins each zone in
force on a date with its unit (kind, parent, contact, phone, staff), its
standard (every figure) and its district's name, and gives plain column types
(dates as ISO text, NaN for a missing number) so that any GIS reads it.

GeoJSON follows RFC 7946: WGS-84 longitude/latitude with no ``crs`` member,
exterior rings counter-clockwise and holes clockwise (the right-hand rule),
coordinates rounded to 1e-7 degrees (about 1 cm: more digits only add bytes).
The GeoPackage holds the same table (layer ``duty_zones``, EPSG:4326) and the
districts (layer ``districts``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.dataset import Dataset

COORDINATE_DECIMALS = 7
UNIT_FIELDS = ("kind", "parent", "contact", "phone", "staff", "district")
STANDARD_FIELDS = (
    "applies_to",
    "sweeps_per_day",
    "patrol_hours",
    "litter_max_minutes",
    "workers_per_10000m2",
    "m2_per_worker",
    "yuan_per_m2_year",
    "bin_spacing_m",
    "toilets_per_km",
    "notes",
)
EXPORT_SUFFIXES = (".geojson", ".gpkg")


def duty_zone_table(ds: Dataset, date: Any = None) -> gpd.GeoDataFrame:
    """Zones in force on ``date`` (default today) joined with units, standards and districts; WGS-84.

    Columns: the zone's own (zone_id, layer, kind, feature_id, name, unit_id,
    unit_name, role, standard_id, grade, from_m, to_m, valid_from,
    valid_until, priority, tolerance_m, width_m, length_m, area_m2,
    district_id), then ``layer_title``, ``district_name``, ``unit_*`` and
    ``standard_*`` fields. Unheld zones have empty unit fields.
    """
    zones = ds.zones_on(date)
    table = pd.DataFrame(zones.drop(columns=["geometry", "zone_metric", "feature_metric"])).reset_index(drop=True)
    for column in ("valid_from", "valid_until"):
        table[column] = [value.date().isoformat() if pd.notna(value) else "" for value in table[column]]
    titles = {spec.id: spec.title_in(ds.lang) for spec in ds.catalog.layers} if ds.catalog else {}
    table.insert(2, "layer_title", table["layer"].map(lambda v: titles.get(v, v)).astype(object))
    district_names: dict[str, str] = {}
    if ds.frame is not None:
        district_names = dict(zip(ds.frame["district_id"], ds.frame["name"], strict=False))
    table["district_name"] = table["district_id"].map(lambda v: district_names.get(v, "")).astype(object)

    units = ds.units.set_index("unit_id")
    for field in UNIT_FIELDS:
        if field not in units.columns:
            continue
        values = units[field]
        if field == "staff":
            table[f"unit_{field}"] = table["unit_id"].map(values).astype(float)
        else:
            table[f"unit_{field}"] = table["unit_id"].map(values).fillna("").astype(object)
    standards = ds.standards.drop_duplicates("standard_id").set_index("standard_id")
    for field in STANDARD_FIELDS:
        if field not in standards.columns:
            continue
        mapped = table["standard_id"].map(standards[field])
        numeric = field not in ("applies_to", "notes")
        table[f"standard_{field}"] = mapped.astype(float) if numeric else mapped.fillna("").astype(object)
    return gpd.GeoDataFrame(table, geometry=np.asarray(zones.geometry.values, dtype=object), crs=4326)


def rfc7946_geometries(geoms: np.ndarray) -> np.ndarray:
    """Coordinates rounded to 1e-7 degrees, polygons oriented by the right-hand rule.

    Rounding can (rarely) make a sliver ring self-touch; such a geometry is
    repaired with make_valid, then oriented: orientation goes last.
    """
    geoms = np.asarray(geoms, dtype=object)
    rounded = shapely.transform(geoms, lambda coords: np.round(coords, COORDINATE_DECIMALS))
    broken = ~shapely.is_valid(rounded) & shapely.is_valid(geoms)
    if broken.any():
        rounded[broken] = shapely.make_valid(rounded[broken])
    return shapely.orient_polygons(rounded, exterior_cw=False)


def write_geojson(table: gpd.GeoDataFrame, path: str | Path) -> None:
    """Write ``table`` as an RFC 7946 FeatureCollection (UTF-8, Chinese left readable)."""
    if table.crs is not None and not table.crs.equals("EPSG:4326"):
        table = table.to_crs(4326)
    geoms = rfc7946_geometries(np.asarray(table.geometry.values, dtype=object))
    columns = [c for c in table.columns if c != table.geometry.name]
    records = table[columns].to_dict(orient="records")
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write('{"type":"FeatureCollection","features":[\n')
        for position, (record, geom) in enumerate(zip(records, geoms, strict=True)):
            feature = {
                "type": "Feature",
                "properties": {key: _json_value(value) for key, value in record.items()},
                "geometry": None if geom is None or shapely.is_empty(geom) else shapely.geometry.mapping(geom),
            }
            if position:
                handle.write(",\n")
            handle.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
        handle.write("\n]}\n")


def write_gpkg(table: gpd.GeoDataFrame, path: str | Path, *, districts: gpd.GeoDataFrame | None = None) -> None:
    """Write ``table`` as layer ``duty_zones`` (and the districts) of a new GeoPackage at ``path``."""
    import pyogrio

    target = Path(path)
    target.unlink(missing_ok=True)  # GDAL opens an existing (even empty) file instead of creating one
    pyogrio.write_dataframe(table, target, layer="duty_zones", driver="GPKG")
    if districts is not None and len(districts):
        pyogrio.write_dataframe(districts, target, layer="districts", driver="GPKG", append=True)


def export_zones(ds: Dataset, path: str | Path, *, date: Any = None) -> int:
    """Write the duty zones of ``date`` to ``path`` (.geojson or .gpkg); returns the number of zones."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"{target.name}: zones can be exported as {' or '.join(EXPORT_SUFFIXES)}")
    table = duty_zone_table(ds, date)
    if suffix == ".geojson":
        write_geojson(table, target)
    else:
        write_gpkg(table, target, districts=ds.frame)
    return len(table)


def _json_value(value: Any) -> Any:
    """Plain JSON values: NaN and NaT as null, numpy scalars as Python numbers."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    return value
