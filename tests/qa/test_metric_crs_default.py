"""Lengths and areas in the user's own metres when the data comes in a national grid.

With ``metric_crs`` left out, respmap measured everything in a UTM zone. For a
dataset digitised in British National Grid or Swiss LV95 that disagrees with
the user's own GIS by 0.02-0.04 %: a 2,000 m street split 0-1000 / 1000-2000 m
came out 2,000.65 m long, with a phantom 0.65 m stretch that "nobody holds"
(and "stretch 1 of 3" in every lookup), and near a UTM central meridian a
stretch ending at the street's end was refused as running beyond it.
A projected source CRS in metres whose scale is true to within 0.2 % at the
data is now the default metric CRS; Web Mercator (scale 1/cos(latitude)) is not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from geo import load_dataset

QA = Path(__file__).resolve().parents[1] / "data" / "qa"


def test_bng_street_is_measured_in_bng() -> None:
    ds = load_dataset(QA / "frameless_bng")
    assert ds.metric_crs.to_epsg() == 27700
    zones = ds.zones_on("2026-03-01")
    street = zones[zones["feature_id"] == "10000"]
    assert sorted(street["length_m"]) == pytest.approx([1000.0, 1000.0], abs=1e-3)


def test_split_street_has_no_phantom_unheld_tail() -> None:
    ds = load_dataset(QA / "frameless_bng")
    report = ds.coverage("2026-03-01")
    assert report.unheld.empty
    result = ds.lookup(530500, 180005, crs="EPSG:27700", date="2026-03-01")
    assert (result.best.stretch.number, result.best.stretch.count) == (1, 2)


def test_lv95_ward_area_is_exact() -> None:
    ds = load_dataset(QA / "wards_lv95")
    assert ds.metric_crs.to_epsg() == 2056
    zones = ds.zones_on("2026-03-01")
    ward_1 = zones[(zones["layer"] == "wards") & (zones["feature_id"] == "1")]
    assert ward_1["area_m2"].iat[0] == pytest.approx(250_000.0, abs=1e-3)


def test_stretch_to_the_end_near_a_utm_central_meridian_is_accepted(tmp_path: Path) -> None:
    # A 3000 m LV95 street near Zürich (UTM 32N scale 0.9996 there, 1.2 m short): 0-3000 m is the whole street
    folder = tmp_path / "lv95_street"
    folder.mkdir()
    (folder / "catalog.toml").write_text(
        '[dataset]\nname = "LV95 street"\nlang = "en"\ncrs = "EPSG:2056"\n\n'
        '[[layer]]\nid = "streets"\nfile = "streets.geojson"\ngeometry = "line"\ntolerance_m = 5\n',
        encoding="utf-8",
    )
    line = {"type": "LineString", "coordinates": [[2683000, 1247000], [2686000, 1247000]]}
    feature = {"type": "Feature", "properties": {"id": "S1", "name": "Bahnhofstrasse"}, "geometry": line}
    (folder / "streets.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    (folder / "units.csv").write_text("unit_id,name\nERZ,ERZ\n", encoding="utf-8")
    (folder / "assignments.csv").write_text("feature_id,unit_id,from_m,to_m\nS1,ERZ,0,3000\n", encoding="utf-8")
    ds = load_dataset(folder)
    assert [f.code for f in ds.findings if f.level == "error"] == []
    assert ds.coverage().unheld.empty


@pytest.mark.parametrize(
    ("crs", "x", "y", "expected_epsg"),
    [
        # Web Mercator in Ankang: scale 1/cos(32.7°) = 1.19, areas 41 % too large: a UTM zone instead
        ("EPSG:3857", 12137000.0, 3854000.0, 32649),
        # CGCS2000 3-degree Gauss-Krüger zone 36 (CM 108°E) at Ankang: true to scale, kept
        ("EPSG:4545", 600000.0, 3618800.0, 4545),
    ],
)
def test_which_projected_crs_is_kept(tmp_path: Path, crs: str, x: float, y: float, expected_epsg: int) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "catalog.toml").write_text(
        f'[dataset]\nname = "one"\nlang = "en"\ncrs = "{crs}"\n\n'
        '[[layer]]\nid = "places"\nfile = "places.geojson"\ngeometry = "polygon"\n',
        encoding="utf-8",
    )
    square = shapely.geometry.mapping(shapely.box(x, y, x + 100, y + 100))
    feature = {"type": "Feature", "properties": {"id": "P1", "name": "P1"}, "geometry": square}
    (folder / "places.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    ds = load_dataset(folder)
    assert ds.metric_crs.to_epsg() == expected_epsg
