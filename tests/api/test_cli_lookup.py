"""``respmap lookup``: text in the dataset's language, --json, datums, negative numbers, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyproj import Transformer

from api.cli import main
from geo import load_dataset
from geo.datums import wgs84_to_gcj02

DATA = Path(__file__).resolve().parents[1] / "data"
MINI = str(DATA / "mini")
EDGES = str(DATA / "lookup")
TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _lonlat(x: float, y: float) -> tuple[str, str]:
    lon, lat = TO_LONLAT.transform(x, y)
    return f"{lon:.9f}", f"{lat:.9f}"


def test_chinese_answer_names_stretch_units_contacts_standard_and_fallback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--dataset", MINI, "lookup", *_lonlat(600600, 3618805), "--date", "2026-03-01")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].endswith("(WGS-84) · 2026-03-01 · 西片区 (D1)")
    assert lines[1] == (
        "背街小巷 幸福巷 (第2段 400-1000 m, 相距 5 m) -> 市住建局（牵头）, 联系人 刘洋 0915-3200004; "
        "老城街道办事处（监督）, 联系人 陈静 0915-3200005; 标准 二级: 每日普扫2次，巡回保洁14小时，"
        "垃圾滞留不超过60分钟，每万平方米3人，10元/平方米·年，果皮箱间距80米，每公里公厕2座"
    )
    assert lines[2] == "兜底: 西片区指挥部, 联系人 王伟 0915-3200001"


def test_english_dataset_answers_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--dataset", EDGES, "lookup", *_lonlat(600640, 3618655), "--date", "2026-03-01")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("· West district (W)") and lines[0].startswith("Point ")
    assert lines[1].startswith("Back streets Cross lane (5 m away) -> Housing Bureau (lead), contact Liu Yang")
    assert "standard 一级: 3 sweeps a day, 16 h patrol cleaning" in lines[1]
    assert lines[2].startswith("Back streets Diagonal lane (stretch 2 of 2, 300-849 m, 10.6 m away)")
    assert lines[3] == "Fallback: West HQ, contact Wang Wei 0915-1000001"


def test_unheld_feature_says_nobody_holds_it(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "--dataset", MINI, "lookup", *_lonlat(601550, 3618550), "--date", "2026-03-01")
    assert out.splitlines()[1].startswith("无物业管理小区 无人小区 -> 无责任单位; 标准 三级")


def test_json_is_the_lookup_result(capsys: pytest.CaptureFixture[str]) -> None:
    lon, lat = _lonlat(600107, 3618107)
    code, out, _ = _run(capsys, "--dataset", MINI, "lookup", lon, lat, "--date", "2026-03-01", "--json")
    assert code == 0
    answer = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    expected = load_dataset(MINI).lookup(float(lon), float(lat), date="2026-03-01").to_dict()
    assert answer == json.loads(json.dumps(expected))
    assert [m["feature_id"] for m in answer["matches"]] == ["C1", "C2", "D1"]


@pytest.mark.parametrize(
    "argv",
    [
        ["lookup", "-122.4", "37.7"],  # a negative longitude needs no escaping
        ["lookup", "--json", "--", "-122.4", "37.7"],  # nor does it break the usual "--"
        ["lookup", "-122.4,37.7"],  # one LON,LAT argument as copied from a map
        ["lookup", "-122.4,", "37.7"],  # "LON, LAT" pasted with its comma
        ["lookup", "-1.224e2", "37.7"],  # exponent notation
    ],
)
def test_negative_coordinates_parse(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = _run(capsys, "--dataset", MINI, *argv, *([] if "--json" in argv else ["--json"]))
    assert code == 0, err
    answer = json.loads(out)
    assert answer["point"]["lon"] == -122.4 and answer["point"]["lat"] == 37.7
    assert answer["inside_frame"] is False and answer["matches"] == [] and answer["nearest"] is not None


def test_outside_the_frame_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "--dataset", MINI, "lookup", *_lonlat(603000, 3618300), "--date", "2026-03-01")
    assert out.splitlines() == [
        out.splitlines()[0],
        "最近的责任区: 无物业管理小区 无人小区 (C3), 相距 1414.2 m",
    ]
    assert out.splitlines()[0].endswith("不在任何片区内")


def test_gcj02_input_shows_both_datums(capsys: pytest.CaptureFixture[str]) -> None:
    lon, lat = TO_LONLAT.transform(601550, 3618550)
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    code, out, _ = _run(
        capsys, "--dataset", MINI, "lookup", str(gcj_lon), str(gcj_lat), "--crs", "gcj02", "--date", "2026-03-01"
    )
    assert code == 0
    first = out.splitlines()[0]
    assert "(GCJ-02) = WGS-84 " in first and f"{lon:.6f}, {lat:.6f}" in first
    assert "无人小区" in out.splitlines()[1]


def test_projected_epsg_coordinates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--dataset", MINI, "lookup", "600107", "3618107", "--crs", "EPSG:4545", "--json")
    assert code == 0 and [m["feature_id"] for m in json.loads(out)["matches"]][:2] == ["C1", "C2"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lookup", "nan", "32.7"], "longitude nan is not a finite number"),  # NaN
        (["lookup", "109", "inf"], "latitude inf is not a finite number"),  # infinite
        (["lookup", "109", "95"], "latitude 95.0 is out of range"),  # out of range
        (["lookup", "east", "32.7"], "longitude 'east' is not a number"),  # not a number
        (["lookup", "109"], "give LON LAT"),  # only one number
        (["lookup", "109", "32.7", "--crs", "jupiter"], "unknown CRS 'jupiter'"),  # unknown CRS
        (["lookup", "109", "32.7", "--date", "2026-02-30"], "date '2026-02-30' is not a date"),  # no such day
    ],
)
def test_bad_input_is_a_usage_error_without_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, "--dataset", MINI, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
