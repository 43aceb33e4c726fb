"""Reading layer files (GeoJSON, GeoPackage, Shapefile) into GeoDataFrames.

GeoJSON is parsed by us (the C ``json`` parser, then shapely's vectorised
``from_geojson``) so that a broken file is reported with its line and column,
a broken feature by its position and id, and a pre-RFC-7946 ``crs`` member is
noticed. Other formats go through pyogrio (GDAL). Nothing here raises on bad
data: problems become findings and the function returns ``None`` or drops the
offending feature.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

try:  # a declared dependency; the standard library reads the same files, slower
    import orjson
except ImportError:  # pragma: no cover - exercised only where orjson is absent
    orjson = None  # type: ignore[assignment]

from geo.catalog import LayerSpec
from geo.findings import Findings

GEOJSON_SUFFIXES = (".geojson", ".json")
OGR_SUFFIXES = (".gpkg", ".shp", ".zip", ".fgb")
FEATURE_MEMBER_ID = "__feature_id_member"
SOURCE_INDEX = "__source_index"


@dataclass(frozen=True, slots=True)
class LayerFile:
    """A layer as read: features in the file's own CRS, plus that CRS."""

    frame: gpd.GeoDataFrame
    crs: str | None
    crs_from_file: bool


def check_size(path: Path, max_file_mb: float, findings: Findings, label: str) -> bool:
    """False (with an error) when the file is over the configured limit.

    Checked before reading, so a 5 GB file never reaches memory.
    """
    size_bytes = os.path.getsize(path)
    if size_bytes > max_file_mb * 1e6:
        findings.error(
            "file_too_large",
            f"{label} is {_size_text(size_bytes)}, over the limit of {_size_text(max_file_mb * 1e6)} "
            "(raise max_file_mb in catalog.toml [dataset] or RESPMAP_MAX_FILE_MB if it is meant to be this big)",
            file=label,
        )
        return False
    return True


def _size_text(size_bytes: float) -> str:
    if size_bytes >= 1e6:
        return f"{size_bytes / 1e6:,.1f} MB"
    if size_bytes >= 1e3:
        return f"{size_bytes / 1e3:,.1f} kB"
    return f"{size_bytes:,.0f} bytes"


def read_layer_file(root: Path, spec: LayerSpec, max_file_mb: float, findings: Findings) -> LayerFile | None:
    """Read one layer file; None when the file as a whole is unusable."""
    label = spec.file
    path = _resolve_inside(root, spec.file)
    if path is None:
        findings.error(
            "file_outside_dataset",
            f"layer {spec.id}: file {spec.file[:80]!r} must be a path inside the dataset folder",
            file=label,
            field="file",
        )
        return None
    if not path.is_file():
        code, what = not_a_file(path)
        findings.error(code, f"layer {spec.id}: file {label} {what} in {root}", file=label, field="file")
        return None
    if not check_size(path, max_file_mb, findings, label):
        return None
    suffix = path.suffix.lower()
    if suffix in GEOJSON_SUFFIXES:
        return _read_geojson(path, label, spec, findings)
    if suffix in OGR_SUFFIXES:
        return _read_with_ogr(path, label, spec, findings)
    findings.error(
        "file_format_unknown",
        f"layer {spec.id}: {label} has an unknown extension; use .geojson, .gpkg, .shp or a zipped Shapefile (.zip)",
        file=label,
    )
    return None


def _resolve_inside(root: Path, name: str) -> Path | None:
    """The file's path if it stays inside the dataset folder (no ``..`` escapes)."""
    candidate = (root / name).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate


_JSON_ERROR = re.compile(r"^(?P<msg>.*?): line \d+ column \d+")


def _read_geojson(path: Path, label: str, spec: LayerSpec, findings: Findings) -> LayerFile | None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        findings.error(
            "encoding_invalid",
            f"{label} is not UTF-8 (undecodable byte at offset {exc.start}); GeoJSON must be UTF-8 (RFC 7946)",
            file=label,
        )
        return None
    try:
        doc = _loads(text)
    except json.JSONDecodeError as exc:
        findings.error(
            "json_invalid",
            f"{label} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            file=label,
        )
        return None
    except RecursionError:
        findings.error("json_invalid", f"{label} is nested too deeply to be GeoJSON", file=label)
        return None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        findings.error(
            "geojson_structure",
            f'{label} is JSON but not a GeoJSON FeatureCollection (needs "type": "FeatureCollection" and a "features" list)',
            file=label,
        )
        return None

    crs_name, crs_from_file = _crs_member(doc, label, spec, findings)
    features = doc["features"]
    geometries: list[str | bytes | None] = []
    records: list[dict[str, object]] = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            findings.error(
                "geojson_structure",
                f"{label}: feature #{index + 1} is not a GeoJSON Feature object",
                file=label,
                feature_id=f"#{index + 1}",
            )
            geometries.append(None)
            records.append({SOURCE_INDEX: index, "__broken": True})
            continue
        props = feature.get("properties")
        record: dict[str, object] = dict(props) if isinstance(props, dict) else {}
        if "geometry" in record:
            record["geometry_property"] = record.pop("geometry")
        record[SOURCE_INDEX] = index
        if "id" in feature and feature["id"] is not None:
            record[FEATURE_MEMBER_ID] = feature["id"]
        geometry = feature.get("geometry")
        geometries.append(None if geometry is None else _dumps(geometry))
        records.append(record)

    parsed = np.full(len(geometries), None, dtype=object)
    present = np.array([g is not None for g in geometries], dtype=bool)
    if present.any():
        parsed[present] = shapely.from_geojson(
            np.array([g for g in geometries if g is not None], dtype=object), on_invalid="ignore"
        )
    for index in np.flatnonzero(present & pd.isna(parsed)):
        # GEOS's JSON reader refuses NaN; shapely's own reader takes it, so
        # such a feature is reported precisely (coords_invalid) further on.
        try:
            parsed[index] = shapely.geometry.shape(features[index]["geometry"])
            continue
        except Exception:
            pass
        reason = _geometry_parse_error(geometries[index])
        record = records[index]
        findings.error(
            "geometry_unreadable",
            f"{label}: feature #{index + 1} has a geometry that cannot be read ({reason})",
            file=label,
            feature_id=str(record.get(spec.id_field, f"#{index + 1}")),
            field="geometry",
        )
        record["__broken"] = True
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame({SOURCE_INDEX: []})
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(parsed, index=frame.index), crs=None)
    return LayerFile(frame=gdf, crs=crs_name, crs_from_file=crs_from_file)


