"""``GET /lookup?held_since=true``: each unit of the answer says since when it has held the place.

The lookup's hot path splices cached bytes (:mod:`api.lookup_json`) and never builds the answer's
dicts; "since when" needs the dataset's assignment rows and, for the change that decided it, the
store. So it is asked for, not always given: with ``held_since=true`` the answer is decoded, each
non-fallback unit gains ``held_since`` = ``{"date", "row_from", "change_id"}`` (``date``: the start
of its unbroken holding, :func:`geo.held_since.holders_since`, null = since the data begins;
``change_id``: the recorded change that opened the row in force, for ``GET /history/{id}``, null
when none did) and it is encoded again. Without the parameter the answer's bytes are unchanged.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from cases.history import change_opening
from cases.store import Store, StoreError
from geo import Dataset
from geo.held_since import HeldSince, holders_since

log = logging.getLogger("respmap.api")

HELD_SINCE_PARAMETER: dict[str, Any] = {
    "name": "held_since",
    "in": "query",
    "required": False,
    "description": "true: each unit (not the district fallback) gains `held_since` = {date (start of its unbroken "
    "holding, null = since the data begins), row_from (start of the row in force), change_id (the recorded change "
    "that opened that row, see GET /history/{id}; null when none)}.",
    "schema": {"type": "boolean", "default": False},
}
_YES = ("1", "true", "yes", "on")


def wants_held_since(query_string: bytes) -> bool:
    """Whether the raw query string asks for ``held_since`` (checked cheaply on the hot path)."""
    if b"held_since" not in query_string:
        return False
    for part in query_string.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == b"held_since":
            return value.decode("latin-1").strip().lower() in _YES
    return False


def _holder_for(holders: list[HeldSince], unit: dict[str, Any], stretch: dict[str, Any] | None) -> HeldSince | None:
    for held in holders:
        if held.unit_id != unit.get("unit_id") or held.role != unit.get("role"):
            continue
        if stretch and held.from_m is not None and held.to_m is not None:
            if held.from_m > stretch["from_m"] + 0.5 or held.to_m < stretch["to_m"] - 0.5:
                continue
        return held
    return None


def add_held_since(ds: Dataset, store: Store | None, answer: dict[str, Any]) -> dict[str, Any]:
    """The lookup answer with ``held_since`` on each unit of each non-fallback match (in place, returned)."""
    day = dt.date.fromisoformat(answer["date"]) if answer.get("date") else ds.reference_date.date()
    store_ok = store is not None
    for match in answer.get("matches") or []:
        units = match.get("units") or []
        if match.get("fallback"):
            for unit in units:
                unit["held_since"] = None
            continue
        holders = holders_since(ds, match["layer"], match["feature_id"], day)
        for unit in units:
            held = _holder_for(holders, unit, match.get("stretch"))
            if held is None:
                unit["held_since"] = None
                continue
            change_id = None
            if store_ok and held.row_from is not None:
                try:
                    change = change_opening(store, ds.path, match["feature_id"], held.unit_id, held.row_from)  # type: ignore[arg-type]
                except (SQLAlchemyError, StoreError):
                    log.warning("held_since: the store cannot be read; change ids left out", exc_info=True)
                    store_ok = False
                    change = None
                change_id = None if change is None else change["id"]
            unit["held_since"] = {
                "date": held.since.isoformat() if held.since else None,
                "row_from": held.row_from.isoformat() if held.row_from else None,
                "change_id": change_id,
            }
    return answer
