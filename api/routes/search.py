"""Search by name: features of every layer, units and districts; Chinese substrings work.

Names are matched as substrings after Unicode NFKC normalisation and
case-folding (so full-width ``ＡＢ１`` finds ``ab1`` and ``Back`` finds
``back``); ids match too. Exact matches come first, then prefixes, then the
rest in dataset order; at most ``limit`` results are returned, with the total.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.dependencies import DatasetDep
from api.errors import BadParameterError, error_responses
from api.responses import JSONAnswer
from api.state import warm_up_step
from geo import Dataset

ORDER = 60
router = APIRouter(tags=["search"])
DEFAULT_RESULTS = 20
MAX_RESULTS = 200


class SearchHit(BaseModel):
    kind: str = Field(description="`feature`, `unit` or `district`")
    layer: str | None = Field(description="layer id of a feature; null for units and districts")
    id: str = Field(description="feature_id, unit_id or district_id")
    name: str


class SearchAnswer(BaseModel):
    query: str
    total: int = Field(description="matches in all; `results` holds at most `limit` of them")
    results: list[SearchHit]


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def search_index(ds: Dataset) -> pd.DataFrame:
    """One row per searchable thing: kind, layer, id, name and their normalised forms (cached)."""
    return ds.cached("api.search_index", lambda: _build_index(ds))


def _build_index(ds: Dataset) -> pd.DataFrame:
    parts: list[pd.DataFrame] = []
    frame_layer = ds.catalog.frame.layer if ds.catalog is not None and ds.catalog.frame is not None else None
    for layer_id, layer in ds.layers.items():
        if layer_id == frame_layer:
            continue  # districts are listed as districts, below
        parts.append(
            pd.DataFrame(
                {
                    "kind": "feature",
                    "layer": layer_id,
                    "id": layer["feature_id"].astype(str).to_numpy(),
                    "name": layer["name"].astype(str).to_numpy(),
                }
            )
        )
    parts.append(
        pd.DataFrame(
            {
                "kind": "unit",
                "layer": None,
                "id": ds.units["unit_id"].astype(str).to_numpy(),
                "name": ds.units["name"].astype(str).to_numpy(),
            }
        )
    )
    if ds.frame is not None:
        parts.append(
            pd.DataFrame(
                {
                    "kind": "district",
                    "layer": None,
                    "id": ds.frame["district_id"].astype(str).to_numpy(),
                    "name": ds.frame["name"].astype(str).to_numpy(),
                }
            )
        )
    index = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["kind", "layer", "id", "name"])
    index = index.astype({"kind": object, "layer": object, "id": object, "name": object})
    index["name_key"] = [normalise(v) for v in index["name"]]
    index["id_key"] = [normalise(v) for v in index["id"]]
    return index


@warm_up_step("search index")
def _warm_search(ds: Dataset) -> None:
    search_index(ds)


@router.get(
    "/search",
    summary="Find features, units and districts by name",
    response_model=SearchAnswer,
    responses=error_responses(400),
)
async def search(
    ds: DatasetDep,
    q: Annotated[
        str,
        Query(
            description="Text to find in names (or ids); any part of the name, Chinese included.",
            examples=["幸福", "U1"],
            min_length=1,
            max_length=100,
        ),
    ],
    limit: Annotated[
        int, Query(description=f"Most results returned (1 to {MAX_RESULTS}).", ge=1, le=MAX_RESULTS)
    ] = DEFAULT_RESULTS,
) -> JSONAnswer:
    needle = normalise(q).strip()
    if not needle:
        raise BadParameterError("q", "q must contain something other than spaces")
    index = search_index(ds)
    names = index["name_key"]
    ids = index["id_key"]
    hits = index.loc[names.str.contains(needle, regex=False) | ids.str.contains(needle, regex=False)]
    exact = (hits["name_key"] == needle) | (hits["id_key"] == needle)
    prefix = hits["name_key"].str.startswith(needle) | hits["id_key"].str.startswith(needle)
    rank = np.where(exact, 0, np.where(prefix, 1, 2))
    ordered = hits.assign(_rank=rank, _order=np.arange(len(hits))).sort_values(["_rank", "_order"]).head(limit)
    results = [
        {"kind": kind, "layer": layer, "id": identifier, "name": name}
        for kind, layer, identifier, name in ordered[["kind", "layer", "id", "name"]].itertuples(index=False)
    ]
    return JSONAnswer({"query": q, "total": len(hits), "results": results})
