"""The assessment over HTTP (admin only): ``GET /assessment`` and the map data of ``/dashboard``.

``GET /assessment?period=2026-11`` (or ``from`` and ``to`` dates) answers what
``respmap assess --json`` prints: the period, the rules, the city, every unit
and district with figures, points, score, rank and the case ids behind each
figure. ``cases=false`` leaves the case ids out (a year of a city is a million
ids); ``trend=N`` adds the city's figures of the N periods before, oldest
first. ``GET /assessment/map`` gives the period's cases (state at the end,
overdue) and the districts with their figures as GeoJSON, for the dashboard's map.
Computed on each request from the store (a worker thread), never cached: a case
closed a minute ago counts.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
import shapely
from fastapi import APIRouter, Depends, Query, Request

from api.assessment_source import assess_period, cases_geojson, period_of
from api.auth import require_roles
from api.case_store import app_store
from api.dependencies import DatasetDep
from api.errors import BadParameterError, error_responses
from api.responses import JSONAnswer
from cases.users import Actor
from geo import Dataset
from geo.assessment import Assessment, AssessmentInputError
from geo.assessment_rules import AssessmentRulesError
from geo.periods import Period, PeriodError

ORDER = 47
router = APIRouter(tags=["assessment"])
AdminDep = Annotated[Actor, Depends(require_roles("admin"))]
MAX_TREND = 12
# District outlines on the dashboard's map: simplified (degrees, about 5 m), it is an overview.
OUTLINE_TOLERANCE_DEG = 0.00005

PeriodParam = Annotated[
    str | None, Query(max_length=20, description="2026-11 (month), 2026-Q4, 2026-H2 or 2026; or from and to")
]
FromParam = Annotated[str | None, Query(alias="from", max_length=10, description="first day YYYY-MM-DD (with to)")]
ToParam = Annotated[str | None, Query(alias="to", max_length=10, description="last day YYYY-MM-DD, included")]


def _period(ds: Dataset, period: str | None, first: str | None, last: str | None) -> Period:
    try:
        return period_of(ds, period, first, last)
    except PeriodError as error:
        raise BadParameterError("period", str(error)) from None


def _assess(request: Request, ds: Dataset, period: Period) -> Assessment:
    try:
        return assess_period(app_store(request), ds, period)
    except (AssessmentRulesError, AssessmentInputError) as error:
        raise BadParameterError("dataset", str(error)) from None


@router.get(
    "/assessment",
    summary="Indicators, scores and ranks of units and districts for a period (admin)",
    responses=error_responses(400, 401, 403, 503),
)
async def assessment(
    request: Request,
    actor: AdminDep,
    ds: DatasetDep,
    period: PeriodParam = None,
    first: FromParam = None,
    last: ToParam = None,
    cases: Annotated[bool, Query(description="include the case ids behind every figure")] = True,
    trend: Annotated[int, Query(ge=0, le=MAX_TREND, description="also the city's figures of N periods before")] = 0,
) -> JSONAnswer:
    chosen = _period(ds, period, first, last)

    def work() -> dict[str, Any]:
        result = _assess(request, ds, chosen)
        data = result.to_dict(include_cases=cases)
        if trend:
            earlier = [_assess(request, ds, p) for p in chosen.previous(trend)]
            data["trend"] = [
                {"period": a.period.to_dict(), "city": a.city.to_dict(include_cases=False)} for a in [*earlier, result]
            ]
        return data

    return JSONAnswer(await anyio.to_thread.run_sync(work))


@router.get(
    "/assessment/map",
    summary="The period's cases and the districts' figures as GeoJSON, for the dashboard (admin)",
    responses=error_responses(400, 401, 403, 503),
)
async def assessment_map(
    request: Request, actor: AdminDep, ds: DatasetDep, period: PeriodParam = None, first: FromParam = None,
    last: ToParam = None,
) -> JSONAnswer:  # fmt: skip
    chosen = _period(ds, period, first, last)

    def work() -> dict[str, Any]:
        result = _assess(request, ds, chosen)
        return {"period": chosen.to_dict(), "cases": cases_geojson(result), "districts": _districts(ds, result)}

    return JSONAnswer(await anyio.to_thread.run_sync(work))


def _districts(ds: Dataset, result: Assessment) -> dict[str, Any]:
    figures = {d.id: d for d in result.districts}
    features = []
    if ds.frame is not None:
        outlines = ds.cached(
            ("assessment_outlines",),
            lambda: shapely.simplify(ds.frame.geometry.to_numpy(), OUTLINE_TOLERANCE_DEG, preserve_topology=True),
        )
        for district_id, name, outline in zip(ds.frame["district_id"], ds.frame["name"], outlines, strict=True):
            standing = figures.get(str(district_id))
            properties = {"id": str(district_id), "name": str(name)}
            if standing is not None:
                properties.update(
                    rank=standing.rank,
                    score=standing.score,
                    attributed=standing.figures["attributed"],
                    overdue_open=standing.figures["overdue_open"],
                    on_time_rate=standing.figures["on_time_rate"],
                )
            features.append({"type": "Feature", "properties": properties, "geometry": outline.__geo_interface__})
    return {"type": "FeatureCollection", "features": features}
