"""A change of responsibility as the command line and the HTTP API both make it.

``respmap import-assignments`` and ``POST /assignments/changes`` share this: the answer's JSON
(difference, its text, findings, hashes), a map edit's JSON body turned into the state it asks
for, and applying with the record in the store. Neither adapter holds logic the other lacks.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from cases.history import record_change
from cases.store import Store, StoreError
from geo.assignment_diff import AssignmentRow, EditedResponsibility, UnitRow, render_diff
from geo.assignment_edit import AppliedEdit, PreparedEdit, apply_edit
from geo.dataset import Dataset
from geo.findings import Findings
from geo.zones import ROLES

log = logging.getLogger("respmap.api")


def edit_answer(prepared: PreparedEdit, *, dry_run: bool) -> dict[str, Any]:
    """The JSON both adapters answer before (or instead of) applying."""
    ds = prepared.ds
    return {
        "ok": prepared.ok,
        "dry_run": dry_run,
        "applied": False,
        "effective": prepared.plan.diff.effective.isoformat(),
        "source": prepared.edited.source,
        "dataset": str(ds.path),
        "hash_before": prepared.hash_before,
        "hash_after": prepared.hash_after,
        "diff": prepared.plan.diff.to_dict(),
        "text": render_diff(prepared.plan.diff, ds),
        "findings": prepared.findings_dicts(),
    }


def apply_and_record(
    prepared: PreparedEdit, store: Store, *, by: str, reason: str, by_user_id: int | None = None
) -> tuple[AppliedEdit, dict[str, Any] | None]:
    """Apply (see :func:`geo.assignment_edit.apply_edit`) and record the change in the store.

    The record comes second: once the tables have switched the change stands, and a store that
    fails now must not make it look undone. It returns None then; the note written beside the
    tables (``change.json``) is recorded by the next ``respmap history`` (:func:`cases.history.sync_versions`).
    """
    extra = {"by_user_id": by_user_id} if by_user_id is not None else None
    applied = apply_edit(prepared, by=by, reason=reason, extra=extra)
    try:
        change = record_change(store, applied, prepared.ds.path, by_user_id)
    except (SQLAlchemyError, StoreError):
        log.exception("the change in %s was applied but could not be recorded in the store", applied.version)
        return applied, None
    return applied, change


def edited_from_places(
    ds: Dataset, places: list[dict[str, Any]], units: list[dict[str, Any]] | None
) -> EditedResponsibility:
    """A map edit: for each place, the rows it should have from the effective date (none = nobody holds it).

    ``places``: ``[{"layer", "feature_id", "assignments": [{"unit_id", "role", "from_m", "to_m",
    "valid_until"}]}]``; ``units``: unit rows to add or update (``unit_id`` and the fields to set).
    Places not named are left alone. Problems are findings naming the JSON path.
    """
    findings = Findings()
    rows: list[AssignmentRow] = []
    named: set[tuple[str, str]] = set()
    for i, place in enumerate(places):
        where = f"places[{i}]"
        layer, feature_id = str(place.get("layer") or ""), str(place.get("feature_id") or "")
        if layer not in ds.layers or not (ds.layers[layer]["feature_id"] == feature_id).any():
            findings.error(
                "unknown_feature",
                f"{where}: no feature {feature_id[:60]!r} in layer {layer[:60]!r}",
                file="request",
                feature_id=feature_id,
                field="feature_id",
            )
            continue
        named.add((layer, feature_id))
        for j, given in enumerate(place.get("assignments") or []):
            source = f"{where}.assignments[{j}]"
            role = str(given.get("role") or "lead")
            if role not in ROLES:
                findings.error(
                    "role_invalid",
                    f"{source} ({feature_id}): role {role[:30]!r} must be lead, shared or supervisor",
                    file="request",
                    feature_id=feature_id,
                    field="role",
                )
                continue
            if not given.get("unit_id"):
                findings.error(
                    "field_missing",
                    f"{source} ({feature_id}): unit_id is empty (an empty assignments list leaves the place to nobody)",
                    file="request",
                    feature_id=feature_id,
                    field="unit_id",
                )
                continue
            until = given.get("valid_until")
            rows.append(
                AssignmentRow(
                    layer=layer,
                    feature_id=feature_id,
                    unit_id=str(given.get("unit_id") or ""),
                    role=role,
                    from_m=None if given.get("from_m") is None else float(given["from_m"]),
                    to_m=None if given.get("to_m") is None else float(given["to_m"]),
                    valid_until=dt.date.fromisoformat(until) if until else None,
                    source=source,
                )
            )
    unit_rows = None
    if units:
        unit_rows = [
            UnitRow(
                str(u["unit_id"]), {k: str(v) for k, v in u.items() if k != "unit_id" and v is not None}, f"units[{i}]"
            )
            for i, u in enumerate(units)
        ]
    return EditedResponsibility(
        source="request",
        assignments=rows,
        layers={layer for layer, _ in named},
        places=named,
        units=unit_rows,
        findings=list(findings),
        only_places=named,
    )
