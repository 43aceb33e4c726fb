"""Checking and normalising one layer: ids, names, geometry, coordinates, CRS.

Input is a layer as read from its file (:mod:`geo.layer_files`); output is a
GeoDataFrame in WGS-84 with respmap's own columns (``feature_id``, ``name``,
``width_m``, ``standard_value``, ``unit_value``) beside the original
properties. Every feature that cannot be used is reported and left out; every
feature that can is kept, repaired where needed, so one bad feature never
costs the others.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.catalog import Catalog, LayerSpec
from geo.datums import WGS84_CRS
from geo.findings import Findings
from geo.layer_files import FEATURE_MEMBER_ID, SOURCE_INDEX, LayerFile

KIND_TYPE_IDS: dict[str, tuple[int, ...]] = {
    # shapely type ids: 0 Point, 1 LineString, 2 LinearRing, 3 Polygon,
    # 4 MultiPoint, 5 MultiLineString, 6 MultiPolygon
    "point": (0, 4),
    "line": (1, 2, 5),
    "polygon": (3, 6),
}
TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
# An outlier this far (degrees) from the layer's median, whose swapped
# coordinates land this close to it, is taken for a lat/lon swap.
SWAP_OUTLIER_DEG = 2.0
SWAP_MATCH_DEG = 1.0


# Columns respmap adds beside a file's own properties; never offered as a property name.
ADDED_COLUMNS = frozenset({"geometry", "feature_id", "name", "width_m", "standard_value", "unit_value"})


def property_hint(wanted: str, columns: Iterable[object]) -> str:
    """A hint for a property the file lacks: " (did you mean 'Responsible'?)", else the ones it has.

    Writing a catalog for a foreign file is mostly guessing its property names:
    say which name was probably meant, else which there are.
    """
    properties = [str(c) for c in columns if str(c) not in ADDED_COLUMNS and not str(c).startswith("__")]
    by_folded = {p.casefold(): p for p in properties}
    close = difflib.get_close_matches(wanted.casefold(), list(by_folded), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {by_folded[close[0]]!r}?)"
    if not properties:
        return " (the features have no properties)"
    more = f" and {len(properties) - 12} more" if len(properties) > 12 else ""
    return f" (the properties are: {', '.join(properties[:12])}{more})"


def parse_crs(text: str, label: str, findings: Findings, field: str = "crs") -> CRS | None:
    """A pyproj CRS from user text, or None with an error naming where it came from."""
    try:
        return CRS.from_user_input(text)
    except (CRSError, TypeError, ValueError):
        findings.error(
            "crs_unknown",
            f"{label}: CRS {str(text)[:60]!r} is not known (use an EPSG code such as EPSG:4326 or EPSG:4545)",
            file=label,
            field=field,
        )
        return None


def _text_ids(values: pd.Series) -> pd.Series:
    """Ids as strings; 12.0 -> "12" so numeric ids from GDAL match the tables."""

    def one(value: object) -> str:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    return values.map(one).astype(object)


def source_crs_text(spec: LayerSpec, layer_file: LayerFile, catalog: Catalog) -> str:
    """The CRS a layer file was drawn in: its own ``crs`` member, else the catalog's."""
    return (layer_file.crs if layer_file.crs_from_file else (spec.crs or catalog.crs)) or "EPSG:4326"


