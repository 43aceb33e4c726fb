"""``GET /``: the front door (``respmap serve`` prints this address, so it must answer with a page).

The page itself is built by :func:`maps.home.render_home`; this module only
collects the app's route paths (so that pages added later are linked only when
they exist) and sends the page with its Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.dependencies import DatasetDep
from maps.home import HOME_CSP, render_home

ORDER = 5
router = APIRouter(tags=["pages"])


def route_paths(routes: Iterable[object], prefix: str = "") -> list[str]:
    """Every route path of the app, through included routers (FastAPI may keep them nested)."""
    paths: list[str] = []
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            paths += route_paths(original.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(getattr(route, "path", None), str):
            paths.append(prefix + route.path)  # type: ignore[attr-defined]
    return paths


@router.get(
    "/",
    response_class=HTMLResponse,
    summary="Front door: the dataset, its figures and links to every page",
    responses={200: {"content": {"text/html": {}}, "description": "an HTML page"}},
)
async def home(
    request: Request,
    ds: DatasetDep,
    lang: Annotated[Literal["zh", "en"] | None, Query(description="page language (default: the dataset's)")] = None,
) -> HTMLResponse:
    """The dataset's name, the date its figures are for, features per layer, and links to the map,
    the phone page, the API documentation, OGC API - Features and the report kit."""
    prefix = request.scope.get("root_path", "")
    html = render_home(ds, route_paths(request.app.routes), lang=lang, prefix=prefix)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": HOME_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
