"""The places at a point and the rows each has on a date: what the map's edit panel starts from.

``GET /assignments/at?lon&lat&crs&date`` answers, for every place covering the point (the
district fallback left out), its layer, id, name, kind and the assignment rows in force on
``date`` (the effective date the planner chose), with unit names; for a line also its length
and ``at_m``, the metres along it of the point (measured as the tables measure stretches,
``line.project`` in the metric CRS), so a street is split where it was clicked without the
browser doing geodesy. The panel then sends ``POST /assignments/changes`` with the rows the
place should have. Planners and admins only, like the change itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import anyio.to_thread
import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Query
from pyproj import Transformer

from api.auth import require_roles
from api.dependencies import DatasetDep, DateDep
from api.errors import error_responses
from api.responses import JSONAnswer
from api.routes.assignment_changes import EDITING_ROLES
from cases.users import Actor
from geo import Dataset

ORDER = 47
router = APIRouter(tags=["history"])


def _rows_of(ds: Dataset, layer: str, feature_id: str, day: dt.date) -> list[dict[str, Any]]:
    """The place's assignment rows in force on ``day`` (as ``POST /assignments/changes`` takes them)."""
    table = ds.assignments
    if table is None or table.empty:
        return []
    when = pd.Timestamp(day)
    mine = table[
        (table["layer"] == layer)
        & (table["feature_id"] == feature_id)
        & (table["valid_from"].isna() | (table["valid_from"] <= when))
        & (table["valid_until"].isna() | (table["valid_until"] >= when))
    ]
    names = dict(zip(ds.units["unit_id"], ds.units["name"], strict=False))
    rows = []
    for record in mine.itertuples(index=False):
        rows.append(
            {
                "unit_id": record.unit_id,
                "unit_name": str(names.get(record.unit_id, "") or ""),
                "role": record.role,
                "from_m": None if np.isnan(record.from_m) else float(record.from_m),
                "to_m": None if np.isnan(record.to_m) else float(record.to_m),
                "valid_from": None
                if pd.isna(record.valid_from)
                else pd.Timestamp(record.valid_from).date().isoformat(),
                "valid_until": None
                if pd.isna(record.valid_until)
                else pd.Timestamp(record.valid_until).date().isoformat(),
            }
        )
    # Stretches in order along the line, then rows for the whole place; leads first.
    return sorted(rows, key=lambda r: (r["from_m"] is None, r["from_m"] or 0.0, r["role"] != "lead", r["unit_id"]))


def _line_metric(ds: Dataset, layer: str, feature_id: str) -> Any:
    """The line in the metric CRS (as the duty zones measure it), or None."""
    zones = ds.duty_zones
    hit = zones[(zones["layer"] == layer) & (zones["feature_id"] == feature_id)]
    if hit.empty:
        return None
    return hit["feature_metric"].iloc[0]


def places_at(ds: Dataset, lon: float, lat: float, crs: str, day: dt.date) -> dict[str, Any]:
    """Every non-fallback place covering the point, with its rows on ``day`` and, for lines, ``at_m``."""
    answer = ds.lookup(lon, lat, crs=crs, date=day).to_dict()
    wgs = answer["point"]["wgs84"]
    to_metric = Transformer.from_crs("EPSG:4326", ds.metric_crs, always_xy=True)
    x, y = to_metric.transform(wgs["lon"], wgs["lat"])
    kinds = {spec.id: spec.geometry for spec in ds.catalog.layers} if ds.catalog is not None else {}
    places = []
    for match in answer["matches"]:
        if match.get("fallback"):
            continue
        layer, feature_id = match["layer"], match["feature_id"]
        place: dict[str, Any] = {
            "layer": layer,
            "layer_title": match.get("layer_title") or layer,
            "feature_id": feature_id,
            "name": match.get("name") or "",
            "kind": kinds.get(layer, ""),
            "stretch": match.get("stretch"),
            "rows": _rows_of(ds, layer, feature_id, day),
        }
        if place["kind"] == "line":
            line = _line_metric(ds, layer, feature_id)
            if line is not None:
                place["length_m"] = round(float(shapely.length(line)), 2)
                place["at_m"] = round(float(shapely.line_locate_point(line, shapely.Point(x, y))), 1)
        places.append(place)
    return {
        "point": answer["point"],
        "date": day.isoformat(),
        "dataset_hash": ds.content_hash,
        "places": places,
    }


@router.get(
    "/assignments/at",
    summary="The places at a point and who holds them on a date (for planners' map edits)",
    description="For each place covering the point (not the district fallback): layer, id, name, kind, the "
    "assignment rows in force on `date` (default today) and, for lines, `length_m` and `at_m` (metres along the "
    "line of the point, as stretches are measured). `dataset_hash` is what `POST /assignments/changes` takes as "
    "`base_hash`.",
    responses=error_responses(400, 401, 403),
)
async def assignments_at(
    ds: DatasetDep,
    actor: Annotated[Actor, Depends(require_roles(*EDITING_ROLES))],
    lon: Annotated[float, Query(description="longitude (x) in `crs`")],
    lat: Annotated[float, Query(description="latitude (y) in `crs`")],
    crs: Annotated[str, Query(min_length=1, max_length=64, description="wgs84, cgcs2000, gcj02, bd09 or EPSG:n")] = (
        "wgs84"
    ),
    date: DateDep = None,
) -> JSONAnswer:
    day = date if date is not None else ds.reference_date.date()
    answer = await anyio.to_thread.run_sync(lambda: places_at(ds, lon, lat, crs, day))
    return JSONAnswer(answer)