def normalise_layer(
    spec: LayerSpec, layer_file: LayerFile, catalog: Catalog, findings: Findings, *, fix: bool = False
) -> gpd.GeoDataFrame | None:
    """Validate one layer and bring it to WGS-84 with respmap's columns."""
    label = spec.file
    gdf = layer_file.frame
    if "__broken" in gdf.columns:
        gdf = gdf[gdf["__broken"].isna() | (gdf["__broken"] == False)].drop(columns="__broken")  # noqa: E712
    gdf = gdf.reset_index(drop=True)

    crs_text = source_crs_text(spec, layer_file, catalog)
    source_crs = parse_crs(crs_text, label, findings)
    if source_crs is None:
        return None
    datum = spec.datum or catalog.datum

    ids = _feature_ids(spec, gdf, label, findings)
    gdf = gdf.assign(feature_id=ids)
    gdf = _drop_duplicates(spec, gdf, label, findings)
    gdf = gdf.assign(name=_names(spec, gdf, label, findings))

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    keep = _check_geometry_presence_and_kind(spec, gdf, geoms, label, findings)
    keep &= _check_finite(gdf, geoms, keep, label, findings)
    if source_crs.is_geographic:
        keep &= _check_ranges(gdf, geoms, keep, label, findings)
    gdf = gdf[keep].reset_index(drop=True)
    geoms = np.asarray(gdf.geometry.values, dtype=object)

    geoms = _check_validity(spec, gdf, geoms, label, findings, fix=fix)
    geoms = _orient(spec, geoms, label, findings)
    geoms = _to_wgs84(geoms, source_crs, datum)
    if not source_crs.is_geographic:
        # After projection a wrong CRS shows up as coordinates off the globe.
        bounds = shapely.bounds(geoms)
        bad = ~((bounds[:, 0] >= -180) & (bounds[:, 2] <= 180) & (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90))
        for position in np.flatnonzero(bad):
            findings.error(
                "coords_out_of_range",
                f"{label}: feature {gdf['feature_id'].iat[position]} lies off the globe once read as "
                f"{crs_text}: is the CRS right?",
                file=label,
                feature_id=gdf["feature_id"].iat[position],
                field="geometry",
            )
        gdf = gdf[~bad].reset_index(drop=True)
        geoms = geoms[~bad]
    degenerate = _degenerate(spec, geoms)
    for position in np.flatnonzero(degenerate):
        findings.error(
            "geometry_empty",
            f"{label}: feature {gdf['feature_id'].iat[position]} has a {spec.geometry} of zero size",
            file=label,
            feature_id=gdf["feature_id"].iat[position],
            field="geometry",
        )
    gdf = gdf[~degenerate].reset_index(drop=True)
    geoms = geoms[~degenerate]

    gdf = gdf.assign(
        width_m=_widths(spec, gdf, label, findings),
        standard_value=_text_column(gdf, spec.standard_field),
        unit_value=_text_column(gdf, spec.unit_field),
    )
    if spec.unit_field and spec.unit_field not in gdf.columns and len(gdf):
        findings.error(
            "field_missing",
            f"{label}: unit_field {spec.unit_field!r} is not a property of any feature"
            f"{property_hint(spec.unit_field, gdf.columns)}",
            file=label,
            field=spec.unit_field,
        )
    if spec.standard_field and spec.standard_field not in gdf.columns and len(gdf):
        findings.error(
            "field_missing",
            f"{label}: standard_field {spec.standard_field!r} is not a property of any feature"
            f"{property_hint(spec.standard_field, gdf.columns)}",
            file=label,
            field=spec.standard_field,
        )
    result = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=gpd.GeoSeries(geoms, crs=WGS84_CRS), crs=WGS84_CRS)
    result = result.drop(columns=[c for c in (FEATURE_MEMBER_ID,) if c in result.columns])
    result.attrs["file"] = label
    return result


def _feature_ids(spec: LayerSpec, gdf: gpd.GeoDataFrame, label: str, findings: Findings) -> pd.Series:
    if spec.id_field in gdf.columns:
        ids = _text_ids(gdf[spec.id_field])
    elif spec.id_field == "id" and FEATURE_MEMBER_ID in gdf.columns:
        ids = _text_ids(gdf[FEATURE_MEMBER_ID])
    else:
        if len(gdf):
            findings.error(
                "field_missing",
                f"{label}: id_field {spec.id_field!r} is not a property of the features"
                f"{property_hint(spec.id_field, gdf.columns)}; "
                f"ids {spec.id}-1 ... were made up from their order, so assignments cannot name them",
                file=label,
                field=spec.id_field,
            )
        return pd.Series([f"{spec.id}-{i + 1}" for i in range(len(gdf))], index=gdf.index, dtype=object)
    for position in np.flatnonzero(ids.to_numpy() == ""):
        made_up = f"{spec.id}-{int(gdf[SOURCE_INDEX].iat[position]) + 1}"
        findings.error(
            "field_missing",
            f"{label}: feature #{int(gdf[SOURCE_INDEX].iat[position]) + 1} has no {spec.id_field}; called it {made_up}",
            file=label,
            feature_id=made_up,
            field=spec.id_field,
        )
        ids.iat[position] = made_up
    return ids


