"""``respmap import-assignments`` and ``respmap history``: the workbook round trip on a copy of the mini dataset.

The workbook is written by ``respmap export`` and edited with openpyxl the way a person edits it in
Excel: a sheet sorted and renamed, a row deleted, a unit changed, a stretch re-cut, a column added,
a date typed as text, a row with an unknown unit, a contact changed. Every test works on a copy
in ``tmp_path``; the store is a SQLite file there too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from api.cli import main
from api.workbook_import import read_workbook
from geo import load_dataset
from geo.assignment_edit import ChangedMeanwhile, apply_edit, prepare_edit

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
MINI_FILES = (
    "catalog.toml",
    "districts.geojson",
    "compounds.geojson",
    "streets.geojson",
    "units.csv",
    "standards.csv",
    "assignments.csv",
)
EFFECTIVE = "2027-01-01"
# On S1 (y = 3618800, x from 600000): 450 m along it, in the stretch U2 held and U1 takes over.
S1_AT_450_M = (600450.0, 3618800.0)
C1_INSIDE = (600102.0, 3618102.0)  # inside C1 only (C2 overlaps C1's other corner)


@pytest.fixture
def dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "mini"
    folder.mkdir()
    for name in MINI_FILES:
        shutil.copyfile(MINI / name, folder / name)
    monkeypatch.setenv("RESPMAP_DATA_DIR", str(tmp_path / "store"))
    return folder


@pytest.fixture
def exported(dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "责任分工表.xlsx"
    assert main(["--dataset", str(dataset), "export", "-o", str(target), "--date", "2026-03-01"]) == 0
    capsys.readouterr()
    return target


def _rows(ws: Any) -> tuple[list[str], list[dict[str, Any]]]:
    header = [c.value for c in ws[1]]
    return header, [dict(zip(header, [c.value for c in row], strict=False)) for row in ws.iter_rows(min_row=2)]


def _rewrite(ws: Any, header: list[str], rows: list[dict[str, Any]]) -> None:
    ws.delete_rows(2, ws.max_row)
    for row in rows:
        ws.append([row.get(h) for h in header])


def person_edits(source: Path, target: Path, *, unknown_unit: bool = True) -> None:
    """What an office clerk does to the exported workbook in Excel, cell by cell."""
    workbook = openpyxl.load_workbook(source)
    streets = workbook["背街小巷"]
    header, rows = _rows(streets)
    rows = [r for r in rows if r["角色"] != "监督"]  # the supervisor row of S1 deleted
    for row in rows:
        if row["单位编号"] == "U1":
            row["路段终点（米）"] = 500  # S1 re-cut at 500 m instead of 400 m
        if row["单位编号"] == "U2" and row["编号"] == "S1":
            row["路段起点（米）"] = 500
        if row["编号"] == "S2":
            row["起始日期"] = "2026/1/1"  # a date typed as text (same day as before)
    rows.sort(key=lambda r: r["单位编号"], reverse=True)  # sorted by unit id, Z to A
    header.append("备注")  # a column of the office's own
    streets.cell(1, len(header), "备注")
    rows[0]["备注"] = "已核实"
    if unknown_unit:
        rows.append({"编号": "S2", "单位编号": "U9", "角色": "配合", "备注": "新增"})
    _rewrite(streets, header, rows)
    streets.title = "街巷（修改）"  # renamed sheet
    streets.auto_filter.ref = f"A1:Q{streets.max_row}"
    streets.row_dimensions[3].hidden = True  # a filter hides a row: it is still there
    compounds = workbook["无物业管理小区"]
    header, rows = _rows(compounds)
    for row in rows:
        if row["编号"] == "C1":  # reassigned: id and name both changed
            row["单位编号"], row["责任单位"] = "U4", "空闲单位"
        if row["编号"] == "C3":  # the place nobody held gets a unit, from a later date typed in Chinese
            row["单位编号"], row["角色"] = "U4", "牵头"
    header.append("起始日期")
    compounds.cell(1, len(header), "起始日期")
    for row in rows:
        if row["编号"] == "C3":
            row["起始日期"] = "2027年2月1日"
    _rewrite(compounds, header, rows)
    units = workbook["责任单位"]
    header, rows = _rows(units)
    for row in rows:
        if row["单位编号"] == "U2":
            row["联系人"], row["联系电话"] = "周敏", "0915-3209999"
    rows.append(
        {"单位编号": "U5", "单位名称": "市城管局", "类型": "department", "联系人": "孙丽", "保洁人员（人）": 12}
    )
    _rewrite(units, header, rows)
    workbook.save(target)


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _units_at(folder: Path, point: tuple[float, float], date: str) -> list[tuple[str, str]]:
    answer = load_dataset(folder).lookup(*point, crs="EPSG:4545", date=date)
    data = answer.to_dict() if hasattr(answer, "to_dict") else answer
    return [(u["unit_id"], u["role"]) for m in data["matches"] if not m["fallback"] for u in m["units"]]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_edited_workbook_gives_the_exact_difference_and_findings(dataset: Path, exported: Path, tmp_path: Path) -> None:
    edited_path = tmp_path / "edited.xlsx"
    person_edits(exported, edited_path)
    ds = load_dataset(dataset)
    prepared = prepare_edit(ds, read_workbook(edited_path, ds), dt.date(2027, 1, 1))
    diff = prepared.plan.diff.to_dict()
    changed = {
        (c["before"]["feature_id"], c["before"]["unit_id"], c["after"]["unit_id"], tuple(c["what"])): (
            c["before"]["from_m"],
            c["before"]["to_m"],
            c["after"]["from_m"],
            c["after"]["to_m"],
        )
        for c in diff["changed"]
    }
    assert changed == {
        ("C1", "U1", "U4", ("unit",)): (None, None, None, None),
        ("S1", "U1", "U1", ("stretch",)): (0.0, 400.0, 0.0, 500.0),
        ("S1", "U2", "U2", ("stretch",)): (400.0, 1000.0, 500.0, 1000.0),
    }
    assert [(r["feature_id"], r["unit_id"], r["role"], r["valid_from"]) for r in diff["opened"]] == [
        ("C3", "U4", "lead", "2027-02-01"),
        ("S2", "U9", "shared", None),
    ]
    assert [(r["feature_id"], r["unit_id"], r["role"]) for r in diff["closed"]] == [("S1", "U3", "supervisor")]
    assert diff["unchanged"] == 2  # C2 and S2 (its start typed as text is the same day)
    assert [u["unit_id"] for u in diff["units_added"]] == ["U5"]
    assert diff["units_added"][0]["fields"]["name"]["after"] == "市城管局"
    assert [(u["unit_id"], sorted(u["fields"])) for u in diff["units_changed"]] == [("U2", ["contact", "phone"])]
    # Findings: validate's unknown_unit, pointing at the workbook's renamed sheet and row, and the extra column.
    errors = [f for f in prepared.findings if f.level == "error"]
    assert [(f.code, f.feature_id, f.field) for f in errors] == [("unknown_unit", "S2", "unit_id")]
    assert errors[0].message.startswith("edited.xlsx sheet '街巷（修改）' row ")
    assert errors[0].file == "edited.xlsx"
    notes = [(f.code, f.field) for f in prepared.findings if f.level == "info"]
    assert ("column_ignored", "备注") in notes
    # U2's contact changed on the units sheet; the layer sheet still showing the old one is no warning.
    assert not [f for f in prepared.findings if f.code == "contact_not_read"]
    assert not prepared.ok


def test_text_rendering_in_chinese_names_places_units_and_stretches(
    dataset: Path, exported: Path, tmp_path: Path
) -> None:
    from geo.assignment_diff import render_diff

    edited_path = tmp_path / "edited.xlsx"
    person_edits(exported, edited_path, unknown_unit=False)
    ds = load_dataset(dataset)
    prepared = prepare_edit(ds, read_workbook(edited_path, ds), dt.date(2027, 1, 1))
    text = render_diff(prepared.plan.diff, ds)
    assert "生效日期 2027-01-01（原责任至 2026-12-31 止）" in text
    assert "幸福巷 (S1) 0–400 米：市民政局 (U1) 牵头\n    → 幸福巷 (S1) 0–500 米：市民政局 (U1) 牵头" in text
    assert "- 幸福巷 (S1) 全段：老城街道办事处 (U3) 监督" in text
    assert "+ 市城管局 (U5)" in text
    assert "市住建局 (U2): contact 刘洋 → 周敏; phone 0915-3200004 → 0915-3209999" in text
    english = render_diff(prepared.plan.diff, ds, lang="en")
    assert "Changed (3):" in english and "幸福巷 (S1) 0–500 m: 市民政局 (U1) lead" in english


def test_dry_run_changes_nothing_and_exits_by_the_findings(
    dataset: Path, exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad, good = tmp_path / "bad.xlsx", tmp_path / "good.xlsx"
    person_edits(exported, bad)
    person_edits(exported, good, unknown_unit=False)
    before = _hashes(dataset)
    common = ["--effective", EFFECTIVE, "--by", "张伟", "--reason", "机构调整", "--dry-run"]
    code, out, _ = _run(capsys, "--dataset", str(dataset), "import-assignments", str(bad), *common, "--json")
    result = json.loads(out)
    assert code == 1 and not result["ok"] and not result["applied"]
    assert [f["code"] for f in result["findings"] if f["level"] == "error"] == ["unknown_unit"]
    code, out, _ = _run(capsys, "--dataset", str(dataset), "import-assignments", str(good), *common)
    assert code == 0 and "dry run: nothing was changed" in out
    assert _hashes(dataset) == before
    assert not (dataset / "history").exists() and not (tmp_path / "store").exists()


def test_applying_keeps_the_past_lookup_before_and_after_the_effective_date(
    dataset: Path, exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "edited.xlsx"
    person_edits(exported, edited, unknown_unit=False)
    code, out, err = _run(
        capsys,
        "--dataset",
        str(dataset),
        "import-assignments",
        str(edited),
        "--effective",
        EFFECTIVE,
        "--by",
        "张伟",
        "--reason",
        "机构调整",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["applied"] and result["change_id"] == 1
    ds = load_dataset(dataset)
    assert ds.ok, [f.message for f in ds.findings if f.level == "error"]
    assert ds.content_hash == result["hash_after"] != result["hash_before"]
    # S1 at 450 m: U2 led it until the day before, U1 from the effective date (stretch re-cut at 500 m).
    assert ("U2", "lead") in _units_at(dataset, S1_AT_450_M, "2026-12-31")
    assert ("U3", "supervisor") in _units_at(dataset, S1_AT_450_M, "2026-12-31")
    after = _units_at(dataset, S1_AT_450_M, EFFECTIVE)
    assert ("U1", "lead") in after and ("U2", "lead") not in after and ("U3", "supervisor") not in after
    assert ("U1", "lead") in _units_at(dataset, C1_INSIDE, "2026-12-31")
    assert ("U4", "lead") in _units_at(dataset, C1_INSIDE, EFFECTIVE)
    # The rows in force end the day before; the old rows are still there (the past is not rewritten).
    text = (dataset / "assignments.csv").read_text(encoding="utf-8")
    assert "S1,U1,lead,0,400,,2026-12-31" in text and "S1,U1,lead,0,500,2027-01-01," in text
    assert "C3,U4,lead,,,2027-02-01," in text
    units = (dataset / "units.csv").read_text(encoding="utf-8")
    assert "U2,市住建局,department,,周敏,0915-3209999,50," in units and "U5,市城管局,department,,孙丽,,12," in units
    # The previous version is kept whole.
    original = dataset / "history" / "v0001-original"
    assert (original / "assignments.csv").read_bytes() == (MINI / "assignments.csv").read_bytes()
    assert (original / "units.csv").read_bytes() == (MINI / "units.csv").read_bytes()


def test_importing_the_unedited_workbook_changes_nothing(
    dataset: Path, exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _hashes(dataset)
    code, out, _ = _run(
        capsys, "--dataset", str(dataset), "import-assignments", str(exported), "--effective", EFFECTIVE,
        "--by", "张伟", "--reason", "核对",
    )  # fmt: skip
    assert code == 0 and "无变化" in out and "nothing to change" in out
    assert _hashes(dataset) == before


def test_disk_full_half_way_leaves_the_previous_version(
    dataset: Path, exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import geo.table_versions as versions

    edited = tmp_path / "edited.xlsx"
    person_edits(exported, edited, unknown_unit=False)
    original = {name: (dataset / name).read_bytes() for name in ("assignments.csv", "units.csv")}
    real_write = versions.write_file
    calls: list[Path] = []

    def full_after_first_table(path: Path, data: bytes) -> None:
        calls.append(path)
        if len([p for p in calls if p.name in original]) > 3:  # the original's two, then the new assignments
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(versions, "write_file", full_after_first_table)
    argv = ["--dataset", str(dataset), "import-assignments", str(edited), "--effective", EFFECTIVE]
    code, _, err = _run(capsys, *argv, "--by", "张伟", "--reason", "机构调整")
    assert code == 1 and "No space left on device" in err and "nothing was changed" in err
    assert {name: (dataset / name).read_bytes() for name in original} == original
    assert _units_at(dataset, C1_INSIDE, EFFECTIVE) == [("U1", "lead")]
    assert not list((dataset / "history").glob(".tmp-*"))
    # Once there is room again the same change goes through.
    monkeypatch.setattr(versions, "write_file", real_write)
    code, _, err = _run(capsys, *argv, "--by", "张伟", "--reason", "机构调整")
    assert code == 0, err
    assert _units_at(dataset, C1_INSIDE, EFFECTIVE) == [("U4", "lead")]


KILLER = """
import os, sys, datetime as dt
import geo.table_versions as versions
from api.workbook_import import read_workbook
from geo import load_dataset
from geo.assignment_edit import apply_edit, prepare_edit

