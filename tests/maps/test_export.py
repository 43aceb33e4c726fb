"""Exports read back: the xlsx (openpyxl), the CSV (BOM, no formulas), GeoJSON (RFC 7946), GeoPackage (pyogrio)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from openpyxl import load_workbook

from api.cli import main
from geo import Dataset, load_dataset
from geo.export import duty_zone_table, export_zones, rfc7946_geometries, write_geojson
from maps.tables import export_table

DATE = "2026-03-01"
MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
HOSTILE_NAME = '=HYPERLINK("http://evil.example","点我")'


def _mini_copy(tmp_path: Path, edit: dict[str, tuple[str, str]] | None = None) -> Path:
    """tests/data/mini copied, with text replaced in some files (file -> (old, new))."""
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    for name, (old, new) in (edit or {}).items():
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


# -- xlsx --------------------------------------------------------------------------------------
def test_xlsx_has_a_sheet_per_layer_plus_units_and_standards(mini_ds: Dataset, tmp_path: Path):
    export_table(mini_ds, tmp_path / "t.xlsx", date=DATE)
    workbook = load_workbook(tmp_path / "t.xlsx")
    assert workbook.sheetnames == ["无物业管理小区", "背街小巷", "责任单位", "保洁标准"]
    zones = mini_ds.zones_on(DATE)
    for title, layer in (("无物业管理小区", "compounds"), ("背街小巷", "streets")):
        sheet = workbook[title]
        assert sheet.max_row - 1 == int((zones["layer"] == layer).sum())
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
    streets = workbook["背街小巷"]
    header = [cell.value for cell in streets[1]]
    assert header[:3] == ["编号", "名称", "所属片区"]
    for expected in ("路段起点（米）", "路段终点（米）", "长度（米）", "责任单位", "角色", "联系人", "联系电话"):
        assert expected in header
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in streets.iter_rows(min_row=2)]
    u2 = next(r for r in rows if r["单位编号"] == "U2")
    assert (u2["路段起点（米）"], u2["路段终点（米）"], u2["长度（米）"]) == (400, 1000, 600)
    assert u2["角色"] == "牵头" and u2["联系电话"] == "0915-3200004"
    # Compounds have no stretches: those columns are left out rather than empty.
    assert "路段起点（米）" not in [cell.value for cell in workbook["无物业管理小区"][1]]
    # The name column is wider than Excel's default and the header fits.
    assert streets.column_dimensions["B"].width >= 8
    units = workbook["责任单位"]
    assert units.max_row - 1 == len(mini_ds.units)
    unit_header = [cell.value for cell in units[1]]
    hq1 = next(row for row in units.iter_rows(min_row=2, values_only=True) if row[0] == "HQ1")
    assert hq1[unit_header.index("属地兜底片区")] == "西片区"
    assert workbook["保洁标准"].max_row - 1 == len(mini_ds.standards)


def test_xlsx_headers_are_english_for_an_english_dataset(tmp_path: Path):
    folder = _mini_copy(tmp_path, {"catalog.toml": ('lang = "zh"', 'lang = "en"')})
    export_table(load_dataset(folder), tmp_path / "t.xlsx", date=DATE)
    workbook = load_workbook(tmp_path / "t.xlsx")
    assert workbook.sheetnames == ["Compounds", "Back streets", "Units", "Standards"]
    header = [cell.value for cell in workbook["Back streets"][1]]
    assert header[:3] == ["Feature ID", "Name", "District"]
    roles = {row[header.index("Role")] for row in workbook["Back streets"].iter_rows(min_row=2, values_only=True)}
    assert roles <= {"lead", "shared", "supervisor", "nobody"}


def test_values_that_look_like_formulas_stay_text(tmp_path: Path):
    folder = _mini_copy(
        tmp_path,
        {
            "streets.geojson": ('"幸福巷"', json.dumps(HOSTILE_NAME, ensure_ascii=False)),
            "units.csv": ("张强", "@SUM(A1:A9)"),
        },
    )
    ds = load_dataset(folder)
    export_table(ds, tmp_path / "t.xlsx", date=DATE)
    export_table(ds, tmp_path / "t.csv", date=DATE)
    sheet = load_workbook(tmp_path / "t.xlsx")["背街小巷"]
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert HOSTILE_NAME in names  # shown exactly as typed...
    with zipfile.ZipFile(tmp_path / "t.xlsx") as archive:
        xml = "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml  # ...and never stored as a formula
    text = (tmp_path / "t.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    cells = [cell for row in rows for cell in row]
    assert "'" + HOSTILE_NAME in cells
    assert "'@SUM(A1:A9)" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


# -- csv ---------------------------------------------------------------------------------------
def test_csv_is_utf8_with_a_bom_and_one_row_per_zone(mini_ds: Dataset, tmp_path: Path):
    count = export_table(mini_ds, tmp_path / "t.csv", date=DATE)
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows then reads UTF-8
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["类别", "编号", "名称"]
    assert len(rows) - 1 == count == len(mini_ds.zones_on(DATE))
    assert any(row[0] == "背街小巷" and row[2] == "幸福巷" for row in rows[1:])


# -- GeoJSON -----------------------------------------------------------------------------------
def test_geojson_is_rfc7946_with_every_joined_attribute(mini_ds: Dataset, tmp_path: Path):
    export_zones(mini_ds, tmp_path / "z.geojson", date=DATE)
    text = (tmp_path / "z.geojson").read_text(encoding="utf-8")
    data = json.loads(text)
    assert "crs" not in data
    assert len(data["features"]) == len(mini_ds.zones_on(DATE))
    props = next(f["properties"] for f in data["features"] if f["properties"]["zone_id"] == "streets/S1/2")
    assert props["unit_id"] == "U2" and props["unit_phone"] == "0915-3200004" and props["unit_contact"] == "刘洋"
    assert (props["from_m"], props["to_m"]) == (400.0, 1000.0)
    assert props["standard_yuan_per_m2_year"] == 10.0 and props["standard_sweeps_per_day"] == 2.0
    assert props["district_name"] == "西片区" and props["layer_title"] == "背街小巷"
    assert "幸福巷" in text  # Chinese stays readable, not \\u escapes
    for feature in data["features"]:
        rings = feature["geometry"]["coordinates"]
        assert shapely.is_ccw(shapely.LinearRing(rings[0]))
        lon, lat = rings[0][0]
        assert 100 < lon < 120 and 20 < lat < 40  # WGS-84 longitude first
    coordinates = json.dumps([f["geometry"]["coordinates"] for f in data["features"]])
    decimals = [len(m) for m in re.findall(r"\d+\.(\d+)", coordinates)]
    assert max(decimals) <= 7  # 1e-7 degrees, about 1 cm


def test_exteriors_come_out_counter_clockwise_and_holes_clockwise(tmp_path: Path):
    # A clockwise exterior with a counter-clockwise hole: both the wrong way for RFC 7946.
    outer = [(109.0, 32.0), (109.0, 32.01), (109.01, 32.01), (109.01, 32.0), (109.0, 32.0)]
    hole = [(109.002, 32.002), (109.004, 32.002), (109.004, 32.004), (109.002, 32.004), (109.002, 32.002)]
    polygon = shapely.Polygon(outer, [hole])
    assert not shapely.is_ccw(polygon.exterior)
    frame = gpd.GeoDataFrame({"name": ["带洞的小区"]}, geometry=[polygon], crs=4326)
    write_geojson(frame, tmp_path / "p.geojson")
    coords = json.loads((tmp_path / "p.geojson").read_text(encoding="utf-8"))["features"][0]["geometry"]["coordinates"]
    assert shapely.is_ccw(shapely.LinearRing(coords[0]))
    assert not shapely.is_ccw(shapely.LinearRing(coords[1]))


def test_rounding_keeps_geometries_valid():
    rng = np.random.default_rng(7)
    polygons = shapely.buffer(shapely.points(109 + rng.random(50) * 0.1, 32.6 + rng.random(50) * 0.1), 1e-4)
    out = rfc7946_geometries(polygons)
    assert shapely.is_valid(out).all()
    assert np.allclose(shapely.area(out), shapely.area(polygons), rtol=1e-3)


# -- GeoPackage --------------------------------------------------------------------------------
def test_gpkg_reads_back_with_zones_and_districts(mini_ds: Dataset, tmp_path: Path):
    export_zones(mini_ds, tmp_path / "z.gpkg", date=DATE)
    layers = {name for name, _kind in pyogrio.list_layers(tmp_path / "z.gpkg")}
    assert layers == {"duty_zones", "districts"}
    zones = pyogrio.read_dataframe(tmp_path / "z.gpkg", layer="duty_zones")
    assert zones.crs.to_epsg() == 4326
    assert len(zones) == len(mini_ds.zones_on(DATE))
    expected = duty_zone_table(mini_ds, DATE)
    assert set(expected.columns) <= set(zones.columns) | {"geometry"}
    s1 = zones[zones["zone_id"] == "streets/S1/1"].iloc[0]
    assert s1["unit_name"] == "市民政局" and s1["unit_contact"] == "张强" and s1["length_m"] == pytest.approx(400.0)
    assert pyogrio.read_dataframe(tmp_path / "z.gpkg", layer="districts").shape[0] == 2


# -- the command --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("t.xlsx", lambda p: load_workbook(p).sheetnames[-1] == "保洁标准"),  # the workbook
        ("t.csv", lambda p: p.read_bytes().startswith(b"\xef\xbb\xbf")),  # Excel-friendly CSV
        ("t.geojson", lambda p: json.loads(p.read_text(encoding="utf-8"))["type"] == "FeatureCollection"),  # GIS
        ("t.gpkg", lambda p: len(pyogrio.read_dataframe(p, layer="duty_zones")) == 7),  # GIS, typed
    ],
)
def test_export_command_writes_each_format(tmp_path: Path, capsys, name, check):
    out = tmp_path / name
    assert main(["--dataset", str(MINI), "export", "-o", str(out), "--date", DATE]) == 0
    assert check(out)
    assert "written" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left beside it


def test_export_command_rejects_an_unknown_type(tmp_path: Path, capsys):
    assert main(["--dataset", str(MINI), "export", "-o", str(tmp_path / "t.docx")]) == 2
    assert ".xlsx, .csv, .geojson or .gpkg" in capsys.readouterr().err


def test_a_failed_export_leaves_the_previous_file_whole(tmp_path: Path, monkeypatch, capsys):
    out = tmp_path / "t.xlsx"
    out.write_bytes(b"the director's copy")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("maps.tables.write_xlsx", broken)
    assert main(["--dataset", str(MINI), "export", "-o", str(out), "--date", DATE]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_bytes() == b"the director's copy"
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]
