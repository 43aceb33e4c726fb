"""Health: what the server is serving (``/healthz``) and a constant answer (``/healthz/ping``).

``/healthz/ping`` exists for the benchmark (bench/api.py) and for load
balancers: it touches no data and returns the same bytes every time, so its
requests/s measure the cost of the HTTP stack alone. The lookup endpoint's
throughput is reported as a ratio of it.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.dependencies import DatasetDep
from api.errors import error_responses
from api.responses import JSONAnswer, dumps
from cases.dataset_tables import SyncResult

ORDER = 10
router = APIRouter(tags=["health"])

PONG = dumps({"status": "ok"})


class Health(BaseModel):
    status: str = Field(description="`ok` when a dataset without errors is serving")
    dataset: str = Field(description="dataset name from its catalog")
    path: str = Field(description="dataset folder on the server")
    content_hash: str = Field(description="hash of the catalog and every file it names; changes when the data does")
    loaded_at: str = Field(description="when this snapshot was loaded (ISO 8601, UTC)")
    generation: int = Field(description="reloads this worker has applied since it started")
    worker_pid: int = Field(description="process id of the worker that answered (several with --workers N)")
    feature_counts: dict[str, int] = Field(description="features per layer")
    zones: int = Field(description="duty zones (feature x assignment, all dates)")
    date: str = Field(description="the day answers are for when none is asked (status_date, else today)")
    date_source: str = Field(description="`status_date` (declared in catalog.toml) or `today`")
    zones_in_force: int = Field(description="duty zones in force on `date`")
    units: int = Field(description="units in the units table")
    warnings: int = Field(description="warnings found while loading")
    route_modules_failed: dict[str, str] = Field(description="route modules left out because they failed to import")
    tables: dict[str, Any] | None = Field(
        None,
        description="the folder's responsibility tables against those published in the store (status: "
        "in_sync, written, ahead, diverged, no_store_versions, unusable; a message when they differ); "
        "null before the store is attached",
    )


class Pong(BaseModel):
    status: str = Field(description="always `ok`")


@router.get(
    "/healthz",
    summary="What is being served",
    response_model=Health,
    responses=error_responses(503),
)
async def healthz(request: Request, ds: DatasetDep) -> JSONAnswer:
    holder = request.app.state.datasets
    return JSONAnswer(
        {
            "status": "ok",
            "dataset": ds.name,
            "path": str(ds.path),
            "content_hash": ds.content_hash,
            "loaded_at": ds.loaded_at.isoformat(),
            "generation": holder.generation,
            "worker_pid": os.getpid(),
            "feature_counts": ds.feature_counts(),
            "zones": len(ds.duty_zones),
            "date": ds.reference_date.date().isoformat(),
            "date_source": ds.reference_date_source,
            "zones_in_force": len(ds.zones_on()),
            "units": len(ds.units),
            "warnings": sum(1 for f in ds.findings if f.level == "warning"),
            "route_modules_failed": getattr(request.app.state, "route_modules_failed", {}),
            "tables": _tables(holder.tables_sync),
        }
    )


@router.get(
    "/healthz/ping",
    summary="Constant answer (benchmark baseline, liveness probe)",
    description=(
        'Always `{"status": "ok"}`, without touching the dataset: the cost of the HTTP stack alone. '
        "bench/api.py compares the lookup endpoint's requests/s with this one's."
    ),
    response_model=Pong,
)
async def ping() -> JSONAnswer:
    return JSONAnswer(PONG)


def _tables(sync: SyncResult | None) -> dict[str, Any] | None:
    if sync is None:
        return None
    return {"status": sync.status, "dataset_key": sync.dataset_key, "version": sync.latest_seq, "message": sync.message}