def _drop_duplicates(spec: LayerSpec, gdf: gpd.GeoDataFrame, label: str, findings: Findings) -> gpd.GeoDataFrame:
    duplicated = gdf["feature_id"].duplicated(keep="first").to_numpy()
    for position in np.flatnonzero(duplicated):
        findings.error(
            "duplicate_id",
            f"{label}: {spec.id_field} {gdf['feature_id'].iat[position]!s} is used again by feature "
            f"#{int(gdf[SOURCE_INDEX].iat[position]) + 1}; the first one is kept, this one left out",
            file=label,
            feature_id=gdf["feature_id"].iat[position],
            field=spec.id_field,
        )
    return gdf[~duplicated].reset_index(drop=True)


def _names(spec: LayerSpec, gdf: gpd.GeoDataFrame, label: str, findings: Findings) -> pd.Series:
    if spec.name_field not in gdf.columns:
        if len(gdf):
            findings.warning(
                "field_missing",
                f"{label}: name_field {spec.name_field!r} is not a property"
                f"{property_hint(spec.name_field, gdf.columns)}; features are named by id",
                file=label,
                field=spec.name_field,
            )
        return gdf["feature_id"].copy()
    names = gdf[spec.name_field].map(
        lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
    )
    empty = names == ""
    return names.where(~empty, gdf["feature_id"]).astype(object)


def _check_geometry_presence_and_kind(
    spec: LayerSpec, gdf: gpd.GeoDataFrame, geoms: np.ndarray, label: str, findings: Findings
) -> np.ndarray:
    missing = pd.isna(geoms)
    empty = np.zeros(len(geoms), dtype=bool)
    present = ~missing
    empty[present] = shapely.is_empty(geoms[present])
    for position in np.flatnonzero(missing | empty):
        what = "no geometry (null)" if missing[position] else "an empty geometry"
        findings.error(
            "geometry_empty",
            f"{label}: feature {gdf['feature_id'].iat[position]} has {what}",
            file=label,
            feature_id=gdf["feature_id"].iat[position],
            field="geometry",
        )
    usable = present & ~empty
    type_ids = np.full(len(geoms), -1)
    type_ids[usable] = shapely.get_type_id(geoms[usable])
    wrong = usable & ~np.isin(type_ids, KIND_TYPE_IDS[spec.geometry])
    for position in np.flatnonzero(wrong):
        findings.error(
            "geometry_kind",
            f"{label}: feature {gdf['feature_id'].iat[position]} is a {TYPE_NAMES.get(int(type_ids[position]), '?')}, "
            f"but layer {spec.id} holds {spec.geometry}s",
            file=label,
            feature_id=gdf["feature_id"].iat[position],
            field="geometry",
        )
    return usable & ~wrong


def _check_finite(
    gdf: gpd.GeoDataFrame, geoms: np.ndarray, keep: np.ndarray, label: str, findings: Findings
) -> np.ndarray:
    ok = keep.copy()
    if not keep.any():
        return ok
    coords, owner = shapely.get_coordinates(geoms[keep], return_index=True)
    bad_owner = np.unique(owner[~np.isfinite(coords).all(axis=1)])
    positions = np.flatnonzero(keep)[bad_owner]
    for position in positions:
        findings.error(
            "coords_invalid",
            f"{label}: feature {gdf['feature_id'].iat[position]} has NaN or infinite coordinates",
            file=label,
            feature_id=gdf["feature_id"].iat[position],
            field="geometry",
        )
    ok[positions] = False
    return ok


