"""What a planner's edit changes: the assignments and units tables before and after, as a difference.

An edit arrives as the whole desired state on an effective date (the responsibility workbook
after the office edited it, read by :mod:`api.workbook_import`, or a map edit) and is compared
with the assignments in force on that date:

- a row in force that the edit no longer has is **closed** (it ends the day before the effective
  date: ``valid_until``);
- a row the edit has that is not in force is **opened** (it starts on the effective date:
  ``valid_from``);
- a closed and an opened row of the same place are shown together as **changed** (a unit
  reassigned, a stretch re-cut, a role or an end date changed);
- units added, or with changed fields (contact, phone, staff ...).

The past is never rewritten: applying closes rows and appends rows, so a lookup on a date before
the effective date still gives the old answer. :func:`plan_change` builds the new tables as text
(the same columns as the files, extra columns kept); nothing here writes a file.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.dataset import Dataset
from geo.findings import Finding

# Two stretch ends closer than this are the same cut (spreadsheets round; lengths are measured in floats).
SAME_CUT_M = 0.05
UNIT_FIELDS: tuple[str, ...] = ("name", "kind", "parent", "contact", "phone", "staff", "district")
ROLE_WORDS = {
    "zh": {"lead": "牵头", "shared": "配合", "supervisor": "监督"},
    "en": {"lead": "lead", "shared": "shared", "supervisor": "supervisor"},
}


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    """One assignment as an edit states it: who holds which place (or stretch), in which role.

    ``from_m``/``to_m`` are metres along the line (None = the whole feature); ``valid_until`` an
    end the planner typed (None = open); ``valid_from`` a start later than the effective date, if
    typed. ``source`` says where it came from, for messages (``责任分工表.xlsx 背街小巷 row 4``).
    """

    layer: str
    feature_id: str
    unit_id: str
    role: str = "lead"
    from_m: float | None = None
    to_m: float | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    source: str = ""

    def key(self) -> tuple[str, str, str, str, float | None, float | None, dt.date | None]:
        """What makes two rows the same assignment (the start date is history, not identity)."""
        return (
            self.layer,
            self.feature_id,
            self.unit_id,
            self.role,
            _cut(self.from_m),
            _cut(self.to_m),
            self.valid_until,
        )

    def place(self) -> tuple[str, str]:
        return (self.layer, self.feature_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "feature_id": self.feature_id,
            "unit_id": self.unit_id,
            "role": self.role,
            "from_m": self.from_m,
            "to_m": self.to_m,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class UnitRow:
    """A unit as an edit states it: ``fields`` are text (name, kind, parent, contact, phone, staff, district)."""

    unit_id: str
    fields: dict[str, str]
    source: str = ""


@dataclass
class EditedResponsibility:
    """The desired state an edit describes, before it is compared with the data.

    ``layers`` are the layers the edit speaks for (a workbook without a layer's sheet leaves that
    layer alone); ``places`` every place with a row, held or not (a place missing altogether is
    more likely a slip than a decision); ``units`` None when the edit has no units sheet.
    """

    source: str
    assignments: list[AssignmentRow]
    layers: set[str]
    places: set[tuple[str, str]]
    units: list[UnitRow] | None = None
    findings: list[Finding] = field(default_factory=list)
    # Places with a row that could not be read: left as they are rather than closed.
    unreadable: set[tuple[str, str]] = field(default_factory=set)
    # An edit of a few places (a map edit) speaks for those only; None = every place of ``layers``.
    only_places: set[tuple[str, str]] | None = None
    # When the edited copy was made (a workbook's creation time, UTC): changes applied after it
    # were not in front of the person editing (see geo.assignment_edit).
    made_at: dt.datetime | None = None
    # Places and units changed meanwhile by someone else and not edited here: kept as they are now.
    left_alone: set[tuple[str, str]] = field(default_factory=set)
    units_left_alone: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class AssignmentChange:
    """A closed row and the opened row that replaces it for the same place."""

    before: AssignmentRow
    after: AssignmentRow
    what: tuple[str, ...]  # unit, stretch, role, valid_until

    def to_dict(self) -> dict[str, Any]:
        return {"before": self.before.to_dict(), "after": self.after.to_dict(), "what": list(self.what)}


@dataclass(frozen=True, slots=True)
class UnitChange:
    """A unit added (``before`` empty) or with changed fields: field -> (old text, new text)."""

    unit_id: str
    added: bool
    fields: dict[str, tuple[str, str]]
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "added": self.added,
            "fields": {name: {"before": old, "after": new} for name, (old, new) in self.fields.items()},
            "source": self.source,
        }


@dataclass
class ResponsibilityDiff:
    """Everything an edit changes on its effective date."""

    effective: dt.date
    opened: list[AssignmentRow] = field(default_factory=list)
    closed: list[AssignmentRow] = field(default_factory=list)
    changed: list[AssignmentChange] = field(default_factory=list)
    units_added: list[UnitChange] = field(default_factory=list)
    units_changed: list[UnitChange] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.opened or self.closed or self.changed or self.units_added or self.units_changed)

    def features(self) -> set[str]:
        """Every feature id the change touches (for the history's filters)."""
        rows = [*self.opened, *self.closed, *(c.before for c in self.changed), *(c.after for c in self.changed)]
        return {row.feature_id for row in rows}

    def units(self) -> set[str]:
        """Every unit id the change touches: holders before and after, units added or edited."""
        rows = [*self.opened, *self.closed, *(c.before for c in self.changed), *(c.after for c in self.changed)]
        return {row.unit_id for row in rows} | {u.unit_id for u in (*self.units_added, *self.units_changed)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "effective": self.effective.isoformat(),
            "opened": [row.to_dict() for row in self.opened],
            "closed": [row.to_dict() for row in self.closed],
            "changed": [change.to_dict() for change in self.changed],
            "units_added": [unit.to_dict() for unit in self.units_added],
            "units_changed": [unit.to_dict() for unit in self.units_changed],
            "unchanged": self.unchanged,
            "features": sorted(self.features()),
            "units": sorted(self.units()),
        }


@dataclass
class ChangePlan:
    """A diff and the tables that carry it out, as text ready to be written.

    ``assignment_sources`` maps a row number of the new assignments table (as validate names it,
    header = row 1) to where the row came from, (file, place in it), so findings can point at the
    workbook's sheet and row.
    """

    diff: ResponsibilityDiff
    assignments: pd.DataFrame
    units: pd.DataFrame | None
    assignment_sources: dict[int, tuple[str, str]]


def _cut(value: float | None) -> float | None:
    """A stretch end rounded to the comparison grain (None stays None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value) / SAME_CUT_M) * SAME_CUT_M


def _date(value: Any) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def rows_in_force(ds: Dataset, date: dt.date, *, later: bool = False) -> list[tuple[int, AssignmentRow]]:
    """The dataset's assignment rows in force on ``date`` (with ``later``: those starting after it),
    with their position in the assignments table."""
    table = ds.assignments
    if table is None or table.empty:
        return []
    when = pd.Timestamp(date)
    if later:
        current = table[table["valid_from"].notna() & (table["valid_from"] > when)]
    else:
        start_ok = table["valid_from"].isna() | (table["valid_from"] <= when)
        end_ok = table["valid_until"].isna() | (table["valid_until"] >= when)
        current = table[start_ok & end_ok]
    file_name = table.attrs.get("file", "assignments")
    result = []
    for record in current.itertuples(index=False):
        from_m = None if np.isnan(record.from_m) else float(record.from_m)
        to_m = None if np.isnan(record.to_m) else float(record.to_m)
        row = AssignmentRow(
            layer=record.layer,
            feature_id=record.feature_id,
            unit_id=record.unit_id,
            role=record.role,
            from_m=from_m,
            to_m=to_m,
            valid_from=_date(record.valid_from),
            valid_until=_date(record.valid_until),
            source=f"{file_name} row {int(record.source_row)}",
        )
        result.append((int(record.source_row) - 2, row))
    return result


def diff_assignments(
    current: list[AssignmentRow],
    edited: list[AssignmentRow],
    layers: set[str],
    effective: dt.date,
    unreadable: set[tuple[str, str]] | None = None,
    only_places: set[tuple[str, str]] | None = None,
) -> tuple[list[AssignmentRow], list[AssignmentRow], list[AssignmentChange], int]:
    """(closed, opened, changed, unchanged count) between rows in force and the edit's rows.

    Only layers (or places) the edit speaks for are compared, and not places with an unreadable row (they are
    left as they are; the reader's finding refuses the change anyway). Rows are matched as multisets on
    :meth:`AssignmentRow.key`; what is left on both sides is paired into changes per place:
    same stretch and role (a unit reassigned), same unit and role (a stretch re-cut), same unit and
    stretch (a role changed), same everything but the end date.
    """
    skipped = unreadable or set()
    compared = [
        row
        for row in current
        if row.layer in layers and row.place() not in skipped and (only_places is None or row.place() in only_places)
    ]
    edited = [row for row in edited if row.place() not in skipped]
    remaining = Counter(row.key() for row in edited)
    closed: list[AssignmentRow] = []
    unchanged = 0
    for row in compared:
        if remaining[row.key()] > 0:
            remaining[row.key()] -= 1
            unchanged += 1
        else:
            closed.append(row)
    still_in_force = Counter(row.key() for row in compared)
    opened = []
    for row in edited:
        if still_in_force[row.key()] > 0:
            still_in_force[row.key()] -= 1
        else:
            opened.append(row)
    changed: list[AssignmentChange] = []
    for same in (
        lambda r: (r.place(), _cut(r.from_m), _cut(r.to_m), r.role),
        lambda r: (r.place(), r.unit_id, r.role),
        lambda r: (r.place(), r.unit_id, _cut(r.from_m), _cut(r.to_m)),
    ):
        waiting: dict[Any, list[AssignmentRow]] = {}
        for after in opened:
            waiting.setdefault(same(after), []).append(after)
        paired: set[int] = set()
        still_closed = []
        for before in closed:
            candidates = waiting.get(same(before))
            if not candidates:
                still_closed.append(before)
                continue
            partner = candidates.pop(0)
            paired.add(id(partner))
            changed.append(AssignmentChange(before, partner, _what_changed(before, partner)))
        closed = still_closed
        opened = [after for after in opened if id(after) not in paired]
    order = lambda r: (r.layer, r.feature_id, _cut(r.from_m) or 0.0, r.unit_id)  # noqa: E731
    closed.sort(key=order)
    opened.sort(key=order)
    changed.sort(key=lambda c: order(c.before))
    return closed, opened, changed, unchanged


def _what_changed(before: AssignmentRow, after: AssignmentRow) -> tuple[str, ...]:
    what = []
    if before.unit_id != after.unit_id:
        what.append("unit")
    if (_cut(before.from_m), _cut(before.to_m)) != (_cut(after.from_m), _cut(after.to_m)):
        what.append("stretch")
    if before.role != after.role:
        what.append("role")
    if before.valid_until != after.valid_until:
        what.append("valid_until")
    return tuple(what)


def diff_units(current: pd.DataFrame, edited: list[UnitRow] | None) -> tuple[list[UnitChange], list[UnitChange]]:
    """(added, changed) units: the edit's units sheet against the units table as text.

    Units the edit leaves out are kept (past assignments name them); figures compare as numbers
    ("10" and "10.0" are the same staff).
    """
    if edited is None:
        return [], []
    by_id = {str(r["unit_id"]): r for r in current.to_dict(orient="records")}
    added, changed = [], []
    for unit in edited:
        old = by_id.get(unit.unit_id)
        if old is None:
            fields = {name: ("", value) for name, value in unit.fields.items() if value}
            added.append(UnitChange(unit.unit_id, True, fields, unit.source))
            continue
        fields = {}
        for name, value in unit.fields.items():
            before = str(old.get(name, "") or "")
            if not _same_text(name, before, value):
                fields[name] = (before, value)
        if fields:
            changed.append(UnitChange(unit.unit_id, False, fields, unit.source))
    return added, changed


def _same_text(name: str, before: str, after: str) -> bool:
    if before == after:
        return True
    if name == "staff":
        try:
            return float(before.replace(",", "")) == float(after.replace(",", ""))
        except ValueError:
            return False
    return False


def _number_text(value: float | None) -> str:
    """Metres as the tables write them: '400', '412.5' (no float noise)."""
    if value is None:
        return ""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def plan_change(
    ds: Dataset,
    raw_assignments: pd.DataFrame,
    raw_units: pd.DataFrame | None,
    edited: EditedResponsibility,
    effective: dt.date,
) -> ChangePlan:
    """The diff of ``edited`` against ``ds`` on ``effective``, and the new tables that carry it out.

    ``raw_assignments`` / ``raw_units`` are the tables as text, as :func:`geo.tables.read_table`
    reads them (row order = the file's). Closed rows get ``valid_until`` = the day before
    ``effective`` (a row that would start on the effective date or later and is closed never took
    effect: it is taken out); opened rows are appended with ``valid_from`` = ``effective`` (or the
    later start the edit typed). Units changed are edited in place, units added appended.
    """
    current = rows_in_force(ds, effective)
    # Rows already planned to start after the effective date are left alone; a workbook exported
    # late enough to show them shows them unchanged (their start is kept, not moved).
    planned = Counter((row.key(), row.valid_from) for _, row in rows_in_force(ds, effective, later=True))
    wanted = []
    for row in edited.assignments:
        start = row.valid_from if row.valid_from is not None and row.valid_from > effective else None
        if start is not None and planned[(row.key(), start)] > 0:
            planned[(row.key(), start)] -= 1
        else:
            wanted.append(row)
    closed, opened, changed, unchanged = diff_assignments(
        [row for _, row in current],
        wanted,
        edited.layers,
        effective,
        edited.unreadable | edited.left_alone,
        edited.only_places,
    )
    # Without a units table (units named by the layers themselves) there is nothing to edit them in.
    unit_rows = [u for u in edited.units if u.unit_id not in edited.units_left_alone] if edited.units else edited.units
    added_units, changed_units = diff_units(raw_units, unit_rows) if raw_units is not None else ([], [])
    diff = ResponsibilityDiff(
        effective=effective,
        opened=opened,
        closed=closed,
        changed=changed,
        units_added=added_units,
        units_changed=changed_units,
        unchanged=unchanged,
    )
    table = raw_assignments.copy()
    file_name = raw_assignments.attrs.get("file", "assignments.csv")
    ending = [*closed, *(c.before for c in changed)]
    position_of = {id(row): position for position, row in current}
    drop: list[int] = []
    day_before = (effective - dt.timedelta(days=1)).isoformat()
    for row in ending:
        position = position_of[id(row)]
        if row.valid_from is not None and row.valid_from >= effective:
            drop.append(position)
        else:
            table.iat[position, table.columns.get_loc("valid_until")] = day_before
    starting = [*opened, *(c.after for c in changed)]
    with_layer = "layer" in _file_columns(raw_assignments)
    ambiguous = _ambiguous_ids(ds)
    new_rows = []
    for row in starting:
        start = row.valid_from if row.valid_from is not None and row.valid_from > effective else effective
        new_rows.append(
            {
                "feature_id": row.feature_id,
                "unit_id": row.unit_id,
                "layer": row.layer if with_layer or row.feature_id in ambiguous else "",
                "role": row.role,
                "from_m": _number_text(row.from_m),
                "to_m": _number_text(row.to_m),
                "valid_from": start.isoformat(),
                "valid_until": row.valid_until.isoformat() if row.valid_until else "",
            }
        )
    dropped = set(drop)
    kept_positions = [p for p in range(len(table)) if p not in dropped]
    kept = table.drop(index=drop).reset_index(drop=True)
    # Where each row of the new table came from, by its row number there (header = row 1).
    sources = {new + 2: (file_name, f"{file_name} row {old + 2}") for new, old in enumerate(kept_positions)}
    if new_rows:
        kept = pd.concat([kept, pd.DataFrame(new_rows)], ignore_index=True).fillna("")
        for offset, row in enumerate(starting):
            sources[len(kept) - len(starting) + offset + 2] = (edited.source, row.source)
    kept = kept[_column_order(raw_assignments, kept)]
    units = None
    if raw_units is not None and (added_units or changed_units):
        units = raw_units.copy()
        for change in changed_units:
            position = int(np.flatnonzero(units["unit_id"].to_numpy(dtype=object) == change.unit_id)[0])
            for name, (_, value) in change.fields.items():
                if name not in units.columns:
                    units[name] = ""
                units.iat[position, units.columns.get_loc(name)] = value
        additions = [{"unit_id": u.unit_id, **{k: v for k, (_, v) in u.fields.items()}} for u in added_units]
        if additions:
            units = pd.concat([units, pd.DataFrame(additions)], ignore_index=True).fillna("")
        units = units[_column_order(raw_units, units)]
    return ChangePlan(diff=diff, assignments=kept, units=units, assignment_sources=sources)


def _file_columns(raw: pd.DataFrame) -> list[str]:
    """The columns the file itself had (``read_table`` adds missing optional ones, empty)."""
    return list(raw.attrs.get("file_columns", raw.columns))


def _column_order(raw: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """The file's own columns in its order, then any column the change had to fill."""
    own = [c for c in _file_columns(raw) if c in table.columns]
    more = [c for c in table.columns if c not in own and (table[c].astype(str) != "").any()]
    return own + more


def _ambiguous_ids(ds: Dataset) -> set[str]:
    """Ids naming features in more than one layer: a new row for one must say its layer."""
    counts = Counter(fid for layer in ds.layers.values() for fid in set(layer["feature_id"].tolist()))
    return {fid for fid, count in counts.items() if count > 1}


# -- text ------------------------------------------------------------------------------------


def _stretch_text(row: AssignmentRow, lang: str) -> str:
    if row.from_m is None or row.to_m is None:
        return "全段" if lang != "en" else "whole"
    unit = "米" if lang != "en" else "m"
    return f"{_number_text(row.from_m)}–{_number_text(row.to_m)} {unit}"


def _place_text(ds: Dataset, row: AssignmentRow) -> str:
    layer = ds.layers.get(row.layer)
    name = ""
    if layer is not None:
        match = layer.loc[layer["feature_id"] == row.feature_id, "name"]
        name = str(match.iat[0]) if len(match) else ""
    return f"{name} ({row.feature_id})" if name else row.feature_id


def _unit_text(ds: Dataset, unit_id: str, extra_names: dict[str, str]) -> str:
    names = dict(zip(ds.units["unit_id"], ds.units["name"], strict=False))
    name = extra_names.get(unit_id) or names.get(unit_id, "")
    return f"{name} ({unit_id})" if name and name != unit_id else unit_id


def render_diff(diff: ResponsibilityDiff, ds: Dataset, lang: str | None = None) -> str:
    """The difference as a list a planner reads: Chinese when the dataset's ``lang`` is zh."""
    lang = lang or ds.lang
    zh = lang != "en"
    roles = ROLE_WORDS["en" if not zh else "zh"]
    new_names = {u.unit_id: u.fields.get("name", ("", ""))[1] for u in diff.units_added}
    unit = lambda unit_id: _unit_text(ds, unit_id, new_names)  # noqa: E731
    day_before = (diff.effective - dt.timedelta(days=1)).isoformat()
    lines: list[str] = []
    if zh:
        lines.append(f"生效日期 {diff.effective.isoformat()}（原责任至 {day_before} 止）")
    else:
        lines.append(f"Effective {diff.effective.isoformat()} (rows in force end on {day_before})")
    if diff.empty:
        lines.append("  无变化" if zh else "  no change")
        return "\n".join(lines)

    def held(row: AssignmentRow) -> str:
        role = roles.get(row.role, row.role)
        if zh:
            until = f"，至 {row.valid_until.isoformat()}" if row.valid_until else ""
            return f"{_place_text(ds, row)} {_stretch_text(row, lang)}：{unit(row.unit_id)} {role}{until}"
        until = f", until {row.valid_until.isoformat()}" if row.valid_until else ""
        return f"{_place_text(ds, row)} {_stretch_text(row, lang)}: {unit(row.unit_id)} {role}{until}"

    if diff.changed:
        lines.append(f"变更 {len(diff.changed)} 项：" if zh else f"Changed ({len(diff.changed)}):")
        for change in diff.changed:
            lines.append(f"  ~ {held(change.before)}")
            lines.append(f"    → {held(change.after)}")
    if diff.opened:
        lines.append(f"新增 {len(diff.opened)} 项：" if zh else f"Opened ({len(diff.opened)}):")
        lines.extend(f"  + {held(row)}" for row in diff.opened)
    if diff.closed:
        lines.append(f"终止 {len(diff.closed)} 项：" if zh else f"Closed ({len(diff.closed)}):")
        lines.extend(f"  - {held(row)}" for row in diff.closed)
    if diff.units_added:
        lines.append(f"新增单位 {len(diff.units_added)} 个：" if zh else f"Units added ({len(diff.units_added)}):")
        for change in diff.units_added:
            lines.append(f"  + {unit(change.unit_id)}")
    if diff.units_changed:
        lines.append(
            f"单位信息变更 {len(diff.units_changed)} 个：" if zh else f"Units changed ({len(diff.units_changed)}):"
        )
        for change in diff.units_changed:
            parts = [f"{name} {old or '—'} → {new or '—'}" for name, (old, new) in change.fields.items()]
            lines.append(f"  ~ {unit(change.unit_id)}: " + "; ".join(parts))
    lines.append(f"未变 {diff.unchanged} 项" if zh else f"{diff.unchanged} unchanged")
    return "\n".join(lines)
