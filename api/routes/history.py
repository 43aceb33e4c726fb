"""The history of responsibility over HTTP: every applied change, who made it, when and why.

``GET /history`` lists the changes recorded for the dataset being served, newest first
(``feature_id`` / ``unit_id`` keep those touching a place or a unit); ``GET /history/{id}`` is one
change with its whole difference. Signed-in callers only: the history names the people who decided.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query, Request

from api.auth import ActorDep
from api.case_store import app_store
from api.dependencies import DatasetDep
from api.errors import NotFoundError, error_responses
from api.responses import JSONAnswer
from cases.history import MAX_LISTED, get_change, list_changes

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


@router.get("/history/{change_id}", summary="One change of responsibility", responses=error_responses(401, 404))
async def one_change(request: Request, change_id: int, actor: ActorDep, ds: DatasetDep) -> JSONAnswer:
    store = app_store(request)
    change = await anyio.to_thread.run_sync(lambda: get_change(store, change_id))
    if change is None or change["dataset_path"] != str(ds.path.resolve()):
        raise NotFoundError("change", str(change_id))
    return JSONAnswer(change)
