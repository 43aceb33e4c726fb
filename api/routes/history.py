"""The history of responsibility over HTTP: every applied change, who made it, when and why.

``GET /history`` lists the changes recorded for the dataset being served, newest first
(``feature_id`` / ``unit_id`` keep those touching a place or a unit); ``GET /history/{id}`` is one
change with its whole difference; ``GET /history/place`` who holds a place on a date, since when,
and which change decided it. Signed-in callers only: the history names the people who decided.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request

from api.auth import ActorDep
from api.case_store import app_store
from api.dependencies import DatasetDep, DateDep
from api.errors import NotFoundError, error_responses
from api.responses import JSONAnswer
from cases.history import MAX_LISTED, belongs_to, change_opening, get_change, list_changes
from geo.held_since import holders_since

ORDER = 45
router = APIRouter(tags=["history"])


@router.get(
    "/history",
    summary="Changes of responsibility, newest first",
    description="Each change: who (`by`), when (`at`), why (`reason`), from which day (`effective`), "
    "the dataset hashes before and after, and the difference (`diff`: opened, closed, changed, units).",
    responses=error_responses(401, 503),
)
async def history(
    request: Request,
    actor: ActorDep,
    ds: DatasetDep,
    feature_id: Annotated[str | None, Query(max_length=200, description="only changes touching this place")] = None,
    unit_id: Annotated[str | None, Query(max_length=200, description="only changes touching this unit")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100,
) -> JSONAnswer:
    store = app_store(request)
    changes = await anyio.to_thread.run_sync(
        lambda: list_changes(store, ds.path, feature_id=feature_id, unit_id=unit_id, limit=limit)
    )
    return JSONAnswer({"count": len(changes), "changes": changes})


@router.get(
    "/history/place",
    summary="Who holds a place on a date, since when, and which change decided it",
    description="Every unit holding the place on `date` (default today), with `since` (the start of its "
    "unbroken holding; null = since the data begins), `row_from` (the start of the row in force) and the recorded "
    "`change` that opened that row (null when it was not made with respmap).",
    responses=error_responses(400, 401, 404),
)
async def place_history(
    request: Request,
    actor: ActorDep,
    ds: DatasetDep,
    layer: Annotated[str, Query(max_length=200)],
    feature_id: Annotated[str, Query(max_length=200)],
    date: DateDep = None,
) -> JSONAnswer:
    if layer not in ds.layers or not (ds.layers[layer]["feature_id"] == feature_id).any():
        raise NotFoundError("place", f"{layer}/{feature_id}")
    day = date if date is not None else ds.reference_date.date()
    store = app_store(request)
    names = dict(zip(ds.units["unit_id"], ds.units["name"], strict=False))

    def work() -> list[dict[str, Any]]:
        holders = []
        for held in holders_since(ds, layer, feature_id, day):
            change = change_opening(store, ds.path, feature_id, held.unit_id, held.row_from) if held.row_from else None
            brief = None
            if change is not None:
                brief = {k: change[k] for k in ("id", "at", "by", "reason", "effective")}
            holders.append({**held.to_dict(), "unit_name": names.get(held.unit_id, ""), "change": brief})
        return holders

    holders = await anyio.to_thread.run_sync(work)
    return JSONAnswer({"layer": layer, "feature_id": feature_id, "date": day.isoformat(), "holders": holders})


@router.get("/history/{change_id}", summary="One change of responsibility", responses=error_responses(401, 404))
async def one_change(request: Request, change_id: int, actor: ActorDep, ds: DatasetDep) -> JSONAnswer:
    store = app_store(request)

    def found() -> dict[str, Any] | None:
        change = get_change(store, change_id)
        # made on this dataset: in this folder, or on another server sharing the store (published for it)
        return change if change is not None and belongs_to(store, change, ds.path) else None

    change = await anyio.to_thread.run_sync(found)
    if change is None:
        raise NotFoundError("change", str(change_id))
    return JSONAnswer(change)
