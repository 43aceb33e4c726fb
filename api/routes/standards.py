"""Cleaning standards (清扫保洁标准): the grades and their quotas, as the dataset defines them."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import DatasetDep
from api.responses import JSONAnswer, plain_records

ORDER = 50
router = APIRouter(tags=["standards"])


class Standard(BaseModel):
    model_config = ConfigDict(extra="allow")
    standard_id: str
    applies_to: str = Field(description="layer id, or `*` for every layer")
    grade: str = Field(description="grade name, e.g. 一级")


class StandardList(BaseModel):
    count: int
    standards: list[Standard] = Field(
        description="figures (sweeps_per_day, patrol_hours, litter_max_minutes, workers_per_10000m2, m2_per_worker, "
        "yuan_per_m2_year, bin_spacing_m, toilets_per_km) are numbers, null when the table leaves them empty"
    )


@router.get("/standards", summary="Every cleaning standard", response_model=StandardList)
async def list_standards(ds: DatasetDep) -> JSONAnswer:
    standards = plain_records(ds.standards)
    return JSONAnswer({"count": len(standards), "standards": standards})
