"""Loading and joining: the Dataset and its duty zones, on data with known answers."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo import Dataset, load_dataset
from tests import demo_points as points

DATA = Path(__file__).resolve().parents[1] / "data"


def _zone(ds: Dataset, feature_id: str, unit_id: str) -> pd.Series:
    zones = ds.duty_zones
    rows = zones[(zones["feature_id"] == feature_id) & (zones["unit_id"] == unit_id)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_mini_loads_clean(mini_ds: Dataset) -> None:
    # the mini dataset's only findings are its two planted warnings
    assert mini_ds.ok
    assert sorted(f.code for f in mini_ds.findings) == ["feature_unheld", "unit_unused"]
    assert mini_ds.feature_counts() == {"districts": 2, "compounds": 3, "streets": 2}


def test_stretch_lengths_and_areas_are_exact(mini_ds: Dataset) -> None:
    # S1 is 1200 m, 5 m wide: U1 holds 0-400 m (2000 m²), U2 400-1000 m (3000 m²)
    first, second = _zone(mini_ds, "S1", "U1"), _zone(mini_ds, "S1", "U2")
    assert (first["from_m"], first["to_m"], first["length_m"], first["area_m2"]) == (0, 400, 400, 2000)
    assert (second["from_m"], second["to_m"], second["length_m"], second["area_m2"]) == (400, 1000, 600, 3000)
    assert first["role"] == second["role"] == "lead"
    assert _zone(mini_ds, "S1", "U3")["role"] == "supervisor"


def test_stretch_zone_has_flat_cut_and_round_end(mini_ds: Dataset) -> None:
    # 0-400 m of a straight street, tolerance 15 m: a 400 x 30 m box plus a half disc at the street's start
    zone = _zone(mini_ds, "S1", "U1")["zone_metric"]
    expected = 400 * 30 + math.pi * 15**2 / 2
    assert zone.area == pytest.approx(expected, rel=2e-3)
    # the flat cut at 400 m: a point at 401 m along is outside, one at 399 m inside
    assert not zone.covers(shapely.Point(600401, 3618800))
    assert zone.covers(shapely.Point(600399, 3618800))


def test_polygon_area_in_metres(mini_ds: Dataset) -> None:
    # C1 is a 10 m square; C3 a 100 m square
    assert _zone(mini_ds, "C1", "U1")["area_m2"] == pytest.approx(100)
    assert _zone(mini_ds, "C3", "")["area_m2"] == pytest.approx(10_000)


def test_zone_geometry_is_wgs84_and_metric(mini_ds: Dataset) -> None:
    zones = mini_ds.duty_zones
    assert zones.crs.to_epsg() == 4326
    assert zones["zone_metric"].crs.to_epsg() == 4545
    minx, miny, maxx, maxy = zones.total_bounds
    assert 108.9 < minx < maxx < 109.2 and 32.6 < miny < maxy < 32.8


def test_districts_and_fallback_units(mini_ds: Dataset) -> None:
    assert list(mini_ds.frame["fallback_unit"]) == ["HQ1", "HQ2"]
    assert _zone(mini_ds, "C3", "")["district_id"] == "D2"
    assert _zone(mini_ds, "C1", "U1")["district_id"] == "D1"


@pytest.mark.parametrize(
    ("date", "unit"),
    [
        ("2025-12-31", "U1"),  # last day of the old unit
        ("2026-01-01", "U3"),  # first day of the new one
    ],
)
def test_change_of_unit_over_time(mini_ds: Dataset, date: str, unit: str) -> None:
    zones = mini_ds.zones_on(date)
    assert list(zones.loc[zones["feature_id"] == "S2", "unit_id"]) == [unit]


def test_expired_assignment_leaves_feature_unheld_not_gone(tmp_path: Path) -> None:
    # if S2's last holder's term ends, S2 must show as unheld, not vanish
    folder = tmp_path / "mini"
    shutil.copytree(DATA / "mini", folder)
    text = (
        (folder / "assignments.csv")
        .read_text(encoding="utf-8")
        .replace("S2,U3,lead,,,2026-01-01,", "S2,U3,lead,,,2026-01-01,2026-02-01")
    )
    (folder / "assignments.csv").write_text(text, encoding="utf-8")
    zones = load_dataset(folder).zones_on("2026-06-01")
    s2 = zones[zones["feature_id"] == "S2"]
    assert list(s2["unit_id"]) == [""]
    assert s2["length_m"].item() == pytest.approx(500)


def test_foreign_dataset_needs_only_a_catalog() -> None:
    # a US-style sweeping file: NAD83 crs member, clockwise rings, numeric ids, unit in "District"
    ds = load_dataset(DATA / "foreign_sweeping")
    assert ds.ok
    codes = {f.code for f in ds.findings}
    assert {"crs_member", "ring_orientation"} <= codes
    assert sorted(ds.units["unit_id"]) == [
        "North Sweeping District",
        "South Sweeping District",
        "West Sweeping District",
    ]
    zones = ds.duty_zones
    assert list(zones.sort_values("feature_id")["feature_id"]) == [str(i) for i in range(101, 107)]
    assert set(zones["unit_id"]) == set(ds.units["unit_id"])
    # the route with a hole keeps it, and every outer ring is now counter-clockwise
    with_hole = zones.loc[zones["feature_id"] == "105", "geometry"].item()
    assert len(with_hole.interiors) == 1
    assert all(shapely.is_ccw(g.exterior) for g in zones.geometry)
    # a metric CRS is chosen for it (UTM zone 16N at Chicago's longitude)
    assert ds.metric_crs.to_epsg() == 32616


def test_gcj02_dataset_is_converted_to_wgs84(tmp_path: Path) -> None:
    # the same streets digitised on a Chinese map app (GCJ-02) must land back on the WGS-84 originals
    from geo.datums import wgs84_to_gcj02

    folder = tmp_path / "gcj"
    shutil.copytree(DATA / "mini_wgs84", folder)
    base = load_dataset(folder)
    layer = base.layers["streets"][["feature_id", "name", "grade", "width_m", "geometry"]].rename(
        columns={"feature_id": "id"}
    )
    shifted = layer.copy()
    shifted["geometry"] = shapely.transform(
        layer.geometry.values, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    )
    shifted.to_file(folder / "streets.geojson", driver="GeoJSON")
    catalog = (
        (folder / "catalog.toml").read_text(encoding="utf-8").replace('lang = "zh"', 'lang = "zh"\ndatum = "gcj02"')
    )
    (folder / "catalog.toml").write_text(catalog, encoding="utf-8")
    converted = load_dataset(folder)
    offsets = converted.layers["streets"].to_crs(4545).distance(base.layers["streets"].to_crs(4545))
    assert offsets.max() < 0.5


def test_geopackage_and_zipped_shapefile_layers(tmp_path: Path) -> None:
    # layers may be GeoPackage or zipped Shapefile: the same dataset, the same zones
    folder = tmp_path / "ogr"
    shutil.copytree(DATA / "mini_wgs84", folder)
    base = load_dataset(folder)
    catalog = (folder / "catalog.toml").read_text(encoding="utf-8")
    layer = base.layers["compounds"][["feature_id", "name", "grade", "geometry"]].rename(columns={"feature_id": "id"})
    pyogrio.write_dataframe(layer, folder / "compounds.gpkg")
    streets = base.layers["streets"][["feature_id", "name", "grade", "width_m", "geometry"]].rename(
        columns={"feature_id": "id"}
    )
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    pyogrio.write_dataframe(streets, shp_dir / "streets.shp", encoding="UTF-8")
    shutil.make_archive(str(folder / "streets"), "zip", shp_dir)
    catalog = catalog.replace('file = "compounds.geojson"', 'file = "compounds.gpkg"').replace(
        'file = "streets.geojson"', 'file = "streets.zip"'
    )
    (folder / "catalog.toml").write_text(catalog, encoding="utf-8")
    other = load_dataset(folder)
    assert other.ok, [f.message for f in other.findings if f.level == "error"]
    columns = ["zone_id", "unit_id", "role", "from_m", "to_m", "name"]
    pd.testing.assert_frame_equal(
        other.duty_zones[columns].reset_index(drop=True), base.duty_zones[columns].reset_index(drop=True)
    )
    assert np.allclose(other.duty_zones["area_m2"], base.duty_zones["area_m2"], rtol=1e-6, equal_nan=True)


def test_demo_validates_with_only_its_planted_warnings(demo_ds: Dataset) -> None:
    # layers/ankang/README.md lists the planted problems: they are warnings, not errors
    assert demo_ds.ok
    assert demo_ds.feature_counts() == {
        "districts": 16,
        "urban_villages": 24,
        "back_streets": 177,
        "unmanaged_compounds": 65,
        "city_entrances": 6,
        "riverbank_segments": 8,
        "facilities": 150,
    }
    unheld = [f.feature_id for f in demo_ds.findings if f.code == "feature_unheld"]
    idle = [f.feature_id for f in demo_ds.findings if f.code == "unit_unused"]
    assert unheld == [points.UNHELD_COMPOUND] and points.IDLE_UNIT in idle
    # Idle is judged on the reference date (as coverage does). Besides the planted idle unit, a unit may be
    # idle only because the demo's lead change of 2026-01-01 took its one duty away; the demo generator
    # keeps such a unit busy (layers/demo/organisation.py), so this is exactly the planted one.
    assert idle == [points.IDLE_UNIT]
    on_date = demo_ds.zones_on()
    for unit_id in set(idle) - {points.IDLE_UNIT}:
        rows = demo_ds.assignments[demo_ds.assignments["unit_id"] == unit_id]
        assert len(rows) and (rows["valid_until"] < demo_ds.reference_date).all(), unit_id
        assert unit_id not in set(on_date["unit_id"])
    assert idle == list(demo_ds.coverage().idle_units)
    assert all(f.level != "error" for f in demo_ds.findings)


def test_demo_round_trips_through_geopackage(demo_ds: Dataset, tmp_path: Path) -> None:
    # every demo layer written to one GeoPackage and read back gives the same dataset
    folder = tmp_path / "ankang_gpkg"
    shutil.copytree(demo_ds.path, folder)
    catalog = (folder / "catalog.toml").read_text(encoding="utf-8")
    for spec in demo_ds.catalog.layers:
        source = pyogrio.read_dataframe(folder / spec.file)
        pyogrio.write_dataframe(source, folder / f"{spec.id}.gpkg")
        (folder / spec.file).unlink()
        catalog = catalog.replace(f'file = "{spec.file}"', f'file = "{spec.id}.gpkg"')
    (folder / "catalog.toml").write_text(catalog, encoding="utf-8")
    again = load_dataset(folder)
    assert again.ok and again.feature_counts() == demo_ds.feature_counts()
    columns = [
        "zone_id",
        "layer",
        "feature_id",
        "name",
        "unit_id",
        "role",
        "standard_id",
        "from_m",
        "to_m",
        "district_id",
    ]
    pd.testing.assert_frame_equal(again.duty_zones[columns], demo_ds.duty_zones[columns])
    assert np.allclose(again.duty_zones["area_m2"], demo_ds.duty_zones["area_m2"], rtol=1e-9, equal_nan=True)
    assert shapely.equals_exact(
        np.asarray(again.duty_zones.geometry.values), np.asarray(demo_ds.duty_zones.geometry.values), tolerance=1e-9
    ).all()
    assert [f.code for f in again.findings] == [f.code for f in demo_ds.findings]


def test_frame_only_dataset_loads(tmp_path: Path) -> None:
    # a folder with only the districts must load (no duty zones at all), not crash
    folder = tmp_path / "frame_only"
    folder.mkdir()
    shutil.copy(DATA / "mini" / "districts.geojson", folder)
    (folder / "catalog.toml").write_text(
        '[dataset]\nname = "f"\ncrs = "EPSG:4545"\n[frame]\nlayer = "districts"\n'
        '[[layer]]\nid = "districts"\nfile = "districts.geojson"\ngeometry = "polygon"\n',
        encoding="utf-8",
    )
    ds = load_dataset(folder)
    assert ds.ok and len(ds.duty_zones) == 0 and len(ds.zones_on("2026-01-01")) == 0


def test_boundary_layer_from_catalog_counts_uncovered_city(tmp_path: Path) -> None:
    # a city boundary 2200 m wide around 2000 m of districts: 200 x 1000 m of the city is in no district
    folder = tmp_path / "bounded"
    shutil.copytree(DATA / "mini", folder)
    (folder / "city.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "CITY", "name": "城区"}, '
        '"geometry": {"type": "Polygon", "coordinates": [[[600000, 3618000], [602200, 3618000], [602200, 3619000], '
        "[600000, 3619000], [600000, 3618000]]]}}]}",
        encoding="utf-8",
    )
    catalog = (folder / "catalog.toml").read_text(encoding="utf-8")
    catalog = catalog.replace(
        'fallback_unit_field = "hq_unit"', 'fallback_unit_field = "hq_unit"\nboundary_layer = "city"'
    )
    catalog += '\n[[layer]]\nid = "city"\nfile = "city.geojson"\ngeometry = "polygon"\n'
    (folder / "catalog.toml").write_text(catalog, encoding="utf-8")
    ds = load_dataset(folder)
    assert ds.ok and ds.catalog.frame.boundary_layer == "city"
    assert "city" not in set(ds.duty_zones["layer"])  # a boundary is not a place anybody cleans
    report = ds.coverage("2026-03-01")
    assert report.to_dict()["gaps"]["area_m2"] == pytest.approx(200 * 1000, rel=1e-6)


def test_multipart_street_stretches_measure_like_project(tmp_path: Path) -> None:
    # parts x 600000-600100 and 600200-600300 (a 100 m gap that is not street): 200 m in all.
    # U1 holds 0-150 m (all of part 1, 50 m of part 2), U2 150-200 m: x 600250-600300.
    folder = tmp_path / "multi"
    shutil.copytree(DATA / "mini", folder)
    (folder / "streets.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "S1", "name": "断头巷", '
        '"grade": "二级", "width_m": 5}, "geometry": {"type": "MultiLineString", "coordinates": '
        "[[[600000, 3618800], [600100, 3618800]], [[600200, 3618800], [600300, 3618800]]]}}]}",
        encoding="utf-8",
    )
    (folder / "assignments.csv").write_text(
        "feature_id,unit_id,role,from_m,to_m,valid_from,valid_until\nS1,U1,lead,0,150,,\nS1,U2,lead,150,200,,\n",
        encoding="utf-8",
    )
    ds = load_dataset(folder)
    assert ds.ok, [f.message for f in ds.findings if f.level == "error"]
    point = shapely.Point(600270, 3618800)
    line = ds.layers["streets"].to_crs(4545).geometry.iloc[0]
    assert line.project(point) == pytest.approx(170)
    first, second = _zone(ds, "S1", "U1"), _zone(ds, "S1", "U2")
    assert second["zone_metric"].covers(point) and not first["zone_metric"].covers(point)
    assert first["zone_metric"].covers(shapely.Point(600230, 3618800))
    # and the lookup agrees with the drawn zone
    lon, lat = gpd.GeoSeries([point], crs=4545).to_crs(4326).iloc[0].coords[0]
    best = ds.lookup(lon, lat, date="2026-03-01").to_dict()["matches"][0]
    assert [u["unit_id"] for u in best["units"]] == ["U2"]


def test_derived_values_are_cached_and_bounded_per_kind(mini_ds: Dataset) -> None:
    # dates come from requests: a client asking for 100 dates must not grow the cache without end
    for day in range(1, 101):
        mini_ds.zones_on(f"2026-01-{(day % 28) + 1:02d}") if day <= 28 else mini_ds.zones_on(
            f"2025-{(day % 12) + 1:02d}-15"
        )
    kinds = [key for key in mini_ds._cache if isinstance(key, tuple) and key[0] == "zones_on"]
    assert 0 < len(kinds) <= 16
    first = mini_ds.zones_on("2026-03-01")
    assert mini_ds.zones_on("2026-03-01") is first  # a hit returns the same object
