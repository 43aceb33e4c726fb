"""``respmap coverage``: the summary, --json, -o DIR, and clear errors for bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from api.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
MINI = str(DATA / "mini")
VILLAGE = str(DATA / "coverage" / "village")
FILES = {
    "gaps.geojson",
    "slivers.geojson",
    "frame_overlaps.geojson",
    "conflicts.geojson",
    "nesting.geojson",
    "unheld.geojson",
    "units.csv",
    "districts.csv",
}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_is_one_strict_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--dataset", MINI, "coverage", "--json", "--date", "2026-03-01")
    assert code == 0
    data = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert data["date"] == "2026-03-01"
    assert data["conflicts"]["count"] == 1 and data["conflicts"]["area_m2"] == pytest.approx(25, abs=1e-3)
    assert data["conflicts"]["items"][0]["units"] == ["U1", "U2"]
    assert {u["feature_id"] for u in data["unheld"]} == {"C3", "S1"}
    assert data["gaps"] == {"count": 0, "area_m2": 0.0, "items": []}
    assert data["slivers"]["count"] == 0
    assert [u["unit_id"] for u in data["idle_units"]] == ["U4"]
    u1 = next(u for u in data["units"] if u["unit_id"] == "U1")
    assert (u1["length_m"], u1["area_m2"], u1["cost_yuan"]) == pytest.approx((400, 2100, 21000))
    assert data["totals"]["area_m2"] == pytest.approx(9_200)


def test_summary_in_chinese_names_the_problems(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--dataset", MINI, "coverage", "--date", "2026-03-01")
    assert code == 0
    assert "覆盖分析 · 状态日期 2026-03-01（--date 指定）" in out  # the date and where it comes from
    # the conflict with its 25 m², both compounds and both units
    assert "25 m²" in out and "幸福小区 (C1)" in out and "市住建局 (U2)" in out
    # what nobody holds: C3, and S1 from 1000 to 1200 m with the HQ that answers for it
    assert "无人小区 (C3)" in out and "幸福巷 (S1) 1000-1200 m" in out and "兜底 HQ2" in out
    assert "空闲单位 (U4)" in out


def test_summary_in_english_lists_shortfalls(capsys: pytest.CaptureFixture[str]) -> None:
    # VIL needs 80 cleaners and has 50; CPA needs 1.58 and has 1
    code, out, _ = _run(capsys, "--dataset", VILLAGE, "coverage", "--date", "2026-03-01")
    assert code == 0
    assert "units most short of staff" in out
    lines = out.splitlines()
    short = lines.index("units most short of staff:")
    assert lines[short + 1].strip().startswith("Hanjia village committee (VIL)  needs 80.0, has 50, short by 30.0")
    assert "Yard company A (CPA)" in lines[short + 2]
    assert "two lead units" in out and "junction" in out


def test_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "new" / "coverage"  # created when missing
    code, out, _ = _run(capsys, "--dataset", MINI, "coverage", "--date", "2026-03-01", "-o", str(out_dir))
    assert code == 0
    assert {p.name for p in out_dir.iterdir()} == FILES  # no temporary files left behind
    conflicts = json.loads((out_dir / "conflicts.geojson").read_text(encoding="utf-8"))
    assert conflicts["type"] == "FeatureCollection" and len(conflicts["features"]) == 1
    props = conflicts["features"][0]["properties"]
    assert props["unit_ids"] == ["U1", "U2"] and props["area_m2"] == pytest.approx(25, abs=1e-3)
    lon, lat = conflicts["features"][0]["geometry"]["coordinates"][0][0]
    assert 109.0 < lon < 109.1 and 32.6 < lat < 32.7  # WGS-84
    unheld = json.loads((out_dir / "unheld.geojson").read_text(encoding="utf-8"))
    assert sorted(f["properties"]["feature_id"] for f in unheld["features"]) == ["C3", "S1"]
    assert json.loads((out_dir / "gaps.geojson").read_text()) == {"type": "FeatureCollection", "features": []}
    # CSV: UTF-8 with a BOM for Excel, Chinese intact
    raw = (out_dir / "units.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert {r["unit_id"]: r["name"] for r in rows}["U1"] == "市民政局"
    assert float({r["unit_id"]: r["area_m2"] for r in rows}["U2"]) == pytest.approx(3_100)
    districts = list(csv.DictReader((out_dir / "districts.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [d["district_id"] for d in districts] == ["D1", "D2"]
    assert str(out_dir / "units.csv") in out


def test_output_and_json_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--dataset", MINI, "coverage", "--json", "-o", str(tmp_path))
    assert code == 0
    assert len(json.loads(out)["files"]) == len(FILES)


def test_existing_files_are_replaced_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # an old units.csv is replaced by the new one, never appended to or left half written
    (tmp_path / "units.csv").write_text("old\n")
    assert _run(capsys, "--dataset", MINI, "coverage", "-o", str(tmp_path))[0] == 0
    assert (tmp_path / "units.csv").read_text(encoding="utf-8-sig").startswith("unit_id,")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--date", "2026-02-30"], 2, "is not a date"),  # a day that does not exist
        (["--sliver-m2", "-1"], 2, "--sliver-m2 must be a number >= 0"),  # a negative area
        (["--sliver-m2", "nan"], 2, "--sliver-m2 must be a number >= 0"),  # NaN slips through float()
        (["--sliver-m2", "lots"], 2, "invalid float value"),  # not a number at all
        (["--sliver-width-m", "-3"], 2, "--sliver-width-m"),  # a negative width
    ],
)
def test_bad_arguments(capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str) -> None:
    result, out, err = _run(capsys, "--dataset", MINI, "coverage", *argv)
    assert result == code
    assert message in err and "Traceback" not in err + out


def test_boundary_layer(capsys: pytest.CaptureFixture[str]) -> None:
    # the ring fixture's city boundary reaches 200 m past its 3 km frame: a 600,000 m² gap
    ring = str(DATA / "coverage" / "ring")
    code, out, _ = _run(capsys, "--dataset", ring, "coverage", "--json", "--boundary-layer", "city")
    assert code == 0
    gaps = json.loads(out)["gaps"]
    assert gaps["area_m2"] == pytest.approx(640_000, abs=0.1)
    assert sorted(item["kind"] for item in gaps["items"]) == ["hole", "outside_frame"]
    code, _, err = _run(capsys, "--dataset", ring, "coverage", "--boundary-layer", "nowhere")
    assert code == 2 and "boundary layer 'nowhere'" in err


def test_output_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # -o naming an existing file: a usage error, and the file is untouched
    target = tmp_path / "report.txt"
    target.write_text("keep me")
    code, _, err = _run(capsys, "--dataset", MINI, "coverage", "-o", str(target))
    assert code == 2 and "is not a folder" in err
    assert target.read_text() == "keep me"


def test_missing_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--dataset", str(tmp_path / "nowhere"), "coverage")
    assert code == 2 and "does not exist" in err
