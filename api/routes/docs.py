"""The interactive API documentation at ``/docs``, with no CDN.

FastAPI's built-in page loads Swagger UI from a CDN, which a government
intranet rarely reaches. This page uses the ``swagger-ui-dist`` npm package
installed by the set-up into ``maps/node_modules`` and served under
``/assets/vendor/swagger-ui-dist/`` (see :mod:`maps.vendor`).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from maps.vendor import SWAGGER_UI_DIST

ORDER = 90
router = APIRouter(include_in_schema=False)
ASSETS = "/assets/vendor/swagger-ui-dist"


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    """Swagger UI for /openapi.json, from local files (503 when they are not installed)."""
    if not (SWAGGER_UI_DIST / "swagger-ui-bundle.js").is_file():
        return HTMLResponse(
            "<h1>API documentation unavailable</h1><p>Swagger UI is not installed: run "
            "<code>bash scripts/setup.sh</code> (or <code>npm ci --prefix maps</code>). "
            'The API description itself is at <a href="/openapi.json">/openapi.json</a>.</p>',
            status_code=503,
        )
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="respmap API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
