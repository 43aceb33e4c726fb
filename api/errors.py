"""One table from errors to HTTP answers, and the one JSON shape they all share.

Routes never catch. Domain errors raised anywhere below them (an unknown CRS
from :mod:`geo.datums`, bad coordinates from :mod:`geo.lookup`, an unknown id
from a dependency) travel up to the handlers installed here, which look the
exception's class up in :data:`ERROR_TABLE` and answer::

    {"error": "unknown_crs", "message": "...", "details": ...}

``error`` is a stable machine-readable code, ``message`` is for people,
``details`` carries structured extras (validation errors, findings) or null.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.responses import JSONAnswer
from cases.categories import CategoryError
from cases.errors import CaseNotFoundError, ConflictError, ForbiddenError, InvalidCaseError
from cases.store import StoreError
from geo.datums import UnknownCRSError
from geo.lookup import CoordinateError

log = logging.getLogger("respmap.api")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: str = Field(description="stable machine-readable code, e.g. `unknown_crs`, `not_found`")
    message: str = Field(description="what went wrong, for people")
    details: Any = Field(default=None, description="structured extras: validation errors, findings, limits; or null")


class ApiError(Exception):
    """Base of the errors the HTTP layer raises itself (the table gives their status)."""

    code = "error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadParameterError(ApiError):
    """A query or path parameter is malformed (bad date, bbox, ...)."""

    code = "bad_parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message, {"parameter": parameter})


class NotFoundError(ApiError):
    """An id (unit, district, collection, feature) that the dataset does not have."""

    code = "not_found"

    def __init__(self, kind: str, identifier: str) -> None:
        shown = identifier if len(identifier) <= 80 else identifier[:80] + "..."
        super().__init__(f"no {kind} with id {shown!r}", {"kind": kind, "id": shown})


class TooLargeError(ApiError):
    """A request past the configured batch count or body size."""

    code = "too_large"


class InvalidBodyError(ApiError):
    """A request body that is not one of the shapes the route accepts."""

    code = "invalid_body"


class AuthenticationRequiredError(ApiError):
    """An admin route called without the right bearer token."""

    code = "unauthorized"


class AdminDisabledError(ApiError):
    """An admin route on a server that has no admin token configured."""

    code = "admin_disabled"


class ReloadRefusedError(ApiError):
    """A reload whose data has errors: the old dataset keeps serving."""

    code = "reload_refused"


class ForbiddenRoleError(ApiError):
    """Signed in, but the role may not do this."""

    code = "forbidden"


class CsrfError(ApiError):
    """A cookie-authenticated change without the page's CSRF value."""

    code = "csrf_failed"


class RateLimitedError(ApiError):
    """Too many attempts from one client (logins, anonymous reports)."""

    code = "rate_limited"


class DatasetUnavailableError(ApiError):
    """No dataset is loaded (the lifespan has not run or failed)."""

    code = "dataset_unavailable"


# The one table: exception class -> (HTTP status, error code). Looked up along
# the exception's MRO, so subclasses inherit their parent's answer.
ERROR_TABLE: dict[type[BaseException], tuple[int, str]] = {
    UnknownCRSError: (400, "unknown_crs"),
    CoordinateError: (400, "bad_coordinates"),
    BadParameterError: (400, BadParameterError.code),
    AuthenticationRequiredError: (401, AuthenticationRequiredError.code),
    AdminDisabledError: (403, AdminDisabledError.code),
    ForbiddenRoleError: (403, ForbiddenRoleError.code),
    ForbiddenError: (403, "forbidden"),
    CsrfError: (403, CsrfError.code),
    NotFoundError: (404, NotFoundError.code),
    CaseNotFoundError: (404, "not_found"),
    ConflictError: (409, "conflict"),
    InvalidCaseError: (422, "invalid_case"),
    RateLimitedError: (429, RateLimitedError.code),
    StoreError: (503, "store_unavailable"),
    CategoryError: (503, "bad_categories"),
    TooLargeError: (413, TooLargeError.code),
    InvalidBodyError: (422, InvalidBodyError.code),
    ReloadRefusedError: (422, ReloadRefusedError.code),
    DatasetUnavailableError: (503, DatasetUnavailableError.code),
}

# Codes for errors raised by Starlette itself (unknown path, wrong method).
HTTP_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
}

DESCRIPTIONS: dict[int, str] = {
    400: "Bad parameter: malformed coordinates, unknown CRS, bad date or bbox",
    401: "Missing or wrong bearer token",
    403: "Admin routes are disabled, or the caller's role may not do this",
    404: "Unknown id (or a case the caller may not see)",
    409: "The case is not in a state that allows this step, or changed meanwhile",
    429: "Too many attempts; wait and retry",
    413: "Too many points or too large a body",
    422: "Invalid request body",
    503: "No dataset loaded",
}


def status_for(exc: BaseException) -> tuple[int, str]:
    """The (status, code) that :data:`ERROR_TABLE` gives an exception, 500 when none."""
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return 500, "internal_error"


def error_answer(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response:
    return JSONAnswer({"error": code, "message": message, "details": details}, status_code=status, headers=headers)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the error statuses a route can answer."""
    return {status: {"model": ErrorBody, "description": DESCRIPTIONS.get(status, "Error")} for status in statuses}


async def _domain_error(request: Request, exc: Exception) -> Response:
    status, code = status_for(exc)
    if status >= 500:
        return await _unexpected(request, exc)
    # ApiError and the case engine's CaseError both carry a message and details.
    message = getattr(exc, "message", None) or str(exc)
    details = getattr(exc, "details", None)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429 and isinstance(details, dict) and "retry_after_s" in details:
        headers = {"Retry-After": str(int(details["retry_after_s"]) + 1)}
    return error_answer(status, code, message, details, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    """Malformed parameters are 400; a malformed body is 422 (the body is the only thing at fault)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]
    in_body = bool(errors) and all(error["loc"][:1] == ["body"] for error in errors)
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(part for part in first["loc"] if part not in ("query", "path", "header", "body")) or "request"
    if in_body:
        return error_answer(422, "invalid_body", f"invalid body at {where}: {first['msg']}", errors)
    return error_answer(400, "bad_parameter", f"bad parameter {where}: {first['msg']}", errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such path: {request.url.path[:200]}"
    return error_answer(exc.status_code, code, message, None, dict(exc.headers) if exc.headers else None)


async def _unexpected(request: Request, exc: Exception) -> Response:
    """Last line of defence: log the traceback, tell the client nothing internal."""
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_answer(500, "internal_error", "the server failed to answer this request; the error has been logged")


def install_error_handlers(app: FastAPI) -> None:
    """Register the table's handlers, the validation and HTTP handlers, and the catch-all."""
    for cls in ERROR_TABLE:
        app.add_exception_handler(cls, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
