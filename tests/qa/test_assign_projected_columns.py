"""Columns named for projected coordinates are found without flags.

Exports in a national grid name their columns Easting/Northing (British and
Swiss GIS) or X坐标/Y坐标 (Chinese survey tables); assign only knew lon/x and
lat/y and stopped with "no longitude column found".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main

WARDS = str(Path(__file__).resolve().parents[1] / "data" / "qa" / "wards_lv95")


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ("Easting", "Northing"),  # British and Swiss exports
        ("X坐标", "Y坐标"),  # Chinese survey tables
        ("东坐标", "北坐标"),  # the same, by direction
    ],
)
def test_projected_column_names(tmp_path: Path, capsys: pytest.CaptureFixture[str], lon: str, lat: str) -> None:
    source = tmp_path / "p.csv"
    source.write_text(f"id,{lon},{lat}\nT1,2683100,1247100\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    code = main(["--dataset", WARDS, "assign", str(source), "-o", str(target), "--crs", "EPSG:2056"])
    assert code == 0, capsys.readouterr().err
    header, row = target.read_text(encoding="utf-8-sig").splitlines()
    assert dict(zip(header.split(","), row.split(","), strict=True))["feature_id"] == "1"