real = versions.write_file
written = []
def write_then_die(path, data):
    real(path, data)
    written.append(path.name)
    if written.count("assignments.csv") == 2:  # the first is the original's copy (v0001), the second the new table
        os._exit(9)  # killed between the two tables' writes
versions.write_file = write_then_die
ds = load_dataset(sys.argv[1])
apply_edit(prepare_edit(ds, read_workbook(sys.argv[2], ds), dt.date(2027, 1, 1)), by="x", reason="y")
"""


def test_process_killed_between_writes_leaves_the_previous_version(
    dataset: Path, exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "edited.xlsx"
    person_edits(exported, edited, unknown_unit=False)
    original = {name: (dataset / name).read_bytes() for name in ("assignments.csv", "units.csv")}
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(dataset), str(edited)], cwd=repo, env=env, capture_output=True, timeout=300
    )
    assert done.returncode == 9, done.stderr.decode()[-2000:]
    assert {name: (dataset / name).read_bytes() for name in original} == original
    assert load_dataset(dataset).ok
    assert _units_at(dataset, C1_INSIDE, EFFECTIVE) == [("U1", "lead")]
    assert [p.name for p in (dataset / "history").glob("v*")] == ["v0001-original"]
    assert list((dataset / "history").glob(".tmp-*"))  # what the killed process left ...
    code, _, err = _run(
        capsys, "--dataset", str(dataset), "import-assignments", str(edited), "--effective", EFFECTIVE,
        "--by", "张伟", "--reason", "机构调整",
    )  # fmt: skip
    assert code == 0, err
    assert not list((dataset / "history").glob(".tmp-*"))  # ... is cleared by the next change
    assert _units_at(dataset, C1_INSIDE, EFFECTIVE) == [("U4", "lead")]


def test_two_concurrent_edits_the_second_is_refused(dataset: Path, exported: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    person_edits(exported, first, unknown_unit=False)
    workbook = openpyxl.load_workbook(exported)
    sheet = workbook["无物业管理小区"]
    sheet["G3"], sheet["H3"] = "老城街道办事处", "U3"  # C2 to the street office, prepared from the same data
    workbook.save(second)
    ds = load_dataset(dataset)
    prepared_first = prepare_edit(ds, read_workbook(first, ds), dt.date(2027, 1, 1))
    prepared_second = prepare_edit(ds, read_workbook(second, ds), dt.date(2027, 1, 1))
    assert prepared_second.plan.diff.to_dict()["changed"][0]["after"]["unit_id"] == "U3"
    apply_edit(prepared_first, by="张伟", reason="机构调整")
    with pytest.raises(ChangedMeanwhile) as refused:
        apply_edit(prepared_second, by="李娜", reason="小区移交")
    assert refused.value.changed_files == ["assignments.csv", "units.csv"]
    assert "last change by 张伟" in str(refused.value) and "机构调整" in str(refused.value)
    # The first change stands; the second left no trace.
    assert _units_at(dataset, (600112.0, 3618112.0), EFFECTIVE) == [("U2", "lead")]


def test_cli_refuses_when_the_files_change_while_it_prepares(
    dataset: Path, exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import api.commands.import_assignments as command

    edited = tmp_path / "edited.xlsx"
    person_edits(exported, edited, unknown_unit=False)
    real_prepare = command.prepare_edit

    def someone_saves_meanwhile(*args: Any, **kwargs: Any) -> Any:
        prepared = real_prepare(*args, **kwargs)
        with open(dataset / "assignments.csv", "a", encoding="utf-8") as handle:
            handle.write("C3,U3,lead,,,,\n")
        return prepared

    monkeypatch.setattr(command, "prepare_edit", someone_saves_meanwhile)
    code, out, _ = _run(
        capsys, "--dataset", str(dataset), "import-assignments", str(edited), "--effective", EFFECTIVE,
        "--by", "张伟", "--reason", "机构调整", "--json",
    )  # fmt: skip
    result = json.loads(out)
    assert code == 1 and result["error"] == "changed_meanwhile" and result["changed_files"] == ["assignments.csv"]
    assert "assignments.csv differ" in result["message"]
    assert not list((dataset / "history").glob("v*"))  # no version written (only the lock file's folder)


def test_history_lists_each_change_with_author_and_reason(
    dataset: Path,
    exported: Path,
    tmp_path: Path,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RESPMAP_DATABASE_URL", store_url)  # each store backend
    first = tmp_path / "first.xlsx"
    person_edits(exported, first, unknown_unit=False)
    base = ["--dataset", str(dataset), "import-assignments"]
    assert main([*base, str(first), "--effective", EFFECTIVE, "--by", "张伟", "--reason", "机构调整"]) == 0
    assert main(["--dataset", str(dataset), "export", "-o", str(tmp_path / "again.xlsx"), "--date", EFFECTIVE]) == 0
    workbook = openpyxl.load_workbook(tmp_path / "again.xlsx")
    sheet = workbook["无物业管理小区"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("编号")].value == "C2":
            row[header.index("单位编号")].value = "U3"
            row[header.index("责任单位")].value = None
    workbook.save(tmp_path / "second.xlsx")
    assert (
        main(
            [*base, str(tmp_path / "second.xlsx"), "--effective", "2027-03-01", "--by", "李娜", "--reason", "小区移交"]
        )
        == 0
    )
    capsys.readouterr()
    code, out, _ = _run(capsys, "--dataset", str(dataset), "history", "--json")
    changes = json.loads(out)["changes"]
    assert code == 0
    assert [(c["by"], c["reason"], c["effective"]) for c in changes] == [
        ("李娜", "小区移交", "2027-03-01"),
        ("张伟", "机构调整", "2027-01-01"),
    ]
    assert changes[0]["hash_before"] == changes[1]["hash_after"]
    assert changes[1]["version"].startswith("v0002-") and changes[0]["version"].startswith("v0003-")
    code, out, _ = _run(capsys, "--dataset", str(dataset), "history", "--feature", "C2", "--json")
    assert [c["by"] for c in json.loads(out)["changes"]] == ["李娜"]
    code, out, _ = _run(capsys, "--dataset", str(dataset), "history", "--unit", "U5", "--json")
    assert [c["by"] for c in json.loads(out)["changes"]] == ["张伟"]
    code, out, _ = _run(capsys, "--dataset", str(dataset), "history")
    assert "by 李娜: 小区移交" in out and "by 张伟: 机构调整" in out and out.index("李娜") < out.index("张伟")
    assert "~ C2: U2 lead  ->  C2: U3 lead" in out and "~ S1 0-400 m: U1 lead  ->  S1 0-500 m: U1 lead" in out
    code, out, _ = _run(capsys, "--dataset", str(dataset), "history", "--unit", "U5")
    assert "+ unit U5: name - -> 市城管局" in out and "C2" not in out
    # Lookups on each side of each date.
    assert _units_at(dataset, (600112.0, 3618112.0), "2027-02-28") == [("U2", "lead")]
    assert _units_at(dataset, (600112.0, 3618112.0), "2027-03-01") == [("U3", "lead")]


def test_bad_input_is_a_message_not_a_traceback(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_workbook = tmp_path / "table.xlsx"
    not_a_workbook.write_text("unit_id,name\n", encoding="utf-8")
    code, _, err = _run(
        capsys, "--dataset", str(dataset), "import-assignments", str(not_a_workbook), "--effective", EFFECTIVE,
        "--by", "a", "--reason", "b",
    )  # fmt: skip
    assert code == 1 and "table.xlsx cannot be read as an Excel .xlsx workbook" in err and "Traceback" not in err
    code, _, err = _run(
        capsys, "--dataset", str(dataset), "import-assignments", str(not_a_workbook), "--effective", "3 March",
        "--by", "a", "--reason", "b",
    )  # fmt: skip
    assert code == 2 and "--effective '3 March' is not a date" in err


def _set_unit(source: Path, target: Path, feature_id: str, unit_id: str) -> None:
    """A clerk gives one compound another unit (id changed, name cleared)."""
    workbook = openpyxl.load_workbook(source)
    sheet = workbook["无物业管理小区"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("编号")].value == feature_id:
            row[header.index("单位编号")].value = unit_id
            row[header.index("责任单位")].value = None
    workbook.save(target)


def test_an_old_workbook_does_not_undo_a_change_made_since(
    dataset: Path, exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Planner A exported first; planner B exported later, gave C2 to U3 and applied it.
    newer = tmp_path / "newer.xlsx"
    assert main(["--dataset", str(dataset), "export", "-o", str(newer), "--date", "2026-03-01"]) == 0
    _set_unit(newer, tmp_path / "b.xlsx", "C2", "U3")
    base = ["--dataset", str(dataset), "import-assignments"]
    assert (
        main([*base, str(tmp_path / "b.xlsx"), "--effective", EFFECTIVE, "--by", "李娜", "--reason", "小区移交"]) == 0
    )
    capsys.readouterr()
    # A's workbook still shows C2 with U2; A only edited C1. C2 is left as B made it.
    _set_unit(exported, tmp_path / "a.xlsx", "C1", "U4")
    code, out, err = _run(
        capsys, *base, str(tmp_path / "a.xlsx"), "--effective", EFFECTIVE, "--by", "张伟", "--reason", "调整", "--json",
    )  # fmt: skip
    result = json.loads(out)
    assert code == 0, err
    assert [(c["before"]["feature_id"], c["after"]["unit_id"]) for c in result["diff"]["changed"]] == [("C1", "U4")]
    kept = [f for f in result["findings"] if f["code"] == "changed_meanwhile_kept"]
    assert [f["feature_id"] for f in kept] == ["C2"] and "by 李娜" in kept[0]["message"]
    assert _units_at(dataset, (600112.0, 3618112.0), EFFECTIVE) == [("U3", "lead")]  # B's change stands
    assert _units_at(dataset, C1_INSIDE, EFFECTIVE) == [("U4", "lead")]  # A's too


def test_an_old_workbook_editing_a_place_changed_since_is_refused(
    dataset: Path, exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = tmp_path / "newer.xlsx"
    assert main(["--dataset", str(dataset), "export", "-o", str(newer), "--date", "2026-03-01"]) == 0
    _set_unit(newer, tmp_path / "b.xlsx", "C2", "U3")
    base = ["--dataset", str(dataset), "import-assignments"]
    assert (
        main([*base, str(tmp_path / "b.xlsx"), "--effective", EFFECTIVE, "--by", "李娜", "--reason", "小区移交"]) == 0
    )
    capsys.readouterr()
    before = _hashes(dataset)
    _set_unit(exported, tmp_path / "a.xlsx", "C2", "U4")  # A edits the same place, from the older copy
    code, out, _ = _run(
        capsys, *base, str(tmp_path / "a.xlsx"), "--effective", EFFECTIVE, "--by", "张伟", "--reason", "调整"
    )
    assert code == 1
    assert "changed_meanwhile: C2:" in out and "before the change by 李娜" in out and "export the workbook again" in out
    assert _hashes(dataset) == before


def test_applying_tells_servers_sharing_the_store_to_reload(
    dataset: Path, exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.state import STORE_GENERATION_KEY
    from cases.store import open_store

    _set_unit(exported, tmp_path / "a.xlsx", "C1", "U4")
    argv = ["--dataset", str(dataset), "import-assignments", str(tmp_path / "a.xlsx"), "--effective", EFFECTIVE]
    code, out, err = _run(capsys, *argv, "--by", "张伟", "--reason", "调整")
    assert code == 0, err
    assert "servers sharing the store reload it within seconds" in out
    store = open_store(dataset)
    try:
        assert store.get_state(STORE_GENERATION_KEY) == "1"
    finally:
        store.dispose()


def test_two_planners_applying_at_the_same_instant_one_wins(dataset: Path, exported: Path, tmp_path: Path) -> None:
    import threading

    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    _set_unit(exported, first, "C1", "U4")
    _set_unit(exported, second, "C2", "U3")
    ds = load_dataset(dataset)
    prepared = [prepare_edit(ds, read_workbook(path, ds), dt.date(2027, 1, 1)) for path in (first, second)]
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def apply(edit: Any, by: str) -> None:
        start.wait()
        try:
            apply_edit(edit, by=by, reason="同时")
            outcomes.append("applied")
        except ChangedMeanwhile:
            outcomes.append("refused")

    threads = [threading.Thread(target=apply, args=(edit, by)) for edit, by in zip(prepared, ("甲", "乙"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["applied", "refused"]
    assert len(list((dataset / "history").glob("v*"))) == 2  # the original and the one change that won


def test_the_demo_round_trip_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = Path(__file__).resolve().parents[2] / "layers" / "ankang"
    folder = tmp_path / "ankang"
    shutil.copytree(demo, folder, ignore=shutil.ignore_patterns("data", "history"))
    workbook = tmp_path / "责任分工表.xlsx"
    assert main(["--dataset", str(folder), "export", "-o", str(workbook)]) == 0
    capsys.readouterr()
    code, out, _ = _run(
        capsys, "--dataset", str(folder), "import-assignments", str(workbook), "--effective", EFFECTIVE,
        "--by", "x", "--reason", "y", "--dry-run", "--json",
    )  # fmt: skip
    result = json.loads(out)
    assert code == 0 and result["ok"]
    diff = result["diff"]
    assert (diff["opened"], diff["closed"], diff["changed"], diff["units_added"], diff["units_changed"]) == (
        [], [], [], [], []
    )  # fmt: skip
    assert diff["unchanged"] > 500
