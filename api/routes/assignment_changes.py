"""Planners change who is responsible, over HTTP (for the map's edit tools and scripts).

``POST /assignments/changes`` takes the rows a few places should have from an effective date
(reassign a place or a stretch, split a street, give an unheld place a unit), answers the
difference, its text and the findings (``respmap validate``'s plus what the change breaks), and,
unless ``dry_run``, applies it: the dataset's tables switch together, the change is recorded with
the caller as author, and the server reloads (every worker follows). The same code as
``respmap import-assignments`` (:mod:`api.assignment_changes`).

Roles: planner or admin (401 without a token, 403 for other roles). Errors remaining: 422 with
the findings, nothing changed. The data changed since the caller's view (``base_hash``) or since
the change was prepared: 409 saying what changed.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.assignment_changes import apply_and_record, edit_answer, edited_from_places
from api.auth import require_roles
from api.case_store import app_store
from api.dependencies import DatasetDep
from api.errors import (
    BadParameterError,
    DatasetUnavailableError,
    InvalidBodyError,
    ReloadRefusedError,
    TooLargeError,
    error_responses,
)
from api.responses import JSONAnswer
from cases.errors import ConflictError
from cases.users import Actor
from geo import Dataset
from geo.assignment_diff import EditedResponsibility
from geo.assignment_edit import ChangedMeanwhile, EditRefused, prepare_edit
from geo.table_versions import VersioningError

ORDER = 46
router = APIRouter(tags=["history"])
EDITING_ROLES = ("planner", "admin")
MAX_PLACES = 1000
MAX_ROWS_PER_PLACE = 100


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str = Field(min_length=1, max_length=200)
    role: Literal["lead", "shared", "supervisor"] = "lead"
    from_m: float | None = Field(default=None, ge=0, description="stretch start, metres along the line")
    to_m: float | None = Field(default=None, gt=0, description="stretch end, metres along the line")
    valid_until: dt.date | None = Field(default=None, description="last day, if the assignment is to end")


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layer: str = Field(max_length=200)
    feature_id: str = Field(max_length=200)
    assignments: list[AssignmentIn] = Field(
        max_length=MAX_ROWS_PER_PLACE, description="every row the place has from the effective date; [] = nobody"
    )


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=400)
    kind: str | None = Field(default=None, max_length=100)
    parent: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=100)
    staff: float | None = Field(default=None, ge=0)
    district: str | None = Field(default=None, max_length=200)


class ChangeIn(BaseModel):
    """A change of responsibility for some places, from a date."""

    model_config = ConfigDict(extra="forbid")
    effective: dt.date = Field(description="first day of the new state; rows in force end the day before")
    reason: str = Field(min_length=1, max_length=2000, description="why (kept in the history)")
    dry_run: bool = Field(default=False, description="answer the difference and the findings; change nothing")
    base_hash: str | None = Field(
        default=None, max_length=80, description="the dataset's content hash the caller's view showed (409 if stale)"
    )
    places: list[PlaceIn] = Field(max_length=MAX_PLACES)
    units: list[UnitIn] = Field(default_factory=list, max_length=MAX_PLACES, description="units to add or update")


@router.post(
    "/assignments/changes",
    summary="Change who is responsible for some places, from a date (planners)",
    responses=error_responses(400, 401, 403, 409, 422),
)
async def change_assignments(
    request: Request,
    body: ChangeIn,
    ds: DatasetDep,
    actor: Annotated[Actor, Depends(require_roles(*EDITING_ROLES))],
) -> JSONAnswer:
    if body.base_hash and body.base_hash != ds.content_hash:
        raise ConflictError(
            f"the data changed since your view ({body.base_hash} -> {ds.content_hash}); look at it again",
            {"base_hash": body.base_hash, "content_hash": ds.content_hash},
        )

    def edited() -> EditedResponsibility:
        places = [p.model_dump(mode="json") for p in body.places]
        units = [u.model_dump(mode="json", exclude_none=True) for u in body.units]
        return edited_from_places(ds, places, units or None)

    return await _run_change(request, ds, actor, edited, body.effective, body.reason, body.dry_run)


@router.post(
    "/assignments/changes/workbook",
    summary="Change who is responsible from an edited responsibility workbook (planners)",
    description=(
        "Multipart form: `workbook` (the .xlsx `respmap export` writes, edited in Excel or WPS), `effective` "
        "(YYYY-MM-DD), `reason`, `dry_run` (true/false). The same answer as `POST /assignments/changes` and "
        "as `respmap import-assignments`."
    ),
    responses=error_responses(400, 401, 403, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["workbook", "effective", "reason"],
                        "properties": {
                            "workbook": {"type": "string", "format": "binary"},
                            "effective": {"type": "string", "format": "date"},
                            "reason": {"type": "string"},
                            "dry_run": {"type": "boolean"},
                        },
                    }
                }
            }
        }
    },
)
async def change_from_workbook(
    request: Request, ds: DatasetDep, actor: Annotated[Actor, Depends(require_roles(*EDITING_ROLES))]
) -> JSONAnswer:
    from api.workbook_import import MAX_WORKBOOK_MB, WorkbookError, read_workbook

    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidBodyError("send multipart/form-data with a `workbook` file, `effective` and `reason`")
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("workbook")
    effective_text, reason = form.get("effective"), form.get("reason")
    if upload is None or isinstance(upload, str):
        raise InvalidBodyError("the form has no `workbook` file")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidBodyError("`reason` must say why (kept in the history)")
    try:
        effective = dt.date.fromisoformat(effective_text if isinstance(effective_text, str) else "")
    except ValueError:
        raise BadParameterError(
            "effective", f"effective {str(effective_text)[:40]!r} is not a date (YYYY-MM-DD)"
        ) from None
    dry_run = str(form.get("dry_run") or "").strip().lower() in ("1", "true", "yes", "on")
    limit = MAX_WORKBOOK_MB * 1024 * 1024
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(f"the workbook is over the {MAX_WORKBOOK_MB} MB limit", {"limit_bytes": limit})
    # The name shows in findings ("责任分工表.xlsx sheet ... row ..."): kept, but only as a plain file name.
    name = re.sub(r"[\x00-\x1f/\\]", "_", Path(upload.filename or "workbook.xlsx").name)[:120] or "workbook.xlsx"
    folder = Path(tempfile.mkdtemp(prefix="respmap-upload-"))
    path = folder / (name if name.lower().endswith(".xlsx") else name + ".xlsx")
    path.write_bytes(data)

    def edited() -> EditedResponsibility:
        try:
            return read_workbook(path, ds)
        except WorkbookError as exc:
            raise InvalidBodyError(str(exc)) from None

    try:
        return await _run_change(request, ds, actor, edited, effective, reason.strip(), dry_run)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _run_change(
    request: Request,
    ds: Dataset,
    actor: Actor,
    edited: Callable[[], EditedResponsibility],
    effective: dt.date,
    reason: str,
    dry_run: bool,
) -> JSONAnswer:
    """Prepare (and unless a dry run, apply and record) in a worker thread; reload after applying."""
    store = app_store(request)

    def work() -> dict[str, Any]:
        try:
            prepared = prepare_edit(ds, edited(), effective)
        except EditRefused as exc:
            raise InvalidBodyError(str(exc)) from None
        except ChangedMeanwhile as exc:
            raise ConflictError(
                str(exc), {"changed_files": exc.changed_files, "latest_change": exc.latest_change}
            ) from None
        answer = edit_answer(prepared, dry_run=dry_run)
        if dry_run or prepared.plan.diff.empty:
            return answer
        if not prepared.ok:
            raise InvalidBodyError(
                f"{len(prepared.errors)} error(s) remain; nothing was changed",
                {"findings": answer["findings"], "diff": answer["diff"], "text": answer["text"]},
            )
        try:
            applied, change = apply_and_record(prepared, store, by=actor.name, reason=reason, by_user_id=actor.user_id)
        except ChangedMeanwhile as exc:
            raise ConflictError(
                str(exc), {"changed_files": exc.changed_files, "latest_change": exc.latest_change}
            ) from None
        except (OSError, VersioningError) as exc:  # a full disk, a read-only folder: the previous version stands
            # (answered as the server's fault, 500, with this message in the server's log)
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise DatasetUnavailableError(
                f"cannot write the new tables in {ds.path.name}: {message}; nothing was changed"
            ) from None
        answer.update(applied=True, version=applied.version.name, change=change, recorded=change is not None)
        return answer

    try:
        answer = await anyio.to_thread.run_sync(work)
    except ConflictError:
        await _reload(request)  # serve what is on disk now, so the caller's next look is current
        raise
    if answer["applied"]:
        answer["reloaded"] = await _reload(request)
    return JSONAnswer(answer)


async def _reload(request: Request) -> bool:
    """Reload the dataset (every worker follows); False if the data on disk does not load cleanly."""
    try:
        await request.app.state.datasets.reload()
    except ReloadRefusedError:
        return False
    return True
