"""The OpenAPI document, adjusted so that it describes what the server really answers.

FastAPI's generated document needs three corrections:

* error answers are always ``application/json`` (:class:`api.errors.ErrorBody`),
  but FastAPI files them under the route's media type (``application/geo+json``
  on GeoJSON routes);
* FastAPI adds a 422 "HTTPValidationError" to every route with parameters,
  whereas here malformed parameters are 400 and only a malformed body is 422,
  in the shared error shape;
* every operation with parameters can answer 400, every one with a body 413:
  declared here once rather than on each route;
* QGIS reads the OGC items page size from ``components.parameters.limit``
  (default and maximum), so the items operation refers to that component.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.features import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT

ERROR_REF = "#/components/schemas/ErrorBody"
VALIDATION_REF = "#/components/schemas/HTTPValidationError"
ITEMS_PATH = "/ogc/collections/{collectionId}/items"


def limit_parameter(default: int, maximum: int) -> dict[str, Any]:
    """The OGC ``limit`` parameter as a reusable component."""
    return {
        "name": "limit",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": f"Features per page, 1 to {maximum} (larger values are clamped to {maximum}).",
        "schema": {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """Generate and correct the document (see the module docstring)."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                _fix_error_responses(operation)
    components = schema.setdefault("components", {})
    schemas = components.get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _add_limit_component(schema)
    return schema


def _fix_error_responses(operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    error_content = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    # Any malformed parameter is a 400; any body can be too large (413).
    if operation.get("parameters"):
        responses.setdefault("400", {"description": "Bad parameter", "content": error_content})
    if "requestBody" in operation:
        responses.setdefault("413", {"description": "Request body too large", "content": error_content})
    validation = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if validation.get("$ref") == VALIDATION_REF:
        if "requestBody" in operation:
            responses["422"] = {
                "description": "Invalid request body",
                "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
            }
        else:
            del responses["422"]
    for status, response in responses.items():
        if not status.isdigit() or int(status) < 400:
            continue
        content = response.get("content", {})
        for media_type in list(content):
            if content[media_type].get("schema", {}).get("$ref") == ERROR_REF and media_type != "application/json":
                content["application/json"] = content.pop(media_type)


def _add_limit_component(schema: dict[str, Any]) -> None:
    limit = limit_parameter(DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT)
    schema.setdefault("components", {}).setdefault("parameters", {})["limit"] = limit
    operation = schema.get("paths", {}).get(ITEMS_PATH, {}).get("get")
    if not operation:
        return
    operation["parameters"] = [
        {"$ref": "#/components/parameters/limit"}
        if parameter.get("name") == "limit" and parameter.get("in") == "query"
        else parameter
        for parameter in operation.get("parameters", [])
    ]


def install_openapi(app: FastAPI) -> None:
    """Serve the corrected document at ``app.openapi_url`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
