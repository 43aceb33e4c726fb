"""Open311 GeoReport v2 at ``/open311/v2``: the case loop for apps that speak the standard.

FixMyStreet, SeeClickFix and many city systems talk GeoReport v2
(http://wiki.open311.org/GeoReport_v2). This module is a thin adapter over the case
engine (:mod:`cases.service`): services are the categories in force, a service request is
a case. Every resource answers JSON or XML by its suffix (``services.json`` /
``services.xml``), errors in the spec's shape (``[{"code": 400, "description": ...}]``,
``<errors><error>...``) with the same HTTP status.

* ``discovery.{json,xml}``; ``services.{fmt}``; ``services/{code}.{fmt}`` (no extra attributes);
* ``POST requests.{fmt}`` (form fields, or multipart with a ``media`` file): ``service_code``,
  ``lat``, ``long`` (WGS-84; extension: ``crs`` = gcj02 / bd09 for Chinese map apps),
  ``description``, ``media_url``, ``email``, ``first_name``, ``last_name``, ``phone``,
  ``api_key`` (optional: a user token from ``respmap users add``). Without a key the
  request is a public report: it waits as ``reported`` for the office, and reports are
  limited per client address (shared with ``POST /cases``). Contact details are kept for
  the office only;
* ``GET requests.{fmt}`` (``service_request_id``, ``service_code``, ``status`` open/closed,
  ``start_date``, ``end_date``; the last 90 days by default, at most 1000) and
  ``requests/{id}.{fmt}``. Without a key only public reports are listed, without reporter
  data and without anyone's notes on the record: only the reporter's own description.

``media_url`` is kept as text for the office and never fetched (the server would otherwise
reach any address a stranger names).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from api.case_store import ServiceDep, app_store, categories_of
from api.dependencies import DatasetDep
from api.errors import ApiError, RateLimitedError, TooLargeError, status_for
from api.rate_limit import public_report_limiter
from api.responses import dumps
from cases import workflow
from cases.clock import TimeError, local_iso, parse_time
from cases.errors import CaseError, CaseNotFoundError
from cases.models import Case, Event
from cases.service import CaseFilter, CaseService, Upload
from cases.users import MAX_TOKEN_CHARS, PUBLIC, Actor, authenticate

ORDER = 45
PREFIX = "/open311/v2"
router = APIRouter(prefix=PREFIX, tags=["open311"])
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
DEFAULT_PERIOD = dt.timedelta(days=90)  # the spec's default window for GET requests
MAX_REQUESTS = 1000  # the spec's default maximum per answer
MAX_IDS = 100
MAX_MEDIA_URL_CHARS = 500
MAX_CONTACT_FIELD_CHARS = 100
# Characters XML 1.0 cannot carry at all (kept out of every XML answer).
# What every route may answer (OpenAPI): the resource, or the spec's error list, in JSON or XML.
_BOTH = {"application/json": {"schema": {}}, "text/xml": {"schema": {"type": "string"}}}
_ERROR_LIST = {
    "application/json": {
        "schema": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
                "required": ["code", "description"],
            },
        }
    },
    "text/xml": {"schema": {"type": "string"}},
}


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {200: {"description": "the resource (.json or .xml)", "content": _BOTH}}
    for status in statuses:
        out[status] = {"description": "GeoReport v2 error list", "content": _ERROR_LIST}
    return out


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311Error(Exception):
    """An error answered in the spec's shape with ``status``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# ------------------------------------------------------------------------------------------ encoding


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("", str(value))


