"""Who is responsible for this point? One point, a batch, or a CSV file.

* ``GET /lookup?lon&lat&crs&date``: the same object as ``respmap lookup --json``
  (:func:`geo.lookup.lookup`). This is the field staff's hot path: the handler
  is ``async`` (no hop to a thread) and reads its four query parameters by hand
  (:func:`api.dependencies.lookup_query`), which costs a fifth of FastAPI's
  per-parameter validation; they are documented in the OpenAPI all the same.
* ``POST /lookup``: a JSON list of points, ``{"points": [...]}`` or a GeoJSON
  FeatureCollection of points; answers one row per point, in input order, from
  :func:`geo.lookup.lookup_many`. A malformed point gets its own ``error`` and
  the others are answered; only a body that is not one of these shapes is 422.
* ``POST /lookup/csv``: a CSV upload annotated exactly as ``respmap assign``
  annotates a file (:mod:`api.assign_csv`).

Batches run in the thread pool so that a large one never stalls the single
lookups queued behind it.
"""

from __future__ import annotations

import functools
import math
from typing import Annotated, Any

import anyio
import anyio.to_thread
import numpy as np
from fastapi import APIRouter, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.assign_csv import assign_csv
from api.dependencies import LOOKUP_QUERY_PARAMETERS, DatasetDep, DateDep, answer_date, lookup_query, parse_date
from api.errors import BadParameterError, InvalidBodyError, TooLargeError, error_responses
from api.held_since import HELD_SINCE_PARAMETER, add_held_since, wants_held_since
from api.lookup_json import lookup_json
from api.responses import JSONAnswer, loads, plain_records
from geo import Dataset

ORDER = 20
router = APIRouter(tags=["lookup"])


# -- response models (documentation and schema checks) -------------------------------
class LookupAnswer(BaseModel):
    """The answer of ``respmap lookup --json`` (see geo.lookup)."""

    model_config = ConfigDict(extra="allow")
    point: dict[str, Any] = Field(description="the point as given (lon, lat, crs) and in WGS-84")
    date: str | None = Field(description="the day the answer is for")
    inside_frame: bool = Field(description="whether the point lies in a campaign district")
    district: dict[str, Any] | None = Field(description="the district it lies in, with its fallback unit; null outside")
    matches: list[dict[str, Any]] = Field(
        description="every zone covering the point, most specific first; the district fallback last"
    )
    nearest: dict[str, Any] | None = Field(description="outside every zone: the nearest one and its distance")


class BatchRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    index: int = Field(description="position of the point in the request (0-based)")
    lon: float | None = Field(description="the point as sent (null when unusable)")
    lat: float | None = Field(description="the point as sent (null when unusable)")
    id: str | int | float | None = Field(
        default=None, description="the point's `id` as sent, if it had one (integers beyond 2^53 as text)"
    )
    error: str | None = Field(description="why this point got no answer; null when it did")


class BatchAnswer(BaseModel):
    crs: str
    date: str
    count: int = Field(description="points received")
    errors: int = Field(description="points that got an error instead of an answer")
    results: list[BatchRow] = Field(
        description="one row per point in input order (several with all_matches): index, id, lon, lat, then the "
        "columns of geo.lookup.lookup_many: layer, layer_title, feature_id, name, unit_id, unit_name, role, "
        "unit_ids, standard_id, grade, from_m, to_m, distance_m, fallback, priority, district_id, inside_frame, error"
    )


_POINT_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "required": ["lon", "lat"],
            "properties": {
                "lon": {"type": "number", "description": "longitude (x) in the request's crs"},
                "lat": {"type": "number", "description": "latitude (y) in the request's crs"},
                "id": {"description": "echoed back in the answer", "type": ["string", "integer"]},
            },
        },
        {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3, "description": "[lon, lat]"},
    ]
}
BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            'The points: a JSON list of `{"lon", "lat", "id"?}` objects (or `[lon, lat]` pairs), an object '
            '`{"points": [...], "crs"?, "date"?}`, or a GeoJSON FeatureCollection of Point features '
            "(the feature's `id`, or its `properties.id`, is echoed)."
        ),
        "content": {
            media_type: {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": _POINT_SCHEMA},
                        {
                            "type": "object",
                            "required": ["points"],
                            "properties": {
                                "points": {"type": "array", "items": _POINT_SCHEMA},
                                "crs": {"type": "string", "description": "used when the query has no crs"},
                                "date": {
                                    "type": "string",
                                    "format": "date",
                                    "description": "used when the query has no date",
                                },
                            },
                        },
                        {
                            "type": "object",
                            "required": ["type", "features"],
                            "properties": {
                                "type": {"const": "FeatureCollection"},
                                "features": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    ]
                },
                "example": [{"lon": 109.0292, "lat": 32.6853, "id": "p1"}, {"lon": 109.03, "lat": 32.69}],
            }
            for media_type in ("application/json", "application/geo+json")
        },
    }
}


