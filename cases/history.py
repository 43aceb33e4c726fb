"""The history of responsibility: every applied change, who made it, when, why, and what it changed.

A change applied to a file dataset (:func:`geo.assignment_edit.apply_edit`) is recorded here as an
:class:`cases.models.AssignmentChange` row: the author, the time, the reason, the effective date,
the difference as JSON and the dataset's content hash before and after. Rows are only added,
never edited, so the history answers "who decided that this unit holds this street from 5 March?".

The record is written in the same transaction as the change's tables (:mod:`cases.dataset_tables`),
so every server on the store takes the change up; a change belongs to a dataset when it was made in
its folder or published for its dataset key, so another machine's history lists it too.

The same note is written beside the tables in the version folder (``history/vNNNN-.../change.json``);
:func:`sync_versions` records any version the store missed (a crash between the switch and the
commit, or a store that was unreachable), so the two never disagree for long. Versions a folder
took up from the store are recorded already, by the server that made them, and are skipped.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cases.models import AssignmentChange, DatasetTable
from cases.store import Store
from geo.table_versions import CHANGE_FILE, versions

# A history listing never returns more than this many changes at once.
MAX_LISTED = 1000


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _as_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def note_row(
    session: Session, note: dict[str, Any], dataset_path: Path, version: str, by_user_id: int | None = None
) -> AssignmentChange:
    """Add the record of one change (from its note, as :func:`geo.assignment_edit.apply_edit` writes it) to
    the caller's transaction and flush it (its ``id`` is then known)."""
    diff = dict(note.get("diff") or {})
    diff["version"] = version
    diff["source"] = note.get("source", "")
    if by_user_id is None and isinstance(note.get("by_user_id"), int):
        by_user_id = note["by_user_id"]
    row = AssignmentChange(
        at=_as_time(note["at"]),
        by_name=str(note["by"])[:200],
        by_user_id=by_user_id,
        reason=str(note["reason"]),
        effective=_as_date(note["effective"]),
        dataset_path=str(Path(dataset_path).resolve()),
        hash_before=str(note.get("hash_before", "")),
        hash_after=str(note.get("hash_after", "")),
        diff=diff,
    )
    session.add(row)
    session.flush()
    return row


def set_version(row: AssignmentChange, version: str) -> None:
    """Name the version folder a recorded change made (known only once the tables have switched)."""
    row.diff = {**(row.diff or {}), "version": version}


def record_note(
    store: Store, note: dict[str, Any], dataset_path: Path, version: str, by_user_id: int | None = None
) -> dict[str, Any]:
    """Record one change from its note (as :func:`geo.assignment_edit.apply_edit` writes it); returns it as a dict."""
    with store.session() as session:
        return change_dict(note_row(session, note, dataset_path, version, by_user_id))


def find_recorded(session: Session, dataset_path: Path, version: str) -> int | None:
    """The id of the change recorded for version folder ``version`` of ``dataset_path``, if any."""
    path = str(Path(dataset_path).resolve())
    rows = session.execute(
        select(AssignmentChange.id, AssignmentChange.diff).where(AssignmentChange.dataset_path == path)
    )
    for change_id, diff in rows:
        if (diff or {}).get("version") == version:
            return change_id
    return None


def change_note(row: AssignmentChange) -> dict[str, Any]:
    """A recorded change as the note written beside its tables (``change.json``): the inverse of :func:`note_row`."""
    diff = {k: v for k, v in (row.diff or {}).items() if k not in ("version", "source")}
    return {
        "at": _as_time(row.at).isoformat(),
        "by": row.by_name,
        "reason": row.reason,
        "effective": row.effective.isoformat(),
        "source": (row.diff or {}).get("source", ""),
        "hash_before": row.hash_before,
        "hash_after": row.hash_after,
        "diff": diff,
        "change_id": row.id,
        **({"by_user_id": row.by_user_id} if row.by_user_id is not None else {}),
    }


