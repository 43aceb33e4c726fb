"""The corpus of broken inputs: every one gets a clear finding, never a traceback.

Each folder under tests/data/broken/ holds the files that differ from a base
dataset (mini or mini_wgs84) and a ``case.toml`` saying why the case exists and
which finding it must produce. The test lays the case over a copy of its base,
loads it, and checks the finding's code, level, file and feature, that the
message names the file, and that ``respmap validate`` exits as it should with
nothing on stderr that looks like a traceback.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from api.cli import main
from geo import load_dataset

DATA = Path(__file__).resolve().parent
CASES = sorted(p for p in (DATA / "broken").iterdir() if (p / "case.toml").is_file())


def _materialise(case_dir: Path, tmp_path: Path) -> tuple[Path, dict]:
    spec = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    target = tmp_path / case_dir.name
    shutil.copytree(DATA / spec["base"], target)
    for name in spec["delete"]:
        (target / name).unlink()
    for item in case_dir.iterdir():
        if item.name != "case.toml":
            shutil.copy(item, target / item.name)
    return target, spec


def test_corpus_is_big_enough() -> None:
    # the foundation issue asks for at least 25 broken inputs
    assert len(CASES) >= 25


@pytest.mark.parametrize("case_dir", CASES, ids=[c.name for c in CASES])
def test_broken_input_gets_a_clear_finding(case_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # why each case exists is written in its case.toml ("why")
    folder, spec = _materialise(case_dir, tmp_path)
    ds = load_dataset(folder)
    matching = [f for f in ds.findings if f.code == spec["code"]]
    assert matching, f"{spec['why']}: expected {spec['code']}, got {[(f.code, f.message) for f in ds.findings]}"
    finding = next((f for f in matching if f.file == spec["file"]), None)
    assert finding is not None, f"{spec['code']} should name {spec['file']}: {[(f.file, f.message) for f in matching]}"
    assert finding.level == spec["level"]
    assert spec["file"] in finding.message
    if spec["feature_id"]:
        assert finding.feature_id == spec["feature_id"]
        assert spec["feature_id"] in finding.message
    for fragment in spec["message_contains"]:
        assert fragment in finding.message

    code = main(["validate", "--dataset", str(folder), "--json"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert "Traceback" not in err and "Traceback" not in out
    has_errors = any(f.level == "error" for f in ds.findings)
    assert code == (1 if has_errors else 0)
    assert report["ok"] is (not has_errors)
    assert any(f["code"] == spec["code"] and f["file"] == spec["file"] for f in report["findings"])


def test_good_features_survive_a_bad_neighbour(tmp_path: Path) -> None:
    # a duplicate id drops only the duplicate: S1 (first) and S2 stay usable
    folder, _ = _materialise(DATA / "broken" / "11_duplicate_feature_id", tmp_path)
    ds = load_dataset(folder)
    streets = ds.layers["streets"]
    assert sorted(streets["feature_id"]) == ["S1", "S2"]
    assert streets.loc[streets["feature_id"] == "S1", "name"].item() == "测试巷"
    assert len(ds.layers["compounds"]) == 3


def test_gbk_units_are_read_correctly(tmp_path: Path) -> None:
    # reading GB18030 must give the right Chinese names, not mojibake
    folder, _ = _materialise(DATA / "broken" / "21_gbk_csv", tmp_path)
    ds = load_dataset(folder)
    assert "市民政局" in set(ds.units["name"])
    assert ds.ok


def test_fix_repairs_and_reports_and_keeps_originals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --fix turns the bow-tie error into a reported repair and writes a copy beside the original
    folder, _ = _materialise(DATA / "broken" / "06_self_intersecting_polygon", tmp_path)
    original = (folder / "compounds.geojson").read_bytes()
    assert main(["validate", "--dataset", str(folder), "--fix"]) == 0
    out = capsys.readouterr().out
    assert "geometry_repaired" in out
    assert (folder / "compounds.geojson").read_bytes() == original
    fixed = load_dataset(folder)  # the original is still broken
    assert any(f.code == "geometry_invalid" for f in fixed.findings)
    repaired = json.loads((folder / "compounds.fixed.geojson").read_text(encoding="utf-8"))
    assert len(repaired["features"]) == 3


def test_old_crs_member_is_honoured(tmp_path: Path) -> None:
    # EPSG:4269 (NAD83) declared in the file: coordinates are read as NAD83, and stay within a metre of WGS-84
    folder, _ = _materialise(DATA / "broken" / "32_old_crs_member", tmp_path)
    ds = load_dataset(folder)
    base = load_dataset(DATA / "mini_wgs84")
    moved = ds.layers["streets"].to_crs(4545).distance(base.layers["streets"].to_crs(4545))
    assert moved.max() < 1.0
    assert ds.ok


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # a wrong option or a missing folder is a usage message, never a traceback
    assert main(["validate", "--dataset", "/no/such/folder"]) == 2
    assert main(["validate", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