# -- routes ------------------------------------------------------------------------
@router.get(
    "/lookup",
    summary="Who is responsible for this point?",
    description=(
        "Every duty zone covering the point, most specific first, and the district's fallback unit last; "
        "outside every district, the nearest zone and its distance. The same object as `respmap lookup --json`."
    ),
    response_model=LookupAnswer,
    responses=error_responses(400),
    openapi_extra={"parameters": [*LOOKUP_QUERY_PARAMETERS, HELD_SINCE_PARAMETER]},
)
async def lookup_point(request: Request) -> JSONAnswer:
    lon, lat, crs, date = lookup_query(request)
    ds = request.app.state.datasets.current  # one snapshot for the whole request
    # The bytes of lookup(...).to_dict() joined from pieces cached per answer row: no dicts, no encoding per match.
    body = lookup_json(ds, lon, lat, crs=crs, date=date)
    if wants_held_since(request.scope["query_string"]):  # asked for: decoded, completed, encoded (api.held_since)
        store = getattr(request.app.state, "store", None)
        return JSONAnswer(await anyio.to_thread.run_sync(lambda: add_held_since(ds, store, loads(body))))
    return JSONAnswer(body)


@router.post(
    "/lookup",
    summary="Who is responsible for each of these points? (batch)",
    response_model=BatchAnswer,
    responses=error_responses(400, 413, 422),
    openapi_extra=BATCH_BODY,
)
async def lookup_batch(
    request: Request,
    ds: DatasetDep,
    crs: Annotated[
        str | None,
        Query(
            description="CRS of every point (as for GET /lookup); default `wgs84`", examples=["gcj02"], max_length=64
        ),
    ] = None,
    date: DateDep = None,
    all_matches: Annotated[
        bool,
        Query(description="every zone covering each point (several rows per point, same `index`), not only the best"),
    ] = False,
) -> JSONAnswer:
    body = await request.body()
    limit = request.app.state.settings.batch_limit
    answer = await run_in_threadpool(_answer_batch, ds, body, crs, date, limit, all_matches)
    return JSONAnswer(answer)


class CsvAnswer(Response):
    """The annotated CSV (UTF-8 with a BOM, as `respmap assign` writes it)."""

    media_type = "text/csv"


@router.post(
    "/lookup/csv",
    summary="Who is responsible for each row of a CSV file?",
    description=(
        "Upload a CSV (UTF-8 or GBK) with longitude and latitude columns (found by name: lon/lng/longitude/x/经度 "
        "and lat/latitude/y/纬度, or named with `lon_col`/`lat_col`); get the same rows back, in the same order, "
        "with the best match's columns added, exactly as `respmap assign` writes them. Rows with unusable "
        "coordinates are kept with the reason in `error`. Headers `X-Respmap-Rows` and `X-Respmap-Errors` "
        "count them. `crs`, `date`, `lon_col` and `lat_col` may also be sent as form fields beside `file`."
    ),
    response_class=CsvAnswer,
    responses={
        200: {
            "description": "the annotated CSV",
            "headers": {
                "X-Respmap-Rows": {"description": "rows answered", "schema": {"type": "integer"}},
                "X-Respmap-Errors": {"description": "rows with unusable coordinates", "schema": {"type": "integer"}},
            },
        },
        **error_responses(400, 413, 422),
    },
)
async def lookup_csv(
    request: Request,
    ds: DatasetDep,
    file: Annotated[UploadFile, File(description="the CSV file of points (multipart form field `file`)")],
    lon_col: Annotated[
        str | None,
        Query(description="column holding longitude (x); default: found by name", max_length=200, examples=["经度"]),
    ] = None,
    lat_col: Annotated[
        str | None,
        Query(description="column holding latitude (y); default: found by name", max_length=200, examples=["纬度"]),
    ] = None,
    crs: Annotated[
        str | None,
        Query(
            description="datum of the coordinates: wgs84 (default), cgcs2000, gcj02, bd09 or EPSG:<code>",
            max_length=64,
        ),
    ] = None,
    date: DateDep = None,
) -> CsvAnswer:
    upload = await file.read()
    options = _csv_form_options(
        await request.form(), {"crs": crs, "date": date, "lon_col": lon_col, "lat_col": lat_col}
    )
    crs, lon_col, lat_col = options["crs"] or "wgs84", options["lon_col"], options["lat_col"]
    date = parse_date(options["date"], "date") if isinstance(options["date"], str) else options["date"]
    limit = request.app.state.settings.batch_limit
    work = functools.partial(
        assign_csv, ds, upload, lon_col=lon_col, lat_col=lat_col, crs=crs, date=date, row_limit=limit
    )
    # Parsed in a worker thread, and at most CSV_PARSERS uploads at once: many uploads queue for these
    # threads instead of taking the whole pool (and the GIL) from the single lookups.
    result = await anyio.to_thread.run_sync(work, limiter=_csv_limiter(request.app))
    return CsvAnswer(
        result.content,
        headers={
            "Content-Disposition": 'attachment; filename="assigned.csv"',
            "X-Respmap-Rows": str(result.rows),
            "X-Respmap-Errors": str(result.errors),
        },
    )


