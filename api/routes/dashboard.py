"""``GET /dashboard``: the office's page of the period's figures, trends, rankings and cases (admin).

A browser that is not signed in is sent to ``/login`` (and back here after);
a signed-in caller who is not the office gets 403. The page itself carries no
data: its script asks ``/assessment`` and ``/assessment/map`` (admin only too).
Without ``period`` (or ``from``/``to``) it shows the current month, in the office's time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import optional_actor
from api.dependencies import DatasetDep
from api.errors import BadParameterError, ForbiddenRoleError, error_answer, error_responses
from cases.users import Actor
from geo.periods import PeriodError, dataset_timezone, resolve_period
from maps.dashboard import DASHBOARD_CSP, render_dashboard_page
from maps.vendor import AssetsMissingError

ORDER = 86
router = APIRouter(tags=["assessment"])


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}}, "description": "an HTML page"},
        303: {"description": "not signed in: to /login, and back here after"},
        **error_responses(400, 401, 403, 503),
    },
    summary="The office's dashboard: figures, trends, rankings, cases on a map (admin)",
)
async def dashboard(
    request: Request,
    ds: DatasetDep,
    actor: Annotated[Actor, Depends(optional_actor)],
    period: Annotated[str | None, Query(max_length=20, description="2026-11, 2026-Q4, 2026-H2 or 2026")] = None,
    first: Annotated[str | None, Query(alias="from", max_length=10, description="first day YYYY-MM-DD")] = None,
    last: Annotated[str | None, Query(alias="to", max_length=10, description="last day YYYY-MM-DD")] = None,
) -> Response:
    prefix = request.scope.get("root_path", "")
    if actor.is_public:
        back = f"{prefix}/dashboard" + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{prefix}/login?next={quote(back, safe='')}", status_code=303)
    if actor.role != "admin":
        raise ForbiddenRoleError(f"a {actor.role} may not open the dashboard (needs admin)")
    timezone = dataset_timezone(ds)
    if not (period or first or last):
        period = pd.Timestamp(dt.datetime.now(dt.UTC)).tz_convert(timezone).strftime("%Y-%m")
    try:
        resolve_period(period, first, last, timezone)  # a bad period is named here, not in the page
    except PeriodError as error:
        raise BadParameterError("period", str(error)) from None
    try:
        html = render_dashboard_page(
            prefix=prefix, site_name=ds.name, period={"period": period, "from": first, "to": last}
        )
    except AssetsMissingError as exc:
        return error_answer(503, "map_assets_missing", str(exc))
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": DASHBOARD_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
        },
    )
