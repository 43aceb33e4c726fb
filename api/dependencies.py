"""Request parsing shared by the routes: the dataset, coordinates, CRS, date, bbox, ids.

Every dependency here is ``async def`` on purpose: FastAPI runs plain ``def``
dependencies in a thread pool, and that hop would cost more than the lookup
itself. Each one turns a raw parameter into a checked value or raises a domain
error that :mod:`api.errors` maps to a status (400 malformed, 404 unknown id).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any
from urllib.parse import unquote_plus

import pandas as pd
from fastapi import Depends, Path, Query, Request

from api.errors import BadParameterError, NotFoundError
from api.features import Collection, collections
from geo import Dataset
from geo.lookup_dates import parse_day

# Dates outside this range are refused: they are typos, and pandas timestamps
# cannot represent years before 1677 or after 2262 anyway.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2200, 12, 31)
MAX_ID_LENGTH = 200


async def current_dataset(request: Request) -> Dataset:
    """The serving snapshot, read once for the whole request (reloads never split a request)."""
    return request.app.state.datasets.current


DatasetDep = Annotated[Dataset, Depends(current_dataset)]


async def date_param(
    date: Annotated[
        str | None,
        Query(
            description="Answer for this day (ISO `YYYY-MM-DD`): who held the ground then. Default: the dataset's status_date, else today.",
            examples=["2026-03-01"],
            max_length=40,
            json_schema_extra={"format": "date"},
        ),
    ] = None,
) -> dt.date | None:
    """The day to answer for: exactly YYYY-MM-DD (as documented), within a plausible range."""
    return None if date is None else parse_date(date, "date")


def _check_date_range(date: dt.date, parameter: str) -> None:
    if not (EARLIEST_DATE <= date <= LATEST_DATE):
        raise BadParameterError(parameter, f"{parameter} {date.isoformat()} is outside {EARLIEST_DATE}..{LATEST_DATE}")


def parse_date(text: str, parameter: str) -> dt.date:
    """An ISO day from text found outside the query (a request body), checked like the ``date`` parameter."""
    try:
        date = parse_day(text)
    except ValueError:
        raise BadParameterError(parameter, f"{parameter} {text[:40]!r} is not a date (use YYYY-MM-DD)") from None
    _check_date_range(date, parameter)
    return date


DateDep = Annotated[dt.date | None, Depends(date_param)]


# -- the hot path -------------------------------------------------------------------
# GET /lookup reads its query string by hand: FastAPI's per-parameter validation
# costs more than the lookup itself. The parameters are still documented (below,
# as OpenAPI objects) and checked just as strictly.
LOOKUP_QUERY_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "lon",
        "in": "query",
        "required": True,
        "description": "Longitude (or easting/x for a projected EPSG CRS) of the point, in the CRS given by `crs`.",
        "schema": {"type": "number"},
        "example": 109.0292,
    },
    {
        "name": "lat",
        "in": "query",
        "required": True,
        "description": "Latitude (or northing/y for a projected EPSG CRS) of the point, in the CRS given by `crs`.",
        "schema": {"type": "number"},
        "example": 32.6853,
    },
    {
        "name": "crs",
        "in": "query",
        "required": False,
        "description": (
            "Datum or CRS of the coordinates: `wgs84` (GPS), `cgcs2000`, `gcj02` (AMap/Gaode, Tencent), "
            "`bd09` (Baidu) or any `EPSG:<code>`."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": 64, "default": "wgs84"},
        "example": "gcj02",
    },
    {
        "name": "date",
        "in": "query",
        "required": False,
        "description": "Answer for this day (ISO `YYYY-MM-DD`): who held the ground then. Default: the dataset's status_date, else today.",
        "schema": {"type": "string", "format": "date"},
        "example": "2026-03-01",
    },
]


def lookup_query(request: Request) -> tuple[float, float, str, dt.date | None]:
    """(lon, lat, crs, date) from the query string, checked as LOOKUP_QUERY_PARAMETERS says."""
    params = query_values(request.scope["query_string"])
    lon = _finite_number(params.get("lon"), "lon")
    lat = _finite_number(params.get("lat"), "lat")
    crs = params.get("crs", "wgs84")
    if not 1 <= len(crs) <= 64:
        raise BadParameterError("crs", "crs must be 1 to 64 characters: wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>")
    date_text = params.get("date")
    return lon, lat, crs, None if date_text is None else parse_date(date_text, "date")


def query_values(query_string: bytes) -> dict[str, str]:
    """Name -> value of a raw query string (the last value wins, as in Starlette's QueryParams).

    Five times faster than building QueryParams for the four plain parameters of a
    lookup; percent-escapes and ``+`` are decoded only where present.
    """
    values: dict[str, str] = {}
    for part in query_string.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        if b"%" in part or b"+" in part:
            values[unquote_plus(name.decode("latin-1"))] = unquote_plus(value.decode("latin-1"))
        else:
            values[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return values


def _finite_number(text: str | None, parameter: str) -> float:
    if text is None:
        raise BadParameterError(parameter, f"{parameter} is required")
    try:
        value = float(text)
    except ValueError:
        raise BadParameterError(parameter, f"{parameter} must be a number, not {text[:40]!r}") from None
    if not math.isfinite(value):
        raise BadParameterError(parameter, f"{parameter} must be a finite number, not {text[:40]!r}")
    return value


def public_base_url(request: Request) -> str:
    """The server's base URL for links in answers, without a trailing slash.

    ``RESPMAP_PUBLIC_URL`` when set (what clients reach behind a proxy; a forged
    Host header cannot put another site into the links); otherwise the request's
    own scheme, host and root path.
    """
    configured = request.app.state.settings.public_url
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


def answer_date(ds: Dataset, date: dt.date | None) -> str:
    """The ISO day an answer is for (the reference date when none was asked)."""
    return (pd.Timestamp(date) if date is not None else ds.reference_date).date().isoformat()


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minLon,minLat,maxLon,maxLat`` (or the 6-number 3D form) in WGS-84 degrees."""
    parts = [part.strip() for part in text.split(",")]
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise BadParameterError(
            "bbox", f"bbox {text[:80]!r} must be 4 comma-separated numbers: minLon,minLat,maxLon,maxLat"
        ) from None
    if len(numbers) == 6:  # minx, miny, minz, maxx, maxy, maxz: heights are irrelevant here
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise BadParameterError("bbox", f"bbox {text[:80]!r} must be 4 finite numbers: minLon,minLat,maxLon,maxLat")
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-90 <= min_lat <= max_lat <= 90):
        raise BadParameterError(
            "bbox", f"bbox latitudes must satisfy -90 <= minLat <= maxLat <= 90, got {min_lat}, {max_lat}"
        )
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise BadParameterError("bbox", f"bbox longitudes must lie in -180..180, got {min_lon}, {max_lon}")
    if min_lon > max_lon:
        raise BadParameterError("bbox", "bbox crossing the antimeridian (minLon > maxLon) is not supported")
    return min_lon, min_lat, max_lon, max_lat


