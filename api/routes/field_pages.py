"""The field pages of the case loop: ``GET /login``, ``/inbox`` (a unit), ``/inspect`` (an inspector).

The pages are static shells (:mod:`maps.field`); what they show comes from the case routes
with the browser's session cookie, so access is the engine's (a unit sees its own cases,
never who reported them). ``POST /login`` itself is :mod:`api.routes.session`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dependencies import DatasetDep
from api.errors import error_answer, error_responses
from maps.field import FIELD_CSP, FieldPage, render_field_page
from maps.vendor import OWN_ASSETS, AssetsMissingError

ORDER = 85
router = APIRouter(tags=["field pages"])
LangParam = Annotated[Literal["zh", "en"] | None, Query(description="language of the page (default: the dataset's)")]
HTML_RESPONSES = {200: {"content": {"text/html": {}}, "description": "an HTML page"}, **error_responses(503)}


def _page(request: Request, ds: DatasetDep, kind: FieldPage, lang: str | None) -> Response:
    prefix = request.scope.get("root_path", "")
    limit_mb = float(getattr(request.app.state.settings, "photo_limit_mb", 10.0))
    language = lang or ds.lang
    try:
        html = ds.cached(
            ("maps.field", kind, language, prefix, limit_mb),
            lambda: render_field_page(kind, lang=language, prefix=prefix, photo_limit_mb=limit_mb, site_name=ds.name),
        )
    except AssetsMissingError as exc:
        return error_answer(503, "map_assets_missing", str(exc))
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": FIELD_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
            "X-Frame-Options": "DENY",
        },
    )


@router.get("/here-sw.js", include_in_schema=False)
async def here_worker() -> Response:
    """The service worker of /here (at the root, so that its scope can be the whole site's pages it keeps)."""
    return Response(
        (OWN_ASSETS / "here-sw.js").read_bytes(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/login", response_class=HTMLResponse, responses=HTML_RESPONSES, summary="Sign-in page (a token)")
async def login_page(request: Request, ds: DatasetDep, lang: LangParam = None) -> Response:
    """Enter a token from `respmap users add`; then the page named in `?next=` (a path on this site) opens."""
    return _page(request, ds, "login", lang)


@router.get("/inbox", response_class=HTMLResponse, responses=HTML_RESPONSES, summary="A unit's open cases (phone)")
async def inbox_page(request: Request, ds: DatasetDep, lang: LangParam = None) -> Response:
    """Open cases of the signed-in unit, overdue first: rectify with a photo, or dispute with a reason."""
    return _page(request, ds, "inbox", lang)


@router.get("/inspect", response_class=HTMLResponse, responses=HTML_RESPONSES, summary="An inspector's round (phone)")
async def inspect_page(request: Request, ds: DatasetDep, lang: LangParam = None) -> Response:
    """Rectified cases to check (before/after photos; close or send back) and open cases near the position."""
    return _page(request, ds, "inspect", lang)