def _check_ranges(
    gdf: gpd.GeoDataFrame, geoms: np.ndarray, keep: np.ndarray, label: str, findings: Findings
) -> np.ndarray:
    """Out-of-range lon/lat, and lat/lon swaps (the data would fit if swapped)."""
    ok = keep.copy()
    if not keep.any():
        return ok
    bounds = np.full((len(geoms), 4), np.nan)
    bounds[keep] = shapely.bounds(geoms[keep])
    minx, miny, maxx, maxy = bounds.T
    in_range = (minx >= -180) & (maxx <= 180) & (miny >= -90) & (maxy <= 90)
    swapped_in_range = (miny >= -180) & (maxy <= 180) & (minx >= -90) & (maxx <= 90)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    good = keep & in_range
    if good.sum() >= 3:
        mx, my = np.nanmedian(cx[good]), np.nanmedian(cy[good])
        far = (np.abs(cx - mx) > SWAP_OUTLIER_DEG) | (np.abs(cy - my) > SWAP_OUTLIER_DEG)
        swap_fits = (np.abs(cy - mx) < SWAP_MATCH_DEG) & (np.abs(cx - my) < SWAP_MATCH_DEG)
        looks_swapped = keep & far & swap_fits
    else:
        looks_swapped = keep & ~in_range & swapped_in_range
    for position in np.flatnonzero(keep & (~in_range | looks_swapped)):
        fid = gdf["feature_id"].iat[position]
        if looks_swapped[position] or (not in_range[position] and swapped_in_range[position]):
            findings.error(
                "coords_swapped",
                f"{label}: feature {fid} has lon/lat that look swapped (first coordinate {cx[position]:.4f}, "
                f"second {cy[position]:.4f}); GeoJSON wants [lon, lat]",
                file=label,
                feature_id=fid,
                field="geometry",
                lon=float(cy[position]),
                lat=float(cx[position]),
            )
        else:
            findings.error(
                "coords_out_of_range",
                f"{label}: feature {fid} has coordinates out of range for lon/lat "
                f"(x {minx[position]:.4f}..{maxx[position]:.4f}, y {miny[position]:.4f}..{maxy[position]:.4f}); "
                "is the CRS declared?",
                file=label,
                feature_id=fid,
                field="geometry",
            )
        ok[position] = False
    return ok


def _check_validity(
    spec: LayerSpec, gdf: gpd.GeoDataFrame, geoms: np.ndarray, label: str, findings: Findings, *, fix: bool
) -> np.ndarray:
    """Invalid geometries are repaired in memory; an error unless ``fix`` was asked."""
    if not len(geoms):
        return geoms
    valid = shapely.is_valid(geoms)
    if valid.all():
        return geoms
    geoms = geoms.copy()
    for position in np.flatnonzero(~valid):
        reason = shapely.is_valid_reason(geoms[position])
        point = _reason_point(reason)
        fid = gdf["feature_id"].iat[position]
        repaired = _make_valid_as(geoms[position], spec.geometry)
        if fix:
            findings.warning(
                "geometry_repaired",
                f"{label}: feature {fid} was invalid ({reason}); repaired with make_valid",
                file=label,
                feature_id=fid,
                field="geometry",
                lon=point[0],
                lat=point[1],
            )
        else:
            findings.error(
                "geometry_invalid",
                f"{label}: feature {fid} is invalid: {reason} (respmap validate --fix repairs it)",
                file=label,
                feature_id=fid,
                field="geometry",
                lon=point[0],
                lat=point[1],
            )
        geoms[position] = repaired
    return geoms


def _reason_point(reason: str) -> tuple[float | None, float | None]:
    """The location GEOS puts in brackets, e.g. 'Self-intersection[109.01 32.68]'."""
    if "[" in reason and reason.endswith("]"):
        try:
            x_text, y_text = reason[reason.index("[") + 1 : -1].split()[:2]
            return float(x_text), float(y_text)
        except ValueError:
            return None, None
    return None, None


