"""The case loop over HTTP (DESIGN §8): categories, report, list, see, act, photos.

``POST /cases`` and ``POST /cases/{id}/events`` take JSON, or multipart form fields with a
``photo`` file. Bearer tokens (or the page session); no token on ``POST /cases`` is a
public report (rate-limited, waits as ``reported``). Access rules are the engine's
(:mod:`cases.service`): another unit's case is 404.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import ActorDep, MaybeActorDep
from api.case_store import ServiceDep, categories_of
from api.dependencies import DatasetDep
from api.errors import (
    BadParameterError,
    InvalidBodyError,
    NotFoundError,
    RateLimitedError,
    TooLargeError,
    error_responses,
)
from api.rate_limit import public_report_limiter
from api.responses import JSONAnswer
from cases.clock import TimeError, parse_time
from cases.photos import photo_path
from cases.service import CaseFilter, CaseService, Upload

ORDER = 40
router = APIRouter(tags=["cases"])
GEOJSON = "application/geo+json"
PHOTO_NAME_CHARS = 64 + len(".thumb.jpg")


class CaseIn(BaseModel):
    """A new case. Place: lon/lat in ``crs`` (or a photo whose EXIF has a position)."""

    lon: float | None = Field(default=None, description="longitude (or x) in `crs`")
    lat: float | None = Field(default=None, description="latitude (or y) in `crs`")
    crs: str = Field(default="wgs84", max_length=60, description="wgs84 (GPS), gcj02, bd09, cgcs2000 or EPSG:n")
    category: str = Field(max_length=80, description="a code from GET /categories")
    note: str = Field(default="", max_length=4000)
    reported_at: str | None = Field(
        default=None, max_length=40, description="when it was seen (ISO 8601; offline reports keep their time)"
    )
    idempotency_key: str | None = Field(
        default=None, max_length=200, description="the same key sent twice makes one case (offline retries)"
    )
    unit_id: str | None = Field(default=None, max_length=200, description="office only: assign by hand")


class EventIn(BaseModel):
    """One step on a case: an action and what it needs."""

    action: str = Field(
        max_length=20, description="dispatch, reject, rectify, dispute, postpone, reassign, close, send_back, comment"
    )
    note: str = Field(default="", max_length=4000)
    due_at: str | None = Field(default=None, max_length=40, description="postpone: the new deadline (ISO 8601)")
    unit_id: str | None = Field(default=None, max_length=200, description="reassign: the unit the case goes to")
    version: int | None = Field(default=None, description="the version you saw; a stale one gets 409")


@router.get("/categories", summary="The case categories in force", responses=error_responses(503))
async def categories(ds: DatasetDep) -> JSONAnswer:
    found = categories_of(ds)
    return JSONAnswer({"source": found.source, "categories": [c.to_dict() for c in found.items]})


@router.post(
    "/cases",
    status_code=201,
    summary="Report a case",
    description="JSON (`CaseIn`) or multipart form fields with a `photo` file. Answers 201 with the case.",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/CaseIn"}},
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"photo": {"type": "string", "format": "binary"}}}
                },
            }
        }
    },
    responses=error_responses(401, 403, 413, 422, 429),
)
async def create_case(request: Request, actor: MaybeActorDep, service: ServiceDep) -> JSONAnswer:
    fields, photo = await _read_body(request, service)
    data = _model(CaseIn, fields)
    if actor.is_public:
        client = request.client.host if request.client else "unknown"
        wait = public_report_limiter(request.app).retry_after(client)
        if wait:
            raise RateLimitedError("too many reports from this address; try again later", {"retry_after_s": wait})
    key = data.idempotency_key or request.headers.get("Idempotency-Key")
    at = _time(data.reported_at, service, "reported_at")
    case = await anyio.to_thread.run_sync(
        lambda: service.create(
            actor,
            lon=data.lon,
            lat=data.lat,
            crs=data.crs,
            category=data.category,
            note=data.note,
            at=at,
            photo=photo,
            idempotency_key=key,
            force_unit=data.unit_id,
        )
    )
    return JSONAnswer(case, status_code=201)


@router.get("/cases", summary="Cases the caller may see, as GeoJSON", responses=error_responses(400, 401, 403))
async def list_cases(
    actor: ActorDep,
    service: ServiceDep,
    state: Annotated[str | None, Query(max_length=200, description="states, comma-separated")] = None,
    unit_id: Annotated[str | None, Query(max_length=200)] = None,
    district_id: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=80)] = None,
    start: Annotated[
        str | None, Query(alias="from", max_length=40, description="reported on or after (date or time)")
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", max_length=40, description="reported up to this day (inclusive)")
    ] = None,
    bbox: Annotated[str | None, Query(max_length=200, description="min_lon,min_lat,max_lon,max_lat (WGS-84)")] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONAnswer:
    filters = CaseFilter(
        state=tuple(s.strip() for s in state.split(",") if s.strip()) if state else (),
        unit_id=unit_id,
        district_id=district_id,
        category=category,
        start=_time(start, service, "from"),
        end=_end_time(end, service),
        bbox=_bbox(bbox),
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
    items, total = await anyio.to_thread.run_sync(lambda: service.list(actor, filters))
    body = {
        "type": "FeatureCollection",
        "numberMatched": total,
        "numberReturned": len(items),
        "features": [
            {
                "type": "Feature",
                "id": c["case_id"],
                "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
                "properties": c,
            }
            for c in items
        ],
    }
    return JSONAnswer(body, media_type=GEOJSON)


@router.get("/cases/{case_id}", summary="One case with its history", responses=error_responses(401, 403, 404))
async def get_case(case_id: str, actor: ActorDep, service: ServiceDep) -> JSONAnswer:
    return JSONAnswer(await anyio.to_thread.run_sync(lambda: service.get(actor, case_id)))


@router.post(
    "/cases/{case_id}/events",
    summary="Take a step on a case",
    description="JSON (`EventIn`) or multipart form fields with a `photo` file (the unit's after-photo).",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/EventIn"}},
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"photo": {"type": "string", "format": "binary"}}}
                },
            }
        }
    },
    responses=error_responses(401, 403, 404, 409, 413, 422),
)
async def add_event(case_id: str, request: Request, actor: ActorDep, service: ServiceDep) -> JSONAnswer:
    fields, photo = await _read_body(request, service)
    data = _model(EventIn, fields)
    due = _time(data.due_at, service, "due_at")
    case = await anyio.to_thread.run_sync(
        lambda: service.act(
            actor,
            case_id,
            data.action,
            note=data.note,
            due_at=due,
            unit_id=data.unit_id,
            photo=photo,
            expected_version=data.version,
        )
    )
    return JSONAnswer(case)


@router.get("/photos/{name}", summary="A case photo (EXIF removed)", responses=error_responses(401, 404))
async def get_photo(name: str, actor: ActorDep, service: ServiceDep) -> FileResponse:
    if len(name) > PHOTO_NAME_CHARS or "." not in name:
        raise NotFoundError("photo", name)
    sha256, _, extension = name.partition(".")
    if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
        raise NotFoundError("photo", name)
    thumb = extension == "thumb.jpg"
    if not thumb and extension not in ("jpg", "png", "webp"):
        raise NotFoundError("photo", name)
    if not await anyio.to_thread.run_sync(lambda: service.may_see_photo(actor, sha256)):
        raise NotFoundError("photo", name)
    path = photo_path(service.store.data_dir, sha256, extension, thumb=thumb)
    if not path.is_file():
        raise NotFoundError("photo", name)
    media = "image/jpeg" if thumb or extension == "jpg" else f"image/{extension}"
    return FileResponse(
        path,
        media_type=media,
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


# ------------------------------------------------------------------------------------------


async def _read_body(request: Request, service: CaseService) -> tuple[dict[str, Any], Upload | None]:
    """JSON or multipart form fields, and the photo if one came (size checked while reading)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data") or content_type.startswith("application/x-www-form-urlencoded"):
        limit = int(service.store.config.photo_limit_mb * 1024 * 1024)
        try:
            form = await request.form(max_files=1, max_fields=50)
        except StarletteHTTPException as error:  # malformed multipart: the body is at fault (422)
            raise InvalidBodyError(f"the form cannot be read: {error.detail}") from None
        fields: dict[str, Any] = {}
        photo = None
        for key, value in form.multi_items():
            if isinstance(value, str):
                if key != "csrf_token":
                    fields[key] = value
            elif key == "photo":
                data = await value.read(limit + 1)
                if len(data) > limit:
                    raise TooLargeError(
                        f"the photo is over the {service.store.config.photo_limit_mb:g} MB limit",
                        {"limit_bytes": limit},
                    )
                if data:
                    photo = Upload(data, value.filename or "photo")
        return fields, photo
    try:
        body = await request.json()
    except ValueError:
        raise InvalidBodyError("the body is not JSON (send application/json or multipart/form-data)") from None
    if not isinstance(body, dict):
        raise InvalidBodyError("the body must be a JSON object")
    return body, None


def _model(model: type[BaseModel], fields: dict[str, Any]) -> Any:
    cleaned = {k: (None if v == "" and k not in ("note",) else v) for k, v in fields.items()}
    try:
        return model.model_validate(cleaned)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in error.errors()]
        raise InvalidBodyError(f"invalid body at {where}: {first.get('msg', '')}", details) from None


def _time(text: str | None, service: CaseService, field: str) -> dt.datetime | None:
    if text is None or text == "":
        return None
    try:
        return parse_time(text, service.zone, field=field)
    except TimeError as error:
        raise BadParameterError(field, str(error)) from None


def _end_time(text: str | None, service: CaseService) -> dt.datetime | None:
    """``to`` as a date includes that whole day (local)."""
    value = _time(text, service, "to")
    if value is not None and len(text or "") == 10:
        value += dt.timedelta(days=1)
    return value


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        raise BadParameterError("bbox", "bbox must be four numbers: min_lon,min_lat,max_lon,max_lat") from None
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts) or parts[0] > parts[2] or parts[1] > parts[3]:
        raise BadParameterError("bbox", "bbox must be four numbers: min_lon,min_lat,max_lon,max_lat, min before max")
    return parts  # type: ignore[return-value]
