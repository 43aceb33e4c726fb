"""Preparing, checking and applying a change of responsibility to a file dataset.

    prepared = prepare_edit(ds, edited, effective)     # diff, new tables, findings; writes nothing
    prepared.ok                                         # no error: it may be applied
    applied = apply_edit(prepared, by="张伟", reason="...")   # both tables switch, or neither

Checking loads the dataset as it would be after the change (a temporary copy of the folder with
the new tables) through :func:`geo.load_dataset`, so its findings are exactly ``respmap
validate``'s, with rows renamed back to where they came from (the workbook's sheet and row). On
top come the findings of the change itself, on the effective date, against the same date before
the change: a place left unheld, a stretch of a line left to nobody, two leads on the same ground,
a unit left idle. Only what the change introduces is reported there.

Applying refuses when errors remain, and when the files changed since the change was prepared
(another planner was quicker): :class:`ChangedMeanwhile` says which files and, when it was a
change made with respmap, who made it and why. Tables switch through :mod:`geo.table_versions`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.assignment_diff import ChangePlan, EditedResponsibility, plan_change, rows_in_force
from geo.dataset import Dataset, _content_hash, load_dataset
from geo.findings import Finding, Findings
from geo.table_versions import CHANGE_FILE, current_version, switch_tables, versions
from geo.tables import read_table
from geo.zones import HOLDING_ROLES

# A piece of a line shorter than this left unheld (or claimed twice) is rounding, not a gap.
MIN_GAP_M = 0.5
EDITED_TABLES = ("assignments", "units")


class EditRefused(Exception):
    """The change cannot be applied (errors remain); ``findings`` say why."""

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class ChangedMeanwhile(Exception):
    """The dataset's files changed after the change was prepared: it was made against an older version."""

    def __init__(self, message: str, changed_files: list[str], latest_change: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.changed_files = changed_files
        self.latest_change = latest_change


@dataclass
class PreparedEdit:
    """A change ready to apply: the plan, the checked findings and what it was made against."""

    ds: Dataset
    plan: ChangePlan
    edited: EditedResponsibility
    findings: list[Finding]
    new_keys: set[int]  # positions in ``findings`` that the change brings (not already in the data)
    hash_before: str
    hash_after: str
    file_digests: dict[str, str]
    new_files: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    def findings_dicts(self) -> list[dict[str, Any]]:
        return [{**f.to_dict(), "new": i in self.new_keys} for i, f in enumerate(self.findings)]


@dataclass(frozen=True)
class AppliedEdit:
    """What applying did: the version folder now in force and the dataset hashes around it."""

    version: Path
    hash_before: str
    hash_after: str
    at: dt.datetime
    note: dict[str, Any]


def table_files(ds: Dataset) -> dict[str, str]:
    """The dataset's assignments and units table files (by table name) that an edit may rewrite."""
    assert ds.catalog is not None
    return {name: ds.catalog.tables[name] for name in EDITED_TABLES if name in ds.catalog.tables}


def read_raw_table(ds: Dataset, name: str) -> pd.DataFrame | None:
    """A table as text, as the loader reads it, with ``attrs['file_columns']`` = the file's own columns."""
    files = table_files(ds)
    if name not in files:
        return None
    findings = Findings()
    table = read_table(ds.path, name, files[name], 1024.0, findings)
    if table is None:
        return None
    table.attrs["file_columns"] = _file_header(ds.path / files[name])
    return table


def _file_header(path: Path) -> list[str]:
    if path.suffix.lower() == ".xlsx":
        header = pd.read_excel(path, nrows=0, engine="openpyxl").columns
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030", errors="replace")
        header = next(csv.reader(io.StringIO(text)), [])
    return [str(c).strip().lstrip("\ufeff") for c in header]


def file_digests(ds: Dataset) -> dict[str, str]:
    """SHA-256 of the catalog and every file it names (through links), to say what changed meanwhile."""
    assert ds.catalog is not None
    names = ["catalog.toml", *(spec.file for spec in ds.catalog.layers), *ds.catalog.tables.values()]
    digests = {}
    for name in names:
        path = ds.path / name
        digests[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    return digests


def table_bytes(table: pd.DataFrame, like: Path) -> bytes:
    """A text table as the file ``like`` is written: CSV keeps its BOM and line ends; XLSX as text cells."""
    if like.suffix.lower() == ".xlsx":
        buffer = io.BytesIO()
        table.to_excel(buffer, index=False, engine="openpyxl")
        return buffer.getvalue()
    original = like.read_bytes() if like.is_file() else b""
    newline = "\r\n" if b"\r\n" in original[:4096] else "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(list(table.columns))
    for values in table.itertuples(index=False, name=None):
        writer.writerow(["" if v is None else str(v) for v in values])
    bom = "\ufeff" if original.startswith(b"\xef\xbb\xbf") else ""
    return (bom + out.getvalue()).encode("utf-8")


def prepare_edit(ds: Dataset, edited: EditedResponsibility, effective: dt.date) -> PreparedEdit:
    """Compare, build the new tables, load them in a temporary copy and collect every finding."""
    if ds.catalog is None:
        raise EditRefused(f"{ds.path}: no readable catalog.toml")
    digests = file_digests(ds)
    _check_loaded_is_on_disk(ds, digests)
    files = table_files(ds)
    if "assignments" not in files:
        raise EditRefused(f"{ds.path}: the dataset has no assignments table (assignments.csv) to change")
    raw_assignments = read_raw_table(ds, "assignments")
    raw_units = read_raw_table(ds, "units")
    if raw_assignments is None:
        raise EditRefused(f"{files['assignments']} cannot be read; run `respmap validate`")
    plan = plan_change(ds, raw_assignments, raw_units, edited, effective)
    stale = _reconcile_with_later_changes(ds, edited, effective, plan)
    if edited.left_alone or edited.units_left_alone:
        plan = plan_change(ds, raw_assignments, raw_units, edited, effective)
    new_files = {files["assignments"]: table_bytes(plan.assignments, ds.path / files["assignments"])}
    if plan.units is not None:
        new_files[files["units"]] = table_bytes(plan.units, ds.path / files["units"])
    after = _load_copy(ds, new_files)
    findings = list(edited.findings) + stale
    findings += _own_findings(plan, edited, effective)
    renamed = [_rename_rows(f, files["assignments"], plan.assignment_sources) for f in after.findings]
    findings += renamed
    findings += change_findings(ds, after, edited, effective)
    before_keys = {_finding_key(f) for f in ds.findings}
    new_keys = {i for i, f in enumerate(findings) if f not in renamed or _finding_key(f) not in before_keys}
    return PreparedEdit(
        ds=ds,
        plan=plan,
        edited=edited,
        findings=findings,
        new_keys=new_keys,
        hash_before=ds.content_hash,
        hash_after=after.content_hash,
        file_digests=digests,
        new_files=new_files,
    )


def _version_time(folder: Path) -> dt.datetime | None:
    """When a version came into force: its note's time, else the stamp in its name; None for the original."""
    note = folder / CHANGE_FILE
    if note.is_file():
        try:
            return dt.datetime.fromisoformat(json.loads(note.read_text(encoding="utf-8"))["at"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    match = re.search(r"(\d{8}T\d{6}Z)$", folder.name)
    return dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC) if match else None


def _reconcile_with_later_changes(
    ds: Dataset, edited: EditedResponsibility, effective: dt.date, plan: ChangePlan
) -> list[Finding]:
    """A copy made before changes applied since must not undo them (a lost update).

    For each place (and unit) the edit would change and a later change touched: if the copy shows
    it as it was when the copy was made, the person did not edit it, and it is left as it is now
    (``edited.left_alone``); if the person edited it too, that is a conflict: an error naming the
    later change. Changes the person could see are not in question.
    """
    if edited.made_at is None:
        return []
    kept = versions(ds.path)
    timed = [(folder, _version_time(folder)) for folder in kept]
    later = [(folder, at) for folder, at in timed if at is not None and at >= edited.made_at]
    notes = [note for folder, _ in later if (note := _read_note(folder)) is not None]
    if not notes:
        return []
    touched_features = {fid for note in notes for fid in note.get("diff", {}).get("features", [])}
    touched_units = {
        u["unit_id"]
        for note in notes
        for key in ("units_added", "units_changed")
        for u in note.get("diff", {}).get(key, [])
    }
    diff = plan.diff
    rows = [*diff.opened, *diff.closed, *(c.before for c in diff.changed), *(c.after for c in diff.changed)]
    places = {row.place() for row in rows if row.feature_id in touched_features}
    units = {u.unit_id for u in (*diff.units_added, *diff.units_changed)} & touched_units
    if not places and not units:
        return []
    base_folder = next((folder for folder, at in reversed(timed) if at is None or at < edited.made_at), kept[0])
    files = table_files(ds)
    base_files = {name: (base_folder / name).read_bytes() for name in files.values() if (base_folder / name).is_file()}
    base = _load_copy(ds, base_files)
    base_rows: dict[tuple[str, str], Counter] = {}
    for _, row in rows_in_force(base, effective):
        base_rows.setdefault(row.place(), Counter())[row.key()] += 1
    edited_rows: dict[tuple[str, str], Counter] = {}
    for row in edited.assignments:
        edited_rows.setdefault(row.place(), Counter())[row.key()] += 1
    who = "; ".join(f"{n.get('by')} at {str(n.get('at'))[:19]} ({n.get('reason')})" for n in notes)
    made = edited.made_at.strftime("%Y-%m-%d %H:%M:%S")
    findings = Findings()
    for place in sorted(places):
        if edited_rows.get(place, Counter()) == base_rows.get(place, Counter()):
            edited.left_alone.add(place)
            findings.info(
                "changed_meanwhile_kept",
                f"{place[1]}: changed after {edited.source} was made ({made} UTC) by {who}; "
                "not edited in it, so kept as it is now",
                file=edited.source,
                feature_id=place[1],
            )
        else:
            findings.error(
                "changed_meanwhile",
                f"{place[1]}: {edited.source} was made at {made} UTC, before the change by {who}, and edits this "
                "place too; export the workbook again and redo the edit of this place",
                file=edited.source,
                feature_id=place[1],
            )
    base_units = {str(r["unit_id"]): r for r in base.units.to_dict(orient="records")}
    for unit in edited.units or ():
        if unit.unit_id not in units:
            continue
        old = base_units.get(unit.unit_id)
        same = old is not None and all(str(old.get(k, "") or "") == v for k, v in unit.fields.items() if k != "staff")
        if same:
            edited.units_left_alone.add(unit.unit_id)
        else:
            findings.error(
                "changed_meanwhile",
                f"unit {unit.unit_id}: {edited.source} was made at {made} UTC, before the change by {who}, and "
                "edits this unit too; export the workbook again and redo the edit",
                file=edited.source,
                feature_id=unit.unit_id,
            )
    return list(findings)


def _read_note(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / CHANGE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _check_loaded_is_on_disk(ds: Dataset, digests: dict[str, str]) -> None:
    """Refuse to prepare against a snapshot older than the files (a server that has not reloaded yet).

    The snapshot keeps one hash of all its files; the files touched since it was loaded are named
    by their modification time.
    """
    assert ds.catalog is not None
    if _content_hash(ds.path, ds.catalog) == ds.content_hash:
        return
    loaded = ds.loaded_at.timestamp()
    newer = sorted(name for name in digests if (ds.path / name).exists() and (ds.path / name).stat().st_mtime > loaded)
    latest = latest_change(ds.path)
    who = f"; last change by {latest.get('by')} at {latest.get('at')} ({latest.get('reason')})" if latest else ""
    raise ChangedMeanwhile(
        f"the files of {ds.path.name} changed after they were loaded at {ds.loaded_at:%Y-%m-%d %H:%M:%S} UTC "
        f"({', '.join(newer) or 'its files'} differ{who}); nothing was changed: look at the data as it is now "
        "and make the change again",
        newer,
        latest,
    )


def _finding_key(finding: Finding) -> tuple[str, str, str, str, str]:
    return (finding.level, finding.code, finding.file, finding.feature_id, finding.field)


def _own_findings(plan: ChangePlan, edited: EditedResponsibility, effective: dt.date) -> list[Finding]:
    """What only the change can break: ends typed before the effective date rewrite the past."""
    findings = Findings()
    for row in [*plan.diff.opened, *(c.after for c in plan.diff.changed)]:
        if row.valid_until is not None and row.valid_until < effective:
            findings.error(
                "date_before_effective",
                f"{row.source} ({row.feature_id}): 截止日期 {row.valid_until} is before the effective date "
                f"{effective}; the past is not rewritten (end it on or after {effective})",
                file=edited.source,
                feature_id=row.feature_id,
                field="valid_until",
            )
    if effective < dt.date.today() and not plan.diff.empty:
        findings.warning(
            "effective_in_past",
            f"the effective date {effective} is in the past: lookups from then until today will name the new units",
            field="effective",
        )
    return list(findings)


def _rename_rows(finding: Finding, assignments_file: str, sources: dict[int, tuple[str, str]]) -> Finding:
    """'assignments.csv row 9' -> where row 9 of the new table came from (the workbook's sheet and row)."""
    if finding.file != assignments_file:
        return finding
    pattern = re.compile(rf"{re.escape(assignments_file)} rows? (\d+)(?: and (\d+))?")
    files: list[str] = []

    def place(row_text: str) -> str:
        file_name, text = sources.get(int(row_text), (assignments_file, f"{assignments_file} row {row_text}"))
        files.append(file_name)
        return text

    def replace(match: re.Match[str]) -> str:
        first = place(match.group(1))
        return f"{first} and {place(match.group(2))}" if match.group(2) else first

    message = pattern.sub(replace, finding.message)
    return dataclasses.replace(finding, message=message, file=files[0] if files else finding.file)


def _dataset_files(ds: Dataset) -> list[Path]:
    """The files the catalog reads: catalog, layers (with a shapefile's sidecar files), tables."""
    assert ds.catalog is not None
    names = {Path("catalog.toml"), *(Path(t) for t in ds.catalog.tables.values())}
    for spec in ds.catalog.layers:
        layer = Path(spec.file)
        names.add(layer)
        folder = ds.path / layer.parent
        if folder.is_dir():
            names.update(layer.parent / p.name for p in folder.iterdir() if p.stem == layer.stem and p.is_file())
    return sorted(names)


def _load_copy(ds: Dataset, new_files: dict[str, bytes]) -> Dataset:
    """The dataset as it would be with ``new_files``: a temporary folder of links (or copies) and the new tables."""
    staging = Path(tempfile.mkdtemp(prefix="respmap-edit-"))
    try:
        for relative in _dataset_files(ds):
            source = ds.path / relative
            if str(relative) in new_files or not source.is_file():
                continue
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source.resolve(), target)
            except OSError:  # another file system, or links not allowed
                shutil.copyfile(source, target)
        for name, data in new_files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        return load_dataset(staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# -- what the change itself breaks --------------------------------------------------------------


def _line_lengths(ds: Dataset) -> dict[tuple[str, str], float]:
    zones = ds.duty_zones
    lines = zones[zones["kind"] == "line"].drop_duplicates(["layer", "feature_id"])
    lengths = shapely.length(np.asarray(lines["feature_metric"].values, dtype=object))
    return {
        (layer, fid): float(length)
        for layer, fid, length in zip(lines["layer"], lines["feature_id"], lengths, strict=True)
    }


Span = tuple[str, str, float, float]  # unit, role, from_m (NaN: whole), to_m


def _held_spans(zones: pd.DataFrame) -> dict[tuple[str, str], list[Span]]:
    """(layer, feature) -> the lead and sharing rows in force, as plain tuples (one pass, no pandas per place)."""
    holding = zones[zones["role"].isin(HOLDING_ROLES)]
    spans: dict[tuple[str, str], list[Span]] = {}
    for layer, fid, unit, role, a, b in zip(
        holding["layer"].tolist(),
        holding["feature_id"].tolist(),
        holding["unit_id"].tolist(),
        holding["role"].tolist(),
        holding["from_m"].tolist(),
        holding["to_m"].tolist(),
        strict=True,
    ):
        spans.setdefault((layer, fid), []).append((unit, role, float(a), float(b)))
    return spans


def _intervals(rows: list[Span], length_m: float) -> list[tuple[float, float]]:
    """Stretches held, merged; a whole-feature row holds 0..length."""
    spans = sorted((0.0, length_m) if np.isnan(a) else (a, b) for _, _, a, b in rows)
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + 1e-9:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _gaps(held: list[tuple[float, float]], length_m: float) -> list[tuple[float, float]]:
    gaps, position = [], 0.0
    for a, b in held:
        if a - position > MIN_GAP_M:
            gaps.append((position, a))
        position = max(position, b)
    if length_m - position > MIN_GAP_M:
        gaps.append((position, length_m))
    return gaps


def _subtract(pieces: list[tuple[float, float]], old: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Parts of ``pieces`` not inside ``old`` (both sorted, disjoint), longer than MIN_GAP_M."""
    result = []
    for a, b in pieces:
        cursor = a
        for c, d in old:
            if d <= cursor or c >= b:
                continue
            if c > cursor:
                result.append((cursor, c))
            cursor = max(cursor, d)
        if b > cursor:
            result.append((cursor, b))
    return [(a, b) for a, b in result if b - a > MIN_GAP_M]


def _lead_overlaps(rows: list[Span], length_m: float) -> set[tuple[str, str, float, float]]:
    """Pairs of different lead units on the same ground: (unit a, unit b, from, to)."""
    spans = [(u, 0.0 if np.isnan(a) else a, length_m if np.isnan(b) else b) for u, role, a, b in rows if role == "lead"]
    found = set()
    for i, (u, a, b) in enumerate(spans):
        for v, c, d in spans[i + 1 :]:
            if u != v and min(b, d) - max(a, c) > MIN_GAP_M:
                first, second = sorted((u, v))
                found.add((first, second, round(max(a, c), 1), round(min(b, d), 1)))
    return found


def change_findings(before: Dataset, after: Dataset, edited: EditedResponsibility, effective: dt.date) -> list[Finding]:
    """Unheld places, stretch gaps, double leads and idle units the change brings on ``effective``."""
    findings = Findings()
    source = edited.source
    old, new = before.zones_on(effective), after.zones_on(effective)
    lengths = _line_lengths(after)
    names = dict(zip(zip(new["layer"], new["feature_id"], strict=True), new["name"], strict=True))

    def label(place: tuple[str, str]) -> str:
        name = names.get(place, "")
        return f"{name} ({place[1]})" if name else place[1]

    old_by_place, new_by_place = _held_spans(old), _held_spans(new)
    held_before, held_after = set(old_by_place), set(new_by_place)
    for place in sorted(held_before - held_after):
        if place in edited.places:
            findings.warning(
                "change_unheld",
                f"{label(place)} has no lead or sharing unit from {effective} (the unit was cleared); "
                "the district HQ answers for it",
                file=source,
                feature_id=place[1],
                field="unit_id",
            )
        else:
            findings.error(
                "change_unheld",
                f"{label(place)}: every row of it is gone from {source}, so nobody holds it from {effective}; "
                "put its row back, or keep the row with the unit cleared to leave it to the district HQ",
                file=source,
                feature_id=place[1],
                field="feature_id",
            )
    for place, rows in sorted(new_by_place.items()):
        if place not in lengths:
            continue
        length_m = lengths[place]
        before_rows = old_by_place.get(place)
        old_gaps = [(0.0, length_m)] if before_rows is None else _gaps(_intervals(before_rows, length_m), length_m)
        for a, b in _subtract(_gaps(_intervals(rows, length_m), length_m), old_gaps):
            findings.error(
                "change_stretch_gap",
                f"{label(place)}: {a:,.1f}–{b:,.1f} m would be held by nobody from {effective} "
                "(the stretches no longer meet)",
                file=source,
                feature_id=place[1],
                field="from_m",
            )
        old_overlaps = set() if before_rows is None else _lead_overlaps(before_rows, length_m)
        for u, v, a, b in sorted(_lead_overlaps(rows, length_m) - old_overlaps):
            findings.error(
                "change_stretch_overlap",
                f"{label(place)}: {u} and {v} would both lead {a:,.1f}–{b:,.1f} m from {effective}",
                file=source,
                feature_id=place[1],
                field="to_m",
            )
    for place, rows in sorted(new_by_place.items()):
        if place in lengths:
            continue
        before_rows = old_by_place.get(place)
        old_overlaps = set() if before_rows is None else _lead_overlaps(before_rows, 1.0)
        for u, v, _, _ in sorted(_lead_overlaps(rows, 1.0) - old_overlaps):
            findings.error(
                "change_stretch_overlap",
                f"{label(place)}: {u} and {v} would both lead it from {effective}",
                file=source,
                feature_id=place[1],
                field="unit_id",
            )
    fallback = set(after.frame["fallback_unit"]) if after.frame is not None else set()
    busy_before, busy_after = set(old["unit_id"]), set(new["unit_id"])
    unit_names = dict(zip(after.units["unit_id"], after.units["name"], strict=True))
    for unit_id in sorted((busy_before - busy_after - fallback) & set(unit_names)):
        findings.warning(
            "change_unit_idle",
            f"unit {unit_names[unit_id]} ({unit_id}) would hold nothing from {effective}",
            file=source,
            feature_id=unit_id,
            field="unit_id",
        )
    return list(findings)


# -- applying -----------------------------------------------------------------------------------


def latest_change(root: Path) -> dict[str, Any] | None:
    """The note of the version in force, when respmap made it (who, when, why)."""
    version = current_version(root)
    if version is None or not (version / CHANGE_FILE).is_file():
        return None
    try:
        return json.loads((version / CHANGE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def apply_edit(
    prepared: PreparedEdit,
    *,
    by: str,
    reason: str,
    at: dt.datetime | None = None,
    extra: dict[str, Any] | None = None,
    before_switch: Callable[[dict[str, Any]], None] | None = None,
) -> AppliedEdit:
    """Switch the tables to the prepared version; refuse on errors or when the data changed meanwhile.

    ``before_switch(note)`` runs under the dataset's edit lock once the files are found unchanged and
    before anything is written (the store publishes the change there, in a transaction the caller
    commits after the switch); it may add to the note and raises to stop.
    """
    if not prepared.ok:
        raise EditRefused(f"{len(prepared.errors)} error(s) remain; nothing was changed", prepared.errors)
    ds = prepared.ds
    at = at or dt.datetime.now(dt.UTC)
    files = table_files(ds)
    note = {
        "at": at.isoformat(),
        "by": by,
        "reason": reason,
        "effective": prepared.plan.diff.effective.isoformat(),
        "source": prepared.edited.source,
        "hash_before": prepared.hash_before,
        "hash_after": prepared.hash_after,
        "diff": prepared.plan.diff.to_dict(),
        **(extra or {}),
    }

    def still_the_same() -> None:
        now = file_digests(ds)
        changed = sorted(
            name for name in set(now) | set(prepared.file_digests) if now.get(name) != prepared.file_digests.get(name)
        )
        if not changed and _content_hash(ds.path, ds.catalog) == prepared.hash_before:
            return
        latest = latest_change(ds.path)
        who = ""
        if latest:
            who = f"; last change by {latest.get('by')} at {latest.get('at')} ({latest.get('reason')})"
        raise ChangedMeanwhile(
            f"the dataset changed since this change was prepared ({', '.join(changed) or 'its files'} differ{who}); "
            "nothing was changed: prepare it again against the data as it is now",
            changed,
            latest,
        )

    def check() -> None:
        still_the_same()
        if before_switch is not None:
            before_switch(note)

    version = switch_tables(ds.path, prepared.new_files, list(files.values()), note, check=check)
    return AppliedEdit(
        version=version, hash_before=prepared.hash_before, hash_after=prepared.hash_after, at=at, note=note
    )