def _xml(root_tag: str, item_tag: str, items: list[dict[str, Any]]) -> bytes:
    root = ET.Element(root_tag)
    for item in items:
        _xml_fill(ET.SubElement(root, item_tag), item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _xml_fill(node: ET.Element, item: dict[str, Any]) -> None:
    for key, value in item.items():
        child = ET.SubElement(node, key)
        if isinstance(value, dict):
            _xml_fill(child, value)
        elif isinstance(value, list):
            singular = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute"}.get(key, "item")
            for element in value:
                if isinstance(element, dict):
                    _xml_fill(ET.SubElement(child, singular), element)
                else:
                    ET.SubElement(child, singular).text = _text(element)
        else:
            child.text = _text(value)


def _answer(fmt: str, body: Any, root_tag: str, item_tag: str, status: int = 200) -> Response:
    if fmt == "xml":
        items = body if isinstance(body, list) else [body]
        content = _xml(root_tag, item_tag, items) if isinstance(body, list) else _xml_single(root_tag, body)
        return Response(content, status_code=status, media_type=FORMATS["xml"])
    return Response(dumps(body), status_code=status, media_type=FORMATS["json"])


def _xml_single(root_tag: str, body: dict[str, Any]) -> bytes:
    root = ET.Element(root_tag)
    _xml_fill(root, body)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _error(fmt: str, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    body = [{"code": status, "description": description}]
    answer = _answer(fmt if fmt in FORMATS else "json", body, "errors", "error", status)
    for key, value in (headers or {}).items():
        answer.headers[key] = value
    return answer


async def _guarded(fmt: str, work: Callable[[], Awaitable[Response]]) -> Response:
    """Run a route's work; the engine's and the API's errors become the spec's error answer."""
    if fmt not in FORMATS:
        return _error("json", 404, f"unknown format {fmt[:20]!r}: use .json or .xml")
    try:
        return await work()
    except Open311Error as error:
        return _error(fmt, error.status, error.description)
    except (CaseError, ApiError) as error:
        status, _ = status_for(error)
        if status >= 500:
            raise
        headers = None
        details = getattr(error, "details", None)
        if status == 429 and isinstance(details, dict) and "retry_after_s" in details:
            headers = {"Retry-After": str(math.ceil(float(details["retry_after_s"])))}
        return _error(fmt, status, str(getattr(error, "message", error)), headers)


# ------------------------------------------------------------------------------------------ callers


# Longest accepted query values; checked in the route so that a refusal comes in the spec's shape.
QUERY_LIMITS = {
    "service_request_id": 4000,
    "service_code": 80,
    "status": 20,
    "start_date": 40,
    "end_date": 40,
    "api_key": MAX_TOKEN_CHARS,
    "jurisdiction_id": 200,
}


def _check_query(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is not None and len(value) > QUERY_LIMITS[name]:
            raise Open311Error(400, f"{name} is longer than {QUERY_LIMITS[name]} characters")


async def _caller(request: Request, api_key: str | None) -> Actor:
    """The public, or the user whose token came as ``api_key`` or a bearer header (403 if wrong)."""
    token = (api_key or "").strip()
    header = request.headers.get("authorization", "")
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    if not token:
        return PUBLIC
    if len(token) > MAX_TOKEN_CHARS:
        raise Open311Error(403, "invalid api_key")
    actor = await anyio.to_thread.run_sync(authenticate, app_store(request), token)
    if actor is None:
        raise Open311Error(403, "invalid api_key (unknown, disabled or mistyped)")
    return actor


# ------------------------------------------------------------------------------------------ discovery, services


@router.get("/discovery.{fmt}", summary="Open311 service discovery", responses=_responses(404, 503))
async def discovery(request: Request, fmt: str, ds: DatasetDep) -> Response:
    async def work() -> Response:
        base = str(request.base_url).rstrip("/") + PREFIX
        changeset = ds.loaded_at.isoformat(timespec="seconds") if hasattr(ds, "loaded_at") else None
        body = {
            "changeset": changeset,
            "contact": "the city's campaign office (城管办)",
            "key_service": "api_key is a user token from `respmap users add`; without one a request is a public report",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        }
        return _answer(fmt, body, "discovery", "discovery")

    return await _guarded(fmt, work)


def _service(category: Any) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.name_en or category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": category.name_en,
        "group": category.group,
    }


@router.get("/services.{fmt}", summary="Open311 services: the case categories in force", responses=_responses(404, 503))
async def services(fmt: str, ds: DatasetDep) -> Response:
    async def work() -> Response:
        body = [_service(c) for c in categories_of(ds).items]
        return _answer(fmt, body, "services", "service")

    return await _guarded(fmt, work)


@router.get(
    "/services/{service_code}.{fmt}",
    summary="Open311 service definition (no extra attributes)",
    responses=_responses(404, 503),
)
async def service_definition(service_code: str, fmt: str, ds: DatasetDep) -> Response:
    async def work() -> Response:
        if categories_of(ds).get(service_code) is None:
            raise Open311Error(404, f"no service {service_code[:80]!r}; see services.{fmt}")
        return _answer(fmt, {"service_code": service_code, "attributes": []}, "service_definition", "")

    return await _guarded(fmt, work)


# ------------------------------------------------------------------------------------------ requests


def _float(fields: dict[str, str], name: str) -> float:
    raw = fields.get(name, "").strip()
    if not raw:
        raise Open311Error(400, f"{name} is required (respmap places a request by lat and long)")
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number in decimal degrees, got {raw[:40]!r}") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} must be a finite number")
    return value


def _contact(fields: dict[str, str]) -> str | None:
    """Who reported, for the office only: name, email, phone, device and account ids."""
    parts = []
    name = " ".join(fields.get(k, "").strip()[:MAX_CONTACT_FIELD_CHARS] for k in ("first_name", "last_name")).strip()
    if name:
        parts.append(name)
    for key in ("email", "phone", "device_id", "account_id"):
        value = fields.get(key, "").strip()[:MAX_CONTACT_FIELD_CHARS]
        if value:
            parts.append(f"{key}: {value}")
    return "; ".join(parts) or None


def _description(fields: dict[str, str]) -> str:
    text = fields.get("description", "").strip()
    address = fields.get("address_string", "").strip()[:300]
    media_url = fields.get("media_url", "").strip()
    if address:
        text = f"{text}\n地址 address: {address}".strip()
    if media_url:
        if len(media_url) > MAX_MEDIA_URL_CHARS or not re.match(r"^https?://", media_url, re.IGNORECASE):
            raise Open311Error(400, f"media_url must be an http(s) address of at most {MAX_MEDIA_URL_CHARS} characters")
        text = f"{text}\n图片链接 media_url: {media_url}".strip()
    return text


async def _form(request: Request, service: CaseService) -> tuple[dict[str, str], Upload | None]:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise Open311Error(400, "send the request as form fields (application/x-www-form-urlencoded or multipart)")
    limit = int(service.store.config.photo_limit_mb * 1024 * 1024)
    form = await request.form(max_files=1, max_fields=80)
    fields: dict[str, str] = {}
    media = None
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields[key] = value
        elif key == "media":
            data = await value.read(limit + 1)
            if len(data) > limit:
                raise TooLargeError(
                    f"media is over the {service.store.config.photo_limit_mb:g} MB limit", {"limit_bytes": limit}
                )
            if data:
                media = Upload(data, value.filename or "media")
    return fields, media


@router.post(
    "/requests.{fmt}",
    summary="Open311: create a service request (a case)",
    description="Form fields (or multipart with a `media` file): service_code, lat, long, description, "
    "media_url, email, first_name, last_name, phone, api_key (optional), crs (extension: gcj02, bd09).",
    responses=_responses(400, 403, 404, 409, 413, 422, 429, 503),
)
async def create_request(request: Request, fmt: str, service: ServiceDep) -> Response:
    async def work() -> Response:
        fields, media = await _form(request, service)
        actor = await _caller(request, fields.get("api_key"))
        code = fields.get("service_code", "").strip()
        if not code:
            raise Open311Error(400, "service_code is required; see services." + fmt)
        if service.categories.get(code) is None:
            raise Open311Error(404, f"no service {code[:80]!r}; see services.{fmt}")
        lat, lon = _float(fields, "lat"), _float(fields, "long")
        description = _description(fields)
        if actor.is_public:
            client = request.client.host if request.client else "unknown"
            if wait := public_report_limiter(request.app).retry_after(client):
                raise RateLimitedError("too many requests from this address; try again later", {"retry_after_s": wait})
        case = await anyio.to_thread.run_sync(
            lambda: service.create(
                actor,
                lon=lon,
                lat=lat,
                crs=fields.get("crs", "wgs84").strip()[:60] or "wgs84",
                category=code,
                note=description,
                photo=media,
                contact=_contact(fields),
            )
        )
        if case["state"] == "reported":
            notice = "已收到，城管办审核后派遣 (received; the office will review and dispatch it)"
        else:
            names = "、".join(u["name"] for u in case["units"]) or "—"
            notice = f"已派遣给 {names}，限期 {case['due_at']} (dispatched)"
        body = [{"service_request_id": case["case_id"], "service_notice": notice, "account_id": None}]
        return _answer(fmt, body, "service_requests", "request")

    return await _guarded(fmt, work)


def _status(state: str) -> str:
    return "open" if state in workflow.OPEN_STATES else "closed"


def _request_view(case: dict[str, Any], updated: str | None, base: str, actor: Actor) -> dict[str, Any]:
    """A case as a GeoReport service request: no reporter, no notes on the record."""
    feature = case.get("feature") or {}
    address = " · ".join(str(p) for p in (case.get("district_name"), feature.get("name")) if p)
    photos = case.get("photos") or []
    # Photos are served to signed-in callers only; the public sees the place and the state.
    media_url = base + photos[0]["url"] if photos and not actor.is_public else None
    return {
        "service_request_id": case["case_id"],
        "status": _status(case["state"]),
        "status_notes": case.get("state_name", case["state"]),
        "service_name": case.get("category_name"),
        "service_code": case.get("category"),
        "description": case.get("note", ""),
        "agency_responsible": "、".join(u["name"] for u in case.get("units", [])) or None,
        "service_notice": None,
        "requested_datetime": case.get("reported_at"),
        "updated_datetime": updated,
        "expected_datetime": case.get("due_at"),
        "address": address or None,
        "address_id": feature.get("feature_id"),
        "zipcode": None,
        "lat": case.get("lat"),
        "long": case.get("lon"),
        "media_url": media_url,
    }


def _updated(service: CaseService, case_ids: list[str]) -> dict[str, str | None]:
    """When each case last changed (its newest event as recorded), local time."""
    if not case_ids:
        return {}
    with service.store.reading() as session:
        rows = session.execute(
            select(Case.case_id, func.max(Event.recorded_at))
            .join(Event, Event.case_pk == Case.id)
            .where(Case.case_id.in_(case_ids))
            .group_by(Case.case_id)
        ).all()
    return {case_id: local_iso(at, service.zone) for case_id, at in rows}


def _time(text: str | None, service: CaseService, field: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        return parse_time(text, service.zone, field=field)
    except TimeError as error:
        raise Open311Error(400, str(error)) from None


def _list(service: CaseService, actor: Actor, params: dict[str, str | None]) -> list[dict[str, Any]]:
    ids = [i.strip() for i in (params["service_request_id"] or "").split(",") if i.strip()]
    if ids:  # the spec: ids given, every other filter ignored
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"at most {MAX_IDS} service_request_id values at once")
        found = []
        for case_id in ids:
            try:
                found.append(service.get(actor, case_id))
            except CaseNotFoundError:
                continue
        return found
    status = (params["status"] or "").strip().lower()
    states: tuple[str, ...] = ()
    if status:
        wanted = {s.strip() for s in status.split(",") if s.strip()}
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status must be open or closed")
        states = tuple(s for s in workflow.STATES if _status(s) in wanted)
    start = _time(params["start_date"], service, "start_date")
    end = _time(params["end_date"], service, "end_date")
    if start is None and end is None:
        start = service.clock() - DEFAULT_PERIOD
    filters = CaseFilter(
        state=states,
        category=(params["service_code"] or "").strip() or None,
        start=start,
        end=end,
        limit=MAX_REQUESTS,
    )
    items, _ = service.list(actor, filters)
    return items


@router.get(
    "/requests.{fmt}",
    summary="Open311: service requests (cases) the caller may see",
    responses=_responses(400, 403, 404, 422, 503),
)
async def list_requests(
    request: Request,
    fmt: str,
    service: ServiceDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    api_key: str | None = None,
    jurisdiction_id: str | None = None,
) -> Response:
    async def work() -> Response:
        _check_query(
            {
                "service_request_id": service_request_id,
                "service_code": service_code,
                "status": status,
                "start_date": start_date,
                "end_date": end_date,
                "api_key": api_key,
                "jurisdiction_id": jurisdiction_id,
            }
        )
        actor = await _caller(request, api_key)
        params = {
            "service_request_id": service_request_id,
            "service_code": service_code,
            "status": status,
            "start_date": start_date,
            "end_date": end_date,
        }
        items = await anyio.to_thread.run_sync(lambda: _list(service, actor, params))
        updated = await anyio.to_thread.run_sync(lambda: _updated(service, [c["case_id"] for c in items]))
        base = str(request.base_url).rstrip("/")
        body = [_request_view(c, updated.get(c["case_id"]), base, actor) for c in items]
        return _answer(fmt, body, "service_requests", "request")

    return await _guarded(fmt, work)


@router.get(
    "/requests/{service_request_id}.{fmt}",
    summary="Open311: one service request",
    responses=_responses(400, 403, 404, 422, 503),
)
async def get_request(
    request: Request,
    service_request_id: str,
    fmt: str,
    service: ServiceDep,
    api_key: str | None = None,
    jurisdiction_id: str | None = None,
) -> Response:
    async def work() -> Response:
        _check_query({"api_key": api_key, "jurisdiction_id": jurisdiction_id})
        actor = await _caller(request, api_key)
        case = await anyio.to_thread.run_sync(lambda: service.get(actor, service_request_id))
        updated = await anyio.to_thread.run_sync(lambda: _updated(service, [case["case_id"]]))
        base = str(request.base_url).rstrip("/")
        body = [_request_view(case, updated.get(case["case_id"]), base, actor)]
        return _answer(fmt, body, "service_requests", "request")

    return await _guarded(fmt, work)
