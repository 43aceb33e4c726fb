"""``respmap assign`` reads a GeoJSON's declared CRS, as the dataset loader does.

A GeoJSON of complaint points exported from a Swiss GIS carries
``"crs": EPSG:2056``. The dataset loader honours such a member; assign ignored
it and refused every row with "longitude 2683100.0 is out of range", and had
it been a geographic CRS with another datum, would have answered for points
tens of metres off. Without --crs the declared CRS is now used (and said so);
the GeoJSON written is RFC 7946 (WGS-84), not the input's LV95 numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main

WARDS = str(Path(__file__).resolve().parents[1] / "data" / "qa" / "wards_lv95")
LV95_POINTS = {
    "type": "FeatureCollection",
    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2056"}},
    "features": [
        {
            "type": "Feature",
            "properties": {"ticket": "T1"},
            "geometry": {"type": "Point", "coordinates": [2683100, 1247100]},
        },
        {
            "type": "Feature",
            "properties": {"ticket": "T2"},
            "geometry": {"type": "Point", "coordinates": [2683700, 1247100]},
        },
    ],
}


def _assign(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str, out: str = "out.csv") -> tuple[Path, str]:
    source = tmp_path / "tickets.geojson"
    source.write_text(json.dumps(LV95_POINTS), encoding="utf-8")
    target = tmp_path / out
    code = main(["--dataset", WARDS, "assign", str(source), "-o", str(target), *extra])
    err = capsys.readouterr().err
    assert code == 0, err
    return target, err


def test_declared_crs_is_used_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target, err = _assign(tmp_path, capsys)
    text = target.read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[3] for line in text[1:]] == ["1", "3"]  # feature_id: ward 1, then ward 3
    assert "EPSG:2056" in err and "0 with unusable coordinates" in err


def test_geojson_output_is_wgs84(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target, _ = _assign(tmp_path, capsys, out="out.geojson")
    features = json.loads(target.read_text(encoding="utf-8"))["features"]
    lon, lat = features[0]["geometry"]["coordinates"]
    assert lon == pytest.approx(8.538847, abs=1e-5) and lat == pytest.approx(47.369501, abs=1e-5)
    assert features[0]["properties"]["feature_id"] == "1"


def test_explicit_crs_wins_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --crs wgs84 on LV95 numbers: the user asked for it; every row is out of range, and the clash is named
    _, err = _assign(tmp_path, capsys, "--crs", "wgs84")
    assert "EPSG:2056" in err and "--crs" in err
    assert "2 with unusable coordinates" in err
