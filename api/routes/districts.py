"""Campaign districts (双创片区): their fallback unit, workload, and the units holding ground in them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import DatasetDep, DateDep, DistrictDep, answer_date
from api.errors import error_responses
from api.responses import JSONAnswer, plain_records
from geo import Dataset
from geo.zones import HOLDING_ROLES

ORDER = 40
router = APIRouter(tags=["districts"])


class DistrictSummary(BaseModel):
    model_config = ConfigDict(extra="allow")
    district_id: str
    name: str
    fallback_unit: str = Field(description="the unit that answers for whatever no one else holds (属地兜底)")
    bbox: list[float] | None = Field(description="[minLon, minLat, maxLon, maxLat] in WGS-84")


class DistrictList(BaseModel):
    date: str
    count: int
    districts: list[DistrictSummary] = Field(
        description="district fields plus workload on the date: area_m2, counts per layer, held_area_m2, "
        "required_workers, staff, shortfall, n_unheld, n_conflicts, ..."
    )


class HoldingUnit(BaseModel):
    unit_id: str
    unit_name: str
    zones: int = Field(description="zones this unit leads or shares in the district")
    area_m2: float = Field(description="their area, m² (shared ground counted for each unit)")


class DistrictDetail(BaseModel):
    date: str
    district: DistrictSummary
    units: list[HoldingUnit] = Field(description="units leading or sharing zones in the district, largest area first")


def _districts(ds: Dataset, date: Any) -> dict[str, dict[str, Any]]:
    """district_id -> fields and workload on ``date`` (from the coverage report), with its bbox."""
    report = ds.coverage(date)
    records = {row["district_id"]: row for row in plain_records(report.districts)}
    if ds.frame is not None:
        for district_id, bounds in zip(ds.frame["district_id"], ds.frame.geometry.bounds.to_numpy(), strict=True):
            if district_id in records:
                records[district_id]["bbox"] = [float(v) for v in bounds]
    for record in records.values():
        record.setdefault("bbox", None)
    return records


@router.get(
    "/districts",
    summary="Every district with its workload on a date",
    response_model=DistrictList,
    responses=error_responses(400),
)
def list_districts(ds: DatasetDep, date: DateDep = None) -> JSONAnswer:
    districts = list(_districts(ds, date).values())
    return JSONAnswer({"date": answer_date(ds, date), "count": len(districts), "districts": districts})


@router.get(
    "/districts/{district_id:path}",
    summary="One district: workload and the units holding ground in it",
    response_model=DistrictDetail,
    responses=error_responses(400, 404),
)
def get_district(ds: DatasetDep, district: DistrictDep, date: DateDep = None) -> JSONAnswer:
    district_id = str(district["district_id"])
    record = _districts(ds, date).get(district_id) or {
        "district_id": district_id,
        "name": str(district["name"]),
        "fallback_unit": str(district["fallback_unit"]),
        "bbox": None,
    }
    zones = ds.zones_on(date)
    held = zones.loc[(zones["district_id"] == district_id) & zones["role"].isin(HOLDING_ROLES)]
    grouped = (
        held.groupby(["unit_id", "unit_name"], sort=False)
        .agg(zones=("zone_id", "size"), area_m2=("area_m2", "sum"))
        .reset_index()
        .sort_values(["area_m2", "unit_id"], ascending=[False, True])
    )
    return JSONAnswer({"date": answer_date(ds, date), "district": record, "units": plain_records(grouped)})
