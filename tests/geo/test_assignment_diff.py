"""The difference an edit makes, its new tables, and what the change itself breaks (mini dataset).

In force on 2027-01-01 in ``tests/data/mini``: C1 U1, C2 U2, S1 U1 0-400 m, S1 U2 400-1000 m
(1000-1200 m nobody: a gap the data already has), S1 U3 supervisor, S2 U3; U4 holds nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest

from geo import Dataset, load_dataset
from geo.assignment_diff import AssignmentRow, EditedResponsibility, render_diff, rows_in_force
from geo.assignment_edit import PreparedEdit, prepare_edit

EFFECTIVE = dt.date(2027, 1, 1)
MINI = Path(__file__).resolve().parents[1] / "data" / "mini"


def _current(ds: Dataset) -> list[AssignmentRow]:
    return [row for _, row in rows_in_force(ds, EFFECTIVE)]


def _edit(ds: Dataset, rows: list[AssignmentRow], places: set[tuple[str, str]] | None = None) -> PreparedEdit:
    everything = {(layer_id, fid) for layer_id, layer in ds.layers.items() for fid in layer["feature_id"]}
    edited = EditedResponsibility(
        source="edit.xlsx",
        assignments=rows,
        layers={"compounds", "streets"},
        places=everything if places is None else places,
    )
    return prepare_edit(ds, edited, EFFECTIVE)


def _replace(rows: list[AssignmentRow], feature_id: str, unit_id: str, /, **changes: object) -> list[AssignmentRow]:
    return [
        dataclasses.replace(r, **changes) if (r.feature_id, r.unit_id) == (feature_id, unit_id) else r for r in rows
    ]


def _codes(prepared: PreparedEdit, prefix: str = "change_") -> list[tuple[str, str, str]]:
    return [(f.level, f.code, f.feature_id) for f in prepared.findings if f.code.startswith(prefix)]


def test_the_same_state_is_no_change(mini_ds: Dataset) -> None:
    prepared = _edit(mini_ds, _current(mini_ds))
    assert prepared.plan.diff.empty and prepared.plan.diff.unchanged == 6
    assert prepared.ok and _codes(prepared) == []
    # The new table is the file as it was: same columns, same text.
    written = prepared.new_files["assignments.csv"].decode("utf-8")
    assert written == (MINI / "assignments.csv").read_text(encoding="utf-8")
    assert prepared.hash_after == mini_ds.content_hash


def test_a_reassigned_place_is_one_change_closing_and_opening(mini_ds: Dataset) -> None:
    prepared = _edit(mini_ds, _replace(_current(mini_ds), "C2", "U2", unit_id="U4"))
    diff = prepared.plan.diff
    assert [(c.before.unit_id, c.after.unit_id, c.what) for c in diff.changed] == [("U2", "U4", ("unit",))]
    assert diff.opened == [] and diff.closed == [] and diff.unchanged == 5
    table = prepared.plan.assignments
    c2 = table[table["feature_id"] == "C2"][["unit_id", "valid_from", "valid_until"]].values.tolist()
    assert c2 == [["U2", "", "2026-12-31"], ["U4", "2027-01-01", ""]]
    assert prepared.ok
    # U4 was idle and is not any more; nobody is left idle by it (U2 still leads S1).
    assert _codes(prepared) == []


def test_a_recut_that_leaves_a_gap_is_an_error_naming_the_metres(mini_ds: Dataset) -> None:
    prepared = _edit(mini_ds, _replace(_current(mini_ds), "S1", "U1", to_m=350.0))
    gaps = [f for f in prepared.findings if f.code == "change_stretch_gap"]
    # 350-400 m is new; the 1000-1200 m the data already leaves to nobody is not the change's doing.
    assert [(f.level, f.feature_id) for f in gaps] == [("error", "S1")]
    assert "350.0–400.0 m would be held by nobody from 2027-01-01" in gaps[0].message
    assert not prepared.ok


def test_a_recut_that_makes_two_leads_overlap_is_an_error(mini_ds: Dataset) -> None:
    prepared = _edit(mini_ds, _replace(_current(mini_ds), "S1", "U1", to_m=450.0))
    overlaps = [f for f in prepared.findings if f.code == "change_stretch_overlap"]
    assert len(overlaps) == 1 and "U1 and U2 would both lead 400.0–450.0 m" in overlaps[0].message
    assert not prepared.ok


def test_a_place_missing_from_the_edit_is_an_error_a_cleared_unit_a_warning(mini_ds: Dataset) -> None:
    without_c2 = [r for r in _current(mini_ds) if r.feature_id != "C2"]
    everything = {(layer_id, fid) for layer_id, layer in mini_ds.layers.items() for fid in layer["feature_id"]}
    vanished = _edit(mini_ds, without_c2, everything - {("compounds", "C2")})
    assert ("error", "change_unheld", "C2") in _codes(vanished)
    cleared = _edit(mini_ds, without_c2, everything)
    assert ("warning", "change_unheld", "C2") in _codes(cleared)
    assert [c for c in _codes(cleared) if c[0] == "error"] == []


def test_a_unit_left_with_nothing_is_a_warning(mini_ds: Dataset) -> None:
    rows = _replace(_replace(_current(mini_ds), "C1", "U1", unit_id="U2"), "S1", "U1", unit_id="U2")
    prepared = _edit(mini_ds, rows)
    assert ("warning", "change_unit_idle", "U1") in _codes(prepared)
    assert prepared.ok  # an idle unit is worth knowing, not a reason to refuse


def test_an_end_typed_before_the_effective_date_would_rewrite_the_past(mini_ds: Dataset) -> None:
    rows = _replace(_current(mini_ds), "C2", "U2", unit_id="U4", valid_until=dt.date(2026, 6, 30))
    prepared = _edit(mini_ds, rows)
    assert [(f.level, f.code, f.field) for f in prepared.findings if f.code == "date_before_effective"] == [
        ("error", "date_before_effective", "valid_until")
    ]


def test_validate_findings_come_through_for_the_new_tables(mini_ds: Dataset) -> None:
    rows = [*_current(mini_ds), AssignmentRow("streets", "S2", "U9", "shared", source="edit.xlsx sheet 'x' row 9")]
    prepared = _edit(mini_ds, rows)
    unknown = [f for f in prepared.findings if f.code == "unknown_unit"]
    assert len(unknown) == 1 and unknown[0].message.startswith("edit.xlsx sheet 'x' row 9 (S2): unit 'U9'")
    assert unknown[0].file == "edit.xlsx" and not prepared.ok


def test_closing_a_row_that_had_not_started_takes_it_out(tmp_path: Path) -> None:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder, ignore=shutil.ignore_patterns("data"))
    with open(folder / "assignments.csv", "a", encoding="utf-8") as handle:
        handle.write("C3,U4,lead,,,2027-01-01,\n")
    ds = load_dataset(folder)
    rows = [r for r in _current(ds) if r.feature_id != "C3"]
    prepared = _edit(ds, rows)
    assert [(r.feature_id, r.unit_id) for r in prepared.plan.diff.closed] == [("C3", "U4")]
    assert "C3" not in set(prepared.plan.assignments["feature_id"])  # withdrawn: it was never in force
    assert len(prepared.plan.assignments) == 7


def test_english_rendering(mini_ds: Dataset) -> None:
    prepared = _edit(mini_ds, _replace(_current(mini_ds), "S1", "U2", from_m=400.0, to_m=1200.0))
    text = render_diff(prepared.plan.diff, mini_ds, lang="en")
    assert text.splitlines()[0] == "Effective 2027-01-01 (rows in force end on 2026-12-31)"
    assert "  ~ 幸福巷 (S1) 400–1000 m: 市住建局 (U2) lead" in text
    assert "    → 幸福巷 (S1) 400–1200 m: 市住建局 (U2) lead" in text
    assert text.splitlines()[-1] == "5 unchanged"


@pytest.mark.parametrize(
    ("to_m", "same"),
    [
        (400.0, True),  # as exported
        (400.02, True),  # a spreadsheet's rounding: the same cut
        (400.5, False),  # half a metre: a real re-cut
    ],
)
def test_stretch_ends_compare_at_a_few_centimetres(mini_ds: Dataset, to_m: float, same: bool) -> None:
    rows = _replace(_current(mini_ds), "S1", "U1", to_m=to_m)
    rows = _replace(rows, "S1", "U2", from_m=to_m)
    assert _edit(mini_ds, rows).plan.diff.empty is same


def test_rows_planned_after_the_effective_date_are_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder, ignore=shutil.ignore_patterns("data"))
    with open(folder / "assignments.csv", "a", encoding="utf-8") as handle:
        handle.write("C3,U4,lead,,,2027-02-01,\n")
    ds = load_dataset(folder)
    planned = AssignmentRow("compounds", "C3", "U4", "lead", valid_from=dt.date(2027, 2, 1))
    # A workbook exported late enough shows the planned row: it is the same row, not a new one.
    shown = _edit(ds, [*_current(ds), planned])
    assert shown.plan.diff.empty and len(shown.plan.assignments) == 8
    # One exported before shows nothing of it: the plan stays.
    not_shown = _edit(ds, _current(ds))
    assert not_shown.plan.diff.empty and len(not_shown.plan.assignments) == 8


def test_a_finding_naming_two_rows_names_both_where_they_came_from(mini_ds: Dataset) -> None:
    rows = _replace(_current(mini_ds), "S1", "U1", to_m=450.0, source="edit.xlsx sheet '街巷' row 7")
    prepared = _edit(mini_ds, rows)
    claims = [f for f in prepared.findings if f.code == "claim_overlap"]
    # validate's warning names two rows of the new table: U2 400-1000 m (kept from the file) and the new U1 row
    assert len(claims) == 1
    assert claims[0].message.startswith("assignments.csv row 5 and edit.xlsx sheet '街巷' row 7: units U2 and U1")
