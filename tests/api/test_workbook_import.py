"""Reading the responsibility workbook back: sheets by header, dates as typed, cells named in findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from api.workbook_import import WorkbookError, parse_cell_date, read_workbook
from geo import Dataset

ZONE_HEADER = ["编号", "名称", "责任单位", "单位编号", "角色", "路段起点（米）", "路段终点（米）"]


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        ws = workbook.create_sheet(title)
        for row in rows:
            ws.append(row)
    workbook.save(path)
    return path


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (dt.datetime(2026, 3, 1), dt.date(2026, 3, 1)),  # a real date cell
        (dt.date(2026, 3, 1), dt.date(2026, 3, 1)),
        (46082, dt.date(2026, 3, 1)),  # the serial number a date cell shows when formatted as a number
        ("2026-03-01", dt.date(2026, 3, 1)),
        ("2026/3/1", dt.date(2026, 3, 1)),  # typed the way Chinese Excel shows dates
        ("2026.3.1", dt.date(2026, 3, 1)),
        ("2026年3月1日", dt.date(2026, 3, 1)),
        ("20260301", dt.date(2026, 3, 1)),
        (20260301, dt.date(2026, 3, 1)),  # the same typed into a number cell
        (" ", None),
        (None, None),
    ],
)
def test_dates_as_people_type_them(cell: object, expected: dt.date | None) -> None:
    assert parse_cell_date(cell) == expected


@pytest.mark.parametrize("cell", ["3月1日", "2026-02-30", "next week", 12])
def test_what_is_not_a_date_raises(cell: object) -> None:
    with pytest.raises(ValueError):
        parse_cell_date(cell)


def test_sheets_found_by_header_anywhere_in_the_top_rows_in_english_too(mini_ds: Dataset, tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "wb.xlsx",
        {
            "Sheet1": [
                ["Responsibility 2027"],  # a title row above the header
                [],
                ["Feature ID", "Unit ID", "Role", "Stretch from (m)", "Stretch to (m)"],
                ["S1", "U1", "lead", "0", "400米"],  # metres typed with their unit
                ["S1", 2, "shared", None, None],  # a numeric unit id: read as text
            ],
            "notes": [["nothing to see"]],
        },
    )
    edited = read_workbook(path, mini_ds)
    assert edited.layers == {"streets"} and edited.units is None
    assert [(r.feature_id, r.unit_id, r.role, r.from_m, r.to_m) for r in edited.assignments] == [
        ("S1", "U1", "lead", 0.0, 400.0),
        ("S1", "2", "shared", None, None),
    ]
    assert edited.assignments[0].source == "wb.xlsx sheet 'Sheet1' row 4"


def test_rows_hidden_by_a_filter_still_count(mini_ds: Dataset, tmp_path: Path) -> None:
    path = _workbook(tmp_path / "wb.xlsx", {"x": [ZONE_HEADER, ["C1", None, "U1", "牵头"], ["C2", None, "U2", "牵头"]]})
    workbook = openpyxl.load_workbook(path)
    workbook["x"].auto_filter.ref = "A1:G3"
    workbook["x"].row_dimensions[3].hidden = True
    workbook.save(path)
    assert [r.feature_id for r in read_workbook(path, mini_ds).assignments] == ["C1", "C2"]


def test_a_unit_named_but_not_numbered_is_found_by_name(mini_ds: Dataset, tmp_path: Path) -> None:
    path = _workbook(tmp_path / "wb.xlsx", {"x": [ZONE_HEADER, ["C1", None, "市住建局", None, "牵头"]]})
    assert [r.unit_id for r in read_workbook(path, mini_ds).assignments] == ["U2"]


def test_cell_problems_are_findings_naming_sheet_row_and_column(mini_ds: Dataset, tmp_path: Path) -> None:
    header = [*ZONE_HEADER, "截止日期"]
    path = _workbook(
        tmp_path / "wb.xlsx",
        {
            "改过的表": [
                header,
                ["C1", None, "市住建局", "U1", "牵头"],  # id says U1, name says U2's
                ["C2", None, None, "U2", "组长"],  # not a role
                ["S1", None, None, "U1", "牵头", "零", 400],  # not a number
                ["S2", None, None, "U3", "牵头", None, None, "明年"],  # not a date
                ["C3", None, "不存在的单位", None, "牵头"],  # a name that is no unit
                [None, None, None, "U1", "牵头"],  # no feature id
            ]
        },
    )
    edited = read_workbook(path, mini_ds)
    found = [(f.code, f.feature_id, f.field, f.message.split(":")[0]) for f in edited.findings]
    assert found == [
        ("unit_mismatch", "C1", "unit_id", "wb.xlsx sheet '改过的表' row 2 (C1)"),
        ("role_invalid", "C2", "role", "wb.xlsx sheet '改过的表' row 3 (C2)"),
        ("number_invalid", "S1", "from_m", "wb.xlsx sheet '改过的表' row 4 (S1)"),
        ("date_invalid", "S2", "valid_until", "wb.xlsx sheet '改过的表' row 5 (S2)"),
        ("unit_unknown_name", "C3", "unit_name", "wb.xlsx sheet '改过的表' row 6 (C3)"),
        ("field_missing", "", "feature_id", "wb.xlsx sheet '改过的表' row 7 (?)"),
    ]
    assert all(f.level == "error" and f.file == "wb.xlsx" for f in edited.findings)
    assert edited.assignments == []
    # Places whose row could not be read are left alone, not closed.
    assert {("compounds", "C1"), ("compounds", "C2"), ("streets", "S1")} <= edited.unreadable


def test_a_file_that_is_no_workbook_is_one_clear_error(mini_ds: Dataset, tmp_path: Path) -> None:
    text = tmp_path / "a.xlsx"
    text.write_text("feature_id,unit_id\n", encoding="utf-8")
    with pytest.raises(WorkbookError, match=r"a.xlsx cannot be read as an Excel .xlsx workbook"):
        read_workbook(text, mini_ds)
    other = _workbook(tmp_path / "b.xlsx", {"预算": [["项目", "金额"], ["扫帚", 30]]})
    with pytest.raises(WorkbookError, match=r"b.xlsx: no sheet has a responsibility header.*sheets: 预算"):
        read_workbook(other, mini_ds)


def test_a_contact_edited_on_a_layer_sheet_is_named_not_dropped_silently(mini_ds: Dataset, tmp_path: Path) -> None:
    header = ["编号", "单位编号", "角色", "联系人", "联系电话"]
    rows = [header, ["C1", "U1", "牵头", "张强", "0915-3200003"], ["C2", "U2", "牵头", "周敏", "0915-3200004"]]
    edited = read_workbook(_workbook(tmp_path / "wb.xlsx", {"x": rows}), mini_ds)
    assert [(f.level, f.code, f.feature_id, f.field) for f in edited.findings] == [
        ("warning", "contact_not_read", "C2", "unit_contact")
    ]
    assert "'周敏' differs from 刘洋 for unit U2" in edited.findings[0].message


def test_an_edited_standard_is_named_not_applied(mini_ds: Dataset, tmp_path: Path) -> None:
    header = ["标准编号", "适用类别", "等级", "保洁经费（元/平方米·年）"]
    rows = [header, ["S-1", "*", "一级", 12], ["S-2", "*", "二级", "12.5"], ["S-9", "*", "特级", 20]]
    layer_sheet = [ZONE_HEADER, ["C1", None, "市民政局", "U1", "牵头"]]
    edited = read_workbook(_workbook(tmp_path / "wb.xlsx", {"x": layer_sheet, "保洁标准": rows}), mini_ds)
    assert [(f.level, f.code, f.feature_id) for f in edited.findings] == [
        ("warning", "standards_not_read", "S-2"),  # S-1 as it is: nothing to say
        ("warning", "standards_not_read", "S-9"),
    ]
    assert "yuan_per_m2_year 10 -> 12.5 is not applied" in edited.findings[0].message


def test_a_row_pasted_twice_counts_once_and_a_unit_left_off_is_kept(mini_ds: Dataset, tmp_path: Path) -> None:
    units = [
        ["单位编号", "单位名称"],
        ["U1", "市民政局"],
        ["U2", "市住建局"],
        ["U3", "老城街道办事处"],
        ["HQ1", "x"],
        ["HQ2", "y"],
    ]
    layer_sheet = [
        ZONE_HEADER,
        ["C1", None, None, "U1", "牵头"],
        ["C2", None, None, "U2", "牵头"],
        ["C1", None, None, "U1", "牵头"],
    ]
    edited = read_workbook(_workbook(tmp_path / "wb.xlsx", {"x": layer_sheet, "责任单位": units}), mini_ds)
    assert [r.feature_id for r in edited.assignments] == ["C1", "C2"]
    assert [(f.level, f.code, f.feature_id) for f in edited.findings] == [
        ("info", "unit_kept", "U4"),
        ("warning", "duplicate_row", "C1"),
    ]
    assert "wb.xlsx sheet 'x' row 4 (C1): the same as sheet 'x' row 2; counted once" == edited.findings[1].message


def test_merged_cells_hold_their_value_in_every_row(mini_ds: Dataset, tmp_path: Path) -> None:
    rows = [
        ZONE_HEADER,
        ["S1", "幸福巷", "市民政局", "U1", "牵头", 0, 400],
        [None, None, "市住建局", "U2", "牵头", 400, 1000],  # 编号 and 名称 merged with the row above
        [None, None, "老城街道办事处", "U3", "监督", None, None],
    ]
    path = _workbook(tmp_path / "wb.xlsx", {"街巷": rows})
    workbook = openpyxl.load_workbook(path)
    workbook["街巷"].merge_cells("A2:A4")
    workbook["街巷"].merge_cells("B2:B4")
    workbook.save(path)
    edited = read_workbook(path, mini_ds)
    assert edited.findings == []
    assert [(r.feature_id, r.unit_id, r.role) for r in edited.assignments] == [
        ("S1", "U1", "lead"),
        ("S1", "U2", "lead"),
        ("S1", "U3", "supervisor"),
    ]