async def bbox_param(
    bbox: Annotated[
        str | None,
        Query(
            description=(
                "Only features whose geometry intersects this box: `minLon,minLat,maxLon,maxLat` in WGS-84 (CRS84)."
            ),
            examples=["109.00,32.67,109.05,32.70"],
            max_length=200,
        ),
    ] = None,
) -> tuple[float, float, float, float] | None:
    return None if bbox is None else parse_bbox(bbox)


BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(bbox_param)]


def _check_id(kind: str, identifier: str) -> None:
    if not identifier or len(identifier) > MAX_ID_LENGTH:
        raise NotFoundError(kind, identifier)


UnitId = Annotated[str, Path(description="Unit id as in the units table (`unit_id`).", examples=["U1"])]
DistrictId = Annotated[
    str, Path(description="District id (`district_id`, the frame layer's feature id).", examples=["D1"])
]


async def unit_row(unit_id: UnitId, ds: DatasetDep) -> pd.Series:
    """The units-table row of ``unit_id``, or 404."""
    _check_id("unit", unit_id)
    rows = ds.units.loc[ds.units["unit_id"] == unit_id]
    if not len(rows):
        raise NotFoundError("unit", unit_id)
    return rows.iloc[0]


async def district_row(district_id: DistrictId, ds: DatasetDep) -> pd.Series:
    """The frame row of ``district_id``, or 404."""
    _check_id("district", district_id)
    if ds.frame is None:
        raise NotFoundError("district", district_id)
    rows = ds.frame.loc[ds.frame["district_id"] == district_id]
    if not len(rows):
        raise NotFoundError("district", district_id)
    return rows.iloc[0]


UnitDep = Annotated[pd.Series, Depends(unit_row)]
DistrictDep = Annotated[pd.Series, Depends(district_row)]


CollectionId = Annotated[
    str,
    Path(
        alias="collectionId",
        description="Collection id: a layer id of the dataset (e.g. `back_streets`) or `duty_zones`.",
        examples=["back_streets"],
    ),
]


async def collection_param(collection_id: CollectionId, ds: DatasetDep) -> Collection:
    """The OGC collection named in the path, or 404."""
    found = collections(ds).get(collection_id)
    if found is None:
        raise NotFoundError("collection", collection_id)
    return found


CollectionDep = Annotated[Collection, Depends(collection_param)]