def sync_versions(store: Store, dataset_path: Path) -> int:
    """Record the version notes of ``dataset_path`` the store does not have yet; returns how many.

    Versions taken from the store (:func:`cases.dataset_tables.materialize`: their note says
    ``store.materialized``) are recorded already, under the folder of the server that made them.
    """
    path = str(Path(dataset_path).resolve())
    with store.reading() as session:
        rows = session.execute(select(AssignmentChange.diff).where(AssignmentChange.dataset_path == path)).scalars()
        known = {(diff or {}).get("version") for diff in rows}
    added = 0
    for folder in versions(Path(dataset_path)):
        note_file = folder / CHANGE_FILE
        if folder.name in known or not note_file.is_file():
            continue
        try:
            note = json.loads(note_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(note, dict) or (note.get("store") or {}).get("materialized") or "by" not in note:
            continue
        record_note(store, note, Path(dataset_path), folder.name)
        added += 1
    return added


@functools.lru_cache(maxsize=64)
def _key_of(folder: str, catalog_stamp: tuple[int, int]) -> str | None:
    from cases.dataset_tables import key_of_folder

    return key_of_folder(Path(folder))


def _dataset_key(dataset_path: Path) -> str | None:
    """The folder's dataset key, the catalog read again only when it changed (lookups ask per answer)."""
    try:
        stat = (Path(dataset_path) / "catalog.toml").stat()
    except OSError:
        return None
    return _key_of(str(Path(dataset_path).resolve()), (stat.st_mtime_ns, stat.st_size))


def _dataset_filter(dataset_path: Path) -> Any:
    """Changes of this dataset: made in this folder, or published for its dataset by any server."""
    own = AssignmentChange.dataset_path == str(Path(dataset_path).resolve())
    key = _dataset_key(dataset_path)
    if key is None:
        return own
    published = select(DatasetTable.change_id).where(
        DatasetTable.dataset_key == key, DatasetTable.change_id.is_not(None)
    )
    return or_(own, AssignmentChange.id.in_(published))


def belongs_to(store: Store, change: dict[str, Any], dataset_path: Path) -> bool:
    """The change was made on this dataset (in this folder, or published for it by another server)."""
    if change["dataset_path"] == str(Path(dataset_path).resolve()):
        return True
    with store.reading() as session:
        found = session.execute(
            select(AssignmentChange.id).where(AssignmentChange.id == change["id"], _dataset_filter(dataset_path))
        ).first()
    return found is not None


def change_dict(row: AssignmentChange) -> dict[str, Any]:
    """A recorded change as JSON-ready data."""
    diff = dict(row.diff or {})
    return {
        "id": row.id,
        "at": _as_time(row.at).isoformat(),
        "by": row.by_name,
        "by_user_id": row.by_user_id,
        "reason": row.reason,
        "effective": row.effective.isoformat(),
        "dataset_path": row.dataset_path,
        "hash_before": row.hash_before,
        "hash_after": row.hash_after,
        "version": diff.get("version"),
        "source": diff.get("source"),
        "features": diff.get("features", []),
        "units": diff.get("units", []),
        "diff": diff,
    }


def list_changes(
    store: Store,
    dataset_path: Path | None = None,
    *,
    feature_id: str | None = None,
    unit_id: str | None = None,
    limit: int = MAX_LISTED,
) -> list[dict[str, Any]]:
    """Changes, newest first; only those touching ``feature_id`` / ``unit_id`` when given.

    Filtering by feature or unit reads the recorded difference (the same on SQLite and
    PostgreSQL); the number of changes is that of decisions by an office, hundreds a year.
    """
    query = select(AssignmentChange).order_by(AssignmentChange.at.desc(), AssignmentChange.id.desc())
    if dataset_path is not None:
        query = query.where(_dataset_filter(dataset_path))
    result = []
    with store.reading() as session:
        for row in session.execute(query).scalars():
            diff = row.diff or {}
            if feature_id is not None and feature_id not in diff.get("features", []):
                continue
            if unit_id is not None and unit_id not in diff.get("units", []):
                continue
            result.append(change_dict(row))
            if len(result) >= limit:
                break
    return result


def get_change(store: Store, change_id: int) -> dict[str, Any] | None:
    """One recorded change by its number, None when there is none."""
    with store.reading() as session:
        row = session.get(AssignmentChange, change_id)
        return None if row is None else change_dict(row)


def change_opening(
    store: Store, dataset_path: Path, feature_id: str, unit_id: str, effective: dt.date
) -> dict[str, Any] | None:
    """The recorded change that made ``unit_id`` hold ``feature_id`` from ``effective`` (None: before any)."""
    for change in list_changes(store, dataset_path, feature_id=feature_id, unit_id=unit_id):
        if change["effective"] != effective.isoformat():
            continue
        diff = change["diff"]
        opened = [*diff.get("opened", []), *(c["after"] for c in diff.get("changed", []))]
        if any(r["feature_id"] == feature_id and r["unit_id"] == unit_id for r in opened):
            return change
    return None