# -- batch parsing -----------------------------------------------------------------
CSV_OPTIONS = ("crs", "date", "lon_col", "lat_col")
CSV_PARSERS = 2  # uploads parsed at the same time per worker process


def _csv_limiter(app: Any) -> anyio.CapacityLimiter:
    """The app's limiter of concurrent CSV parses (made in the event loop, on first use)."""
    limiter = getattr(app.state, "csv_limiter", None)
    if limiter is None:
        limiter = app.state.csv_limiter = anyio.CapacityLimiter(CSV_PARSERS)
    return limiter


def _csv_form_options(form: Any, query: dict[str, Any]) -> dict[str, Any]:
    """The upload's options from the query or from form fields beside ``file``.

    A multipart upload naturally carries its options as form fields; read only
    from the query, ``crs=gcj02`` in the form was dropped and GCJ-02 points were
    answered as WGS-84, about 500 m off. An option given both ways must agree,
    and a form field that is no option is refused rather than ignored.
    """
    options = dict(query)
    for key, value in form.multi_items():
        if key == "file":
            continue
        if key not in CSV_OPTIONS:
            raise BadParameterError(
                key,
                f"unknown form field {key[:40]!r}: send the CSV as `file` and options among {', '.join(CSV_OPTIONS)}",
            )
        if not isinstance(value, str):
            raise BadParameterError(key, f"form field {key} must be text, not a file")
        given = options[key]
        if given is not None and str(given) != value.strip():
            raise BadParameterError(
                key, f"{key} is given twice, {str(given)[:40]!r} in the query and {value[:40]!r} in the form"
            )
        options[key] = value.strip() or None
    return options


def _answer_batch(
    ds: Dataset, body: bytes, crs: str | None, date: Any, limit: int, all_matches: bool
) -> dict[str, Any]:
    try:
        payload = loads(body)
    except ValueError as exc:
        raise InvalidBodyError(f"the body is not valid JSON: {str(exc)[:200]}") from None
    items, body_crs, body_date = _points_of(payload)
    if len(items) > limit:
        raise TooLargeError(
            f"{len(items)} points is more than this server answers in one request ({limit}); split the batch",
            {"limit": limit, "count": len(items)},
        )
    crs = crs or body_crs or "wgs84"
    if date is None and body_date is not None:
        date = parse_date(body_date, "date (in the body)")
    ids, lons, lats, errors = _parse_points(items)
    valid = np.flatnonzero(np.array([e is None for e in errors], dtype=bool))
    # Ask even with no valid point: an unknown CRS or a bad date fails the whole batch (400), not each point.
    table = ds.lookup_many(lons[valid], lats[valid], crs=crs, date=date, all_matches=all_matches)
    columns = [c for c in table.columns if c != "point_index"]
    answers: list[list[dict[str, Any]]] = [[] for _ in items]
    owners = table["point_index"].to_numpy() if all_matches else np.arange(len(table))
    for owner, record in zip(owners.tolist(), plain_records(table, columns), strict=True):
        answers[int(valid[owner])].append(record)
    empty = dict.fromkeys(columns)
    results: list[dict[str, Any]] = []
    for index, (identifier, error) in enumerate(zip(ids, errors, strict=True)):
        head: dict[str, Any] = {"index": index}
        if identifier is not None:
            head["id"] = identifier
        head["lon"] = None if error else float(lons[index])
        head["lat"] = None if error else float(lats[index])
        for record in answers[index] or [empty]:
            row = {**head, **record}
            row["error"] = error or record.get("error") or None  # geo says '' for "no error"
            results.append(row)
    return {
        "crs": crs,
        "date": answer_date(ds, date),
        "count": len(items),
        "errors": sum(1 for index, error in enumerate(errors) if error or any(r.get("error") for r in answers[index])),
        "results": results,
    }