def _loads(text: str) -> object:
    """Parse JSON: orjson (several times faster, and a fraction of the memory, on a 5-million-vertex
    polygon), falling back to the standard library for what orjson refuses but GeoJSON files carry
    (NaN literals, reported precisely further on), or to give its message with line and column."""
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _dumps(geometry: object) -> str | bytes:
    """One geometry as GeoJSON text for GEOS's reader (orjson where present; NaN as json writes it)."""
    if orjson is not None:
        try:
            return orjson.dumps(geometry)
        except (TypeError, orjson.JSONEncodeError):
            pass
    return json.dumps(geometry)


def _geometry_parse_error(geometry_json: str | bytes | None) -> str:
    """Why shapely could not read a geometry, short and safe to print."""
    try:
        shapely.from_geojson(geometry_json)
    except Exception as exc:  # shapely raises GEOSException / ValueError variants
        return str(exc).splitlines()[0][:160]
    return "unknown reason"


def _crs_member(doc: dict, label: str, spec: LayerSpec, findings: Findings) -> tuple[str | None, bool]:
    """Honour the pre-RFC-7946 ``crs`` member, with a warning."""
    member = doc.get("crs")
    if member is None:
        return None, False
    name = None
    if isinstance(member, dict):
        props = member.get("properties")
        if isinstance(props, dict):
            name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        findings.error("crs_unknown", f'{label}: the "crs" member has no readable name', file=label, field="crs")
        return None, False
    name = name.strip()
    match = re.search(r"EPSG:+(\d+)$", name, flags=re.IGNORECASE)
    if re.search(r"CRS84$", name, flags=re.IGNORECASE):
        normalised = "EPSG:4326"
    elif match:
        normalised = f"EPSG:{match.group(1)}"
    else:
        normalised = name
    findings.warning(
        "crs_member",
        f'{label}: declares its CRS the pre-RFC-7946 way ("crs": {name[:60]}); honoured as {normalised[:60]}',
        file=label,
        field="crs",
    )
    return normalised, True


def _read_with_ogr(path: Path, label: str, spec: LayerSpec, findings: Findings) -> LayerFile | None:
    import pyogrio

    try:
        layer_name = _layer_in_file([str(row[0]) for row in pyogrio.list_layers(path)], label, spec, findings)
        if layer_name is None:
            return None
        gdf = pyogrio.read_dataframe(path, layer=layer_name)
    except Exception as exc:  # pyogrio wraps every GDAL failure; report, never raise
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        findings.error("file_unreadable", f"{label} cannot be read: {message}", file=label)
        return None
    gdf = gdf.reset_index(drop=True)
    gdf[SOURCE_INDEX] = np.arange(len(gdf))
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    return LayerFile(frame=gdf, crs=crs, crs_from_file=crs is not None)


def _layer_in_file(names: list[str], label: str, spec: LayerSpec, findings: Findings) -> str | None:
    """Which layer of a file to read: ``layer_name``, the only one, or the one named like the catalog layer.

    A GeoPackage often holds the districts and the wards together; reading its
    first layer for every catalog entry would make the wards the districts.
    """
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    if spec.layer_name is not None:
        if spec.layer_name in names:
            return spec.layer_name
        findings.error(
            "layer_missing",
            f"{label}: has no layer {spec.layer_name[:60]!r} (layer_name of layer {spec.id}); its layers are: {shown}",
            file=label,
            field="layer_name",
        )
        return None
    if len(names) == 1:
        return names[0]
    if spec.id in names:
        return spec.id
    if not names:
        findings.error("file_unreadable", f"{label} holds no layer", file=label)
        return None
    findings.error(
        "layer_ambiguous",
        f"{label} holds several layers ({shown}): say which one layer {spec.id} is with "
        f'layer_name = "..." in its [[layer]] of catalog.toml',
        file=label,
        field="layer_name",
    )
    return None


def not_a_file(path: Path) -> tuple[str, str]:
    """(finding code, what the path is) for a catalog ``file`` that is no regular file.

    ``file_missing`` / "not found" when nothing is there; otherwise ``file_not_regular``
    and what stands there instead (a directory, a named pipe, ...), which a reader
    would otherwise block on or fail in a confusing way.
    """
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return "file_missing", "is a symbolic link to nothing (not found)"
        return "file_missing", "not found"
    except OSError as exc:
        return "file_not_regular", f"cannot be read ({exc.strerror or type(exc).__name__})"
    kinds = (
        (stat.S_ISDIR, "is a directory, not a file"),
        (stat.S_ISFIFO, "is a named pipe (FIFO), not a file"),
        (stat.S_ISSOCK, "is a socket, not a file"),
        (stat.S_ISCHR, "is a character device, not a file"),
        (stat.S_ISBLK, "is a block device, not a file"),
    )
    for test, what in kinds:
        if test(mode):
            return "file_not_regular", what
    return "file_not_regular", "is not a regular file"
