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

from cases.dataset_tables import (
    PublishConflict,
    TableFile,
    conflict_message,
    dataset_key,
    edit_base,
    edited_table_files,
    publish,
    version_index,
)
from cases.history import change_dict, note_row, set_version
from cases.store import Store, StoreError
from geo.assignment_diff import AssignmentRow, EditedResponsibility, UnitRow, render_diff
from geo.assignment_edit import AppliedEdit, ChangedMeanwhile, PreparedEdit, apply_edit
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
    """Apply (see :func:`geo.assignment_edit.apply_edit`), record the change and publish its tables to the store.

    One transaction holds the change's record and its tables (:func:`cases.dataset_tables.publish`);
    it is written under the dataset's edit lock before the files switch and committed after, so:

    * another server published since the edit was prepared: :class:`ChangedMeanwhile` naming that
      change, nothing written anywhere;
    * the switch fails (full disk): rolled back, nothing changed anywhere;
    * the commit fails, or the process dies before it: the files here are ahead of the store;
      the next reload (or start) of a server on this folder publishes them
      (:func:`cases.dataset_tables.publish_local`); the change stands here and None is returned;
    * the store cannot be reached at all: the change is applied here only (None returned), and
      published the same way once the store answers.

    Returns the applied edit and the recorded change (None when the store did not confirm it).
    """
    ds = prepared.ds
    assert ds.catalog is not None
    key = dataset_key(ds.catalog)
    files = edited_table_files(ds.catalog)
    base_shas = {name: prepared.file_digests.get(file_name, "") for name, file_name in files.items()}
    extra = {"by_user_id": by_user_id} if by_user_id is not None else None
    recorded: dict[str, Any] = {}

    def publish_first(note: dict[str, Any]) -> None:
        session = recorded["session"]
        index = version_index(session, key)
        seq_seen = edit_base(ds.path, files, index, base_shas)
        if seq_seen is None:
            raise PublishConflict("this folder's tables are no version in the store", None, max(index), [])
        row = note_row(session, note, ds.path, "", by_user_id)
        current = {name: TableFile(f, (ds.path / f).read_bytes()) for name, f in files.items()}
        new = {name: TableFile(f, prepared.new_files.get(f, current[name].content)) for name, f in files.items()}
        seq = publish(session, key, seq_seen, new, row.id, base_files=current)
        note["store"] = {"key": key, "seq": seq, "base_seq": seq - 1, "change_id": row.id}
        recorded["row"] = row

    applied: AppliedEdit | None = None
    try:
        with store.session() as session:
            recorded["session"] = session
            applied = apply_edit(prepared, by=by, reason=reason, extra=extra, before_switch=publish_first)
            set_version(recorded["row"], applied.version.name)
            change = change_dict(recorded["row"])
            _commit(session)
    except PublishConflict as exc:
        raise _changed_meanwhile(store, key, exc.seq_seen, files) from None
    except (SQLAlchemyError, StoreError):
        if applied is None:
            log.warning("the store cannot be reached: the change is applied in %s only", ds.path, exc_info=True)
            applied = apply_edit(prepared, by=by, reason=reason, extra=extra)
        else:
            log.exception("the change in %s was applied but the store did not confirm it", applied.version)
        log.warning("%s: published to the store when a server on this folder next reloads or starts", applied.version)
        return applied, None
    return applied, change


def _commit(session: Any) -> None:
    """Commit the change's record and tables (after the files switched; a test makes it fail)."""
    session.commit()


def _changed_meanwhile(store: Store, key: str, seq_seen: int | None, files: dict[str, str]) -> ChangedMeanwhile:
    """The refusal of an edit another server got in before, naming that server's changes."""
    try:
        conflict = conflict_message(store, key, seq_seen)
    except (SQLAlchemyError, StoreError):
        return ChangedMeanwhile(
            f"another server published a change of {key} meanwhile; nothing was changed: prepare it again",
            sorted(files.values()),
            None,
        )
    latest = conflict.changes[0] if conflict.changes else None
    return ChangedMeanwhile(
        f"the dataset changed since this change was prepared: {conflict}; nothing was changed: "
        "prepare it again against the data as it is now",
        sorted(files.values()),
        latest,
    )


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