def _make_valid_as(geom: object, kind: str) -> object:
    """make_valid, keeping only the parts of the layer's geometry kind."""
    repaired = shapely.make_valid(geom)
    wanted = KIND_TYPE_IDS[kind]
    if shapely.get_type_id(repaired) in wanted:
        return repaired
    parts = [part for part in shapely.get_parts(repaired) if shapely.get_type_id(part) in wanted]
    if not parts:
        return repaired
    if kind == "polygon":
        return shapely.union_all(parts)
    if kind == "line":
        return shapely.line_merge(shapely.multilinestrings(parts))
    return shapely.multipoints(parts)


def _orient(spec: LayerSpec, geoms: np.ndarray, label: str, findings: Findings) -> np.ndarray:
    """Clockwise outer rings are common in real data: accept and fix them quietly."""
    if spec.geometry != "polygon" or not len(geoms):
        return geoms
    oriented = shapely.orient_polygons(geoms, exterior_cw=False)
    changed = ~shapely.equals_exact(oriented, geoms, tolerance=0)
    if changed.any():
        findings.info(
            "ring_orientation",
            f"{label}: {int(changed.sum())} feature(s) had clockwise outer rings (or counter-clockwise holes); "
            "reoriented to RFC 7946",
            file=label,
            field="geometry",
        )
    return oriented


def _to_wgs84(geoms: np.ndarray, source_crs: CRS, datum: str) -> np.ndarray:
    if not len(geoms):
        return geoms
    if datum in ("gcj02", "bd09"):
        from geo.datums import to_wgs84

        def convert(coords: np.ndarray) -> np.ndarray:
            lon, lat = to_wgs84(coords[:, 0], coords[:, 1], datum)
            return np.column_stack([lon, lat])

        return shapely.transform(geoms, convert)
    if source_crs.equals(WGS84_CRS) or source_crs.to_epsg() in (4326, 4490):
        return geoms
    return np.asarray(gpd.GeoSeries(geoms, crs=source_crs).to_crs(WGS84_CRS).values, dtype=object)


def _degenerate(spec: LayerSpec, geoms: np.ndarray) -> np.ndarray:
    if not len(geoms):
        return np.zeros(0, dtype=bool)
    if spec.geometry == "polygon":
        return shapely.area(geoms) <= 0
    if spec.geometry == "line":
        return shapely.length(geoms) <= 0
    return shapely.is_empty(geoms)


def _widths(spec: LayerSpec, gdf: gpd.GeoDataFrame, label: str, findings: Findings) -> np.ndarray:
    widths = np.full(len(gdf), spec.default_width_m, dtype=float)
    if not spec.width_field or not len(gdf):
        return widths
    if spec.width_field not in gdf.columns:
        findings.warning(
            "field_missing",
            f"{label}: width_field {spec.width_field!r} is not a property"
            f"{property_hint(spec.width_field, gdf.columns)}; using default_width_m = {spec.default_width_m}",
            file=label,
            field=spec.width_field,
        )
        return widths
    raw = pd.to_numeric(gdf[spec.width_field], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(raw) | (raw < 0) | (raw > 1000)
    for position in np.flatnonzero(bad):
        value = gdf[spec.width_field].iat[position]
        if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
            problem = f"has no {spec.width_field}"  # left empty (JSON null), not the Python word "None"
        else:
            problem = f"has {spec.width_field} = {str(value)[:20]!r}, not a width in metres"
        findings.warning(
            "width_invalid",
            f"{label}: feature {gdf['feature_id'].iat[position]} {problem}; using {spec.default_width_m:g} m",
            file=label,
            feature_id=gdf["feature_id"].iat[position],
            field=spec.width_field,
        )
    widths[~bad] = raw[~bad]
    return widths


def _text_column(gdf: gpd.GeoDataFrame, field: str | None) -> np.ndarray:
    if not field or field not in gdf.columns:
        return np.full(len(gdf), "", dtype=object)
    return _text_ids(gdf[field]).to_numpy(dtype=object)
