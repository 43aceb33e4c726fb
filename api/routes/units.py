"""Units: who they are, what they hold on a date, and how their staff compares to the work.

Workload figures (required workers, shortfall, cost) come from the coverage
report of :mod:`geo.coverage`, the same numbers ``respmap coverage`` prints,
so the HTTP API and the command line never disagree.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import DatasetDep, DateDep, UnitDep, answer_date
from api.errors import error_responses
from api.features import frame_collection, zone_properties
from api.models import FeatureCollection
from api.responses import GeoJSONAnswer, JSONAnswer, plain_records, plain_value
from geo import Dataset

ORDER = 30
router = APIRouter(tags=["units"])

# Zone columns shown in /units/{id}: everything but geometry.
ZONE_FIELDS = zone_properties()


class UnitSummary(BaseModel):
    model_config = ConfigDict(extra="allow")
    unit_id: str = Field(description="id in the units table")
    name: str = Field(description="unit name")


class UnitList(BaseModel):
    date: str = Field(description="the day the figures are for")
    count: int
    units: list[UnitSummary] = Field(
        description="units-table fields plus workload on the date: counts per layer, length_m, area_m2, "
        "required_workers, staff, shortfall, surplus, cost_yuan, supervises, fallback_districts, idle"
    )


class UnitDetail(BaseModel):
    date: str
    unit: UnitSummary = Field(description="units-table fields and workload, as in GET /units")
    fallback_for: list[str] = Field(description="districts whose territorial fallback (属地兜底) this unit is")
    zones: list[dict[str, Any]] = Field(description="the unit's duty zones on the date (every role), without geometry")


def _workload(ds: Dataset, date: Any) -> dict[str, dict[str, Any]]:
    """unit_id -> workload figures from the coverage report on ``date``."""
    report = ds.coverage(date)
    return {row["unit_id"]: row for row in plain_records(report.units)}


def _unit_record(row: dict[str, Any], workload: dict[str, Any] | None) -> dict[str, Any]:
    record = dict(row)
    if workload:
        for key, value in workload.items():
            record.setdefault(key, value)
    return record


@router.get(
    "/units", summary="Every unit, with its workload on a date", response_model=UnitList, responses=error_responses(400)
)
def list_units(ds: DatasetDep, date: DateDep = None) -> JSONAnswer:
    workload = _workload(ds, date)
    units = [_unit_record(row, workload.get(row["unit_id"])) for row in plain_records(ds.units)]
    return JSONAnswer({"date": answer_date(ds, date), "count": len(units), "units": units})


# Unit ids may hold slashes (units named after a property: "Parks/Streets"): ``:path`` takes them,
# and the zones route comes first so that ".../zones" is not read as part of an id.
@router.get(
    "/units/{unit_id:path}/zones",
    summary="The unit's duty zones on a date, as GeoJSON",
    response_class=GeoJSONAnswer,
    response_model=FeatureCollection,
    responses=error_responses(400, 404),
)
def unit_zones(ds: DatasetDep, unit: UnitDep, date: DateDep = None) -> GeoJSONAnswer:
    zones = ds.zones_on(date)
    own = zones.loc[zones["unit_id"] == str(unit["unit_id"])]
    return GeoJSONAnswer(
        frame_collection(own, "zone_id", ZONE_FIELDS, date=answer_date(ds, date), unit_id=str(unit["unit_id"]))
    )


@router.get(
    "/units/{unit_id:path}",
    summary="One unit: its zones and totals on a date",
    response_model=UnitDetail,
    responses=error_responses(400, 404),
)
def get_unit(ds: DatasetDep, unit: UnitDep, date: DateDep = None) -> JSONAnswer:
    unit_id = str(unit["unit_id"])
    workload = _workload(ds, date).get(unit_id)
    zones = ds.zones_on(date)
    own = zones.loc[zones["unit_id"] == unit_id]
    fallback_for: list[str] = []
    if ds.frame is not None:
        fallback_for = [str(v) for v in ds.frame.loc[ds.frame["fallback_unit"] == unit_id, "district_id"]]
    row = {key: plain_value(value) for key, value in unit.items()}
    return JSONAnswer(
        {
            "date": answer_date(ds, date),
            "unit": _unit_record(row, workload),
            "fallback_for": fallback_for,
            "zones": plain_records(own, ZONE_FIELDS),
        }
    )