def _points_of(payload: Any) -> tuple[list[Any], str | None, str | None]:
    """The list of point items in any accepted body shape, with crs/date given in the body."""
    if isinstance(payload, list):
        return payload, None, None
    if isinstance(payload, dict):
        if payload.get("type") == "FeatureCollection":
            features = payload.get("features")
            if not isinstance(features, list):
                raise InvalidBodyError("a FeatureCollection needs a `features` list")
            return [_feature_point(feature) for feature in features], None, None
        if "points" in payload:
            points = payload["points"]
            if not isinstance(points, list):
                raise InvalidBodyError('`points` must be a list of {"lon", "lat"} objects')
            body_crs = payload.get("crs")
            body_date = payload.get("date")
            if body_crs is not None and not isinstance(body_crs, str):
                raise InvalidBodyError('`crs` must be a string such as "gcj02" or "EPSG:4545"')
            if body_date is not None and not isinstance(body_date, str):
                raise InvalidBodyError("`date` must be a string YYYY-MM-DD")
            return points, body_crs, body_date
    raise InvalidBodyError(
        'the body must be a JSON list of points, an object {"points": [...]} or a GeoJSON FeatureCollection of points'
    )


class _BadFeature:
    """A feature that is not a Point: carries the reason to the per-point error."""

    def __init__(self, reason: str, identifier: Any = None) -> None:
        self.reason = reason
        self.identifier = identifier


def _feature_point(feature: Any) -> Any:
    if not isinstance(feature, dict):
        return _BadFeature("not a GeoJSON Feature object")
    properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
    identifier = feature.get("id", properties.get("id"))
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        return _BadFeature(f"geometry must be a Point, not {str(kind)[:40]}", identifier)
    coordinates = geometry.get("coordinates")
    return {"coordinates": coordinates, "id": identifier}


def _parse_points(items: list[Any]) -> tuple[list[Any], np.ndarray, np.ndarray, list[str | None]]:
    """ids, lons, lats (NaN where unusable) and a per-point error (None when usable)."""
    count = len(items)
    lons = np.full(count, np.nan)
    lats = np.full(count, np.nan)
    ids: list[Any] = [None] * count
    errors: list[str | None] = [None] * count
    for index, item in enumerate(items):
        lon: Any
        lat: Any
        try:
            ids[index] = _plain_id(_given_id(item))
        except _BadId as exc:
            errors[index] = str(exc)
            continue
        if isinstance(item, _BadFeature):
            errors[index] = item.reason
            continue
        if isinstance(item, dict) and "coordinates" in item and "lon" not in item:
            pair = item["coordinates"]
            if not isinstance(pair, list) or len(pair) < 2:
                errors[index] = "Point coordinates must be [lon, lat]"
                continue
            lon, lat = pair[0], pair[1]
        elif isinstance(item, dict):
            if "lon" not in item or "lat" not in item:
                errors[index] = "a point needs both lon and lat"
                continue
            lon, lat = item["lon"], item["lat"]
        elif isinstance(item, list) and 2 <= len(item) <= 3:
            lon, lat = item[0], item[1]
        else:
            errors[index] = 'a point must be {"lon": x, "lat": y} or [lon, lat]'
            continue
        if not _is_number(lon) or not _is_number(lat):
            errors[index] = "lon and lat must be finite numbers"
            continue
        lons[index], lats[index] = float(lon), float(lat)
    return ids, lons, lats, errors


def _given_id(item: Any) -> Any:
    """The ``id`` a point item carries, as sent (None without one)."""
    if isinstance(item, _BadFeature):
        return item.identifier
    return item.get("id") if isinstance(item, dict) else None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


# Integers beyond this lose digits in JavaScript (and most JSON readers): such ids are echoed as text.
MAX_EXACT_INTEGER = 2**53
MAX_ID_CHARACTERS = 200


class _BadId(ValueError):
    """An id that is not a string or a number: the point is answered with this error instead."""


def _plain_id(value: Any) -> str | int | float | None:
    """An id to echo: a string (bounded) or a number; integers past 2**53 as text (their digits kept).

    Raises:
        _BadId: an object, a list or a boolean (ids are scalars; a nested one is never walked).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value[:MAX_ID_CHARACTERS]
    if isinstance(value, bool):
        raise _BadId("id must be a string or a number, not true/false")
    if isinstance(value, int):
        return value if -MAX_EXACT_INTEGER <= value <= MAX_EXACT_INTEGER else str(value)[:MAX_ID_CHARACTERS]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    kind = "an object" if isinstance(value, dict) else "a list" if isinstance(value, list) else "not a scalar"
    raise _BadId(f"id must be a string or a number, not {kind}")
