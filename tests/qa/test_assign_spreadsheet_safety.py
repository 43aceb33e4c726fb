"""``respmap assign`` output opened in Excel must not run formulas taken from the dataset.

The columns assign adds (unit name, feature name, district ...) come from the
dataset, which anyone may have typed: a unit called ``=1+1`` or a place called
``+cmd|' /C calc'!A0`` became live formulas in the CSV that staff open in
Excel. The export writer already neutralises them; assign's writer did not.
The input's own columns are the user's and pass through unchanged.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from api.cli import main

HOSTILE = str(Path(__file__).resolve().parents[1] / "data" / "qa" / "hostile_text")


def _assign(tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str) -> Path:
    source = tmp_path / "points.csv"
    source.write_text("id,lon,lat,note\n=2+2,109.032,32.692,=SUM(1)\n", encoding="utf-8")
    target = tmp_path / f"out{suffix}"
    code = main(["--dataset", HOSTILE, "assign", str(source), "-o", str(target), "--date", "2026-03-01"])
    assert code == 0, capsys.readouterr().err
    return target


def test_added_columns_cannot_become_formulas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _assign(tmp_path, capsys, ".csv")
    with target.open(encoding="utf-8-sig", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["unit_name"] == "'=1+1"  # the lead unit's name, shown as typed, never evaluated
    assert row["name"].startswith("'+cmd|")
    assert row["feature_id"] == "P1"  # plain text is left alone


def test_input_columns_pass_through_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _assign(tmp_path, capsys, ".csv")
    with target.open(encoding="utf-8-sig", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert (row["id"], row["note"]) == ("=2+2", "=SUM(1)")


def test_geojson_output_keeps_the_names_as_they_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GeoJSON is no spreadsheet: a quote prefix there would corrupt the name
    import json

    target = _assign(tmp_path, capsys, ".geojson")
    properties = json.loads(target.read_text(encoding="utf-8"))["features"][0]["properties"]
    assert properties["unit_name"] == "=1+1"
