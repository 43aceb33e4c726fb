"""Coverage for planners: the report as JSON, and its problem places as GeoJSON.

``GET /coverage`` is the JSON of ``respmap coverage --json`` (from
:mod:`geo.coverage`); ``/coverage/gaps``, ``/conflicts``, ``/unheld``,
``/slivers``, ``/nesting`` and ``/frame_overlaps`` give those places as
GeoJSON FeatureCollections for a map. Reports are computed once per dataset
and date (first call may take a moment; later calls are instant).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import DatasetDep, DateDep, answer_date
from api.errors import error_responses
from api.features import frame_collection
from api.models import FeatureCollection
from api.responses import GeoJSONAnswer, JSONAnswer
from api.state import warm_up_step
from geo import Dataset

ORDER = 70
router = APIRouter(tags=["coverage"])

# Path name -> (report attribute, id column, what it is).
PLACES: dict[str, tuple[str, str | None, str]] = {
    "gaps": ("gaps", "gap_id", "ground in no district (holes in the frame; city boundary outside it)"),
    "conflicts": ("conflicts", "conflict_id", "ground two units claim at the same priority"),
    "unheld": ("unheld", None, "places and stretches of lines that no lead or sharing unit holds"),
    "slivers": ("slivers", "sliver_id", "tiny gap, overlap and conflict pieces (digitising noise)"),
    "nesting": ("nesting", "nesting_id", "a more specific zone inside a broader one (not a conflict)"),
    "frame_overlaps": ("frame_overlaps", "overlap_id", "districts overlapping each other"),
}


class CoverageSummary(BaseModel):
    model_config = ConfigDict(extra="allow")
    date: str
    totals: dict[str, Any] = Field(description="city-wide figures: areas m², staff, cost, counts of problems")


def _with_ids(places: gpd.GeoDataFrame, id_column: str | None) -> tuple[gpd.GeoDataFrame, str]:
    """Unheld places have no id column: make one from layer/feature_id and the stretch."""
    if id_column is not None:
        return places, id_column
    ids = []
    for layer, feature_id, from_m, to_m in places[["layer", "feature_id", "from_m", "to_m"]].itertuples(index=False):
        stretch = f"@{from_m:.0f}-{to_m:.0f}" if from_m == from_m and to_m == to_m else ""  # NaN != NaN: whole feature
        ids.append(f"{layer}/{feature_id}{stretch}")
    return places.assign(place_id=ids), "place_id"


@router.get(
    "/coverage", summary="The coverage report on a date", response_model=CoverageSummary, responses=error_responses(400)
)
def coverage(ds: DatasetDep, date: DateDep = None) -> JSONAnswer:
    return JSONAnswer(ds.coverage(date).to_dict())


def _add_places_route(path_name: str, attribute: str, id_column: str | None, what: str) -> None:
    def places(ds: DatasetDep, date: DateDep = None) -> GeoJSONAnswer:
        frame, ids = _with_ids(getattr(ds.coverage(date), attribute), id_column)
        columns = [c for c in frame.columns if c != frame.geometry.name]
        return GeoJSONAnswer(frame_collection(frame, ids, columns, date=answer_date(ds, date), count=len(frame)))

    places.__name__ = f"coverage_{path_name}"
    router.add_api_route(
        f"/coverage/{path_name}",
        places,
        methods=["GET"],
        summary=f"Coverage {path_name.replace('_', ' ')} as GeoJSON",
        description=f"{what[0].upper()}{what[1:]}, on the date asked (default the dataset's status_date, else today).",
        response_class=GeoJSONAnswer,
        response_model=FeatureCollection,
        responses=error_responses(400),
    )


for _name, (_attribute, _id_column, _what) in PLACES.items():
    _add_places_route(_name, _attribute, _id_column, _what)


@warm_up_step("coverage today")
def _warm_coverage(ds: Dataset) -> None:
    ds.coverage(None)
