"""Batch lookup: one row per point, the same best answer as single lookups and as brute force.

The brute force here is deliberately naive and independent of the grid index: for
each point it measures every feature with shapely in the metric CRS, projects onto
lines with ``line_locate_point`` and picks the best by (priority, distance, feature
order, earlier stretch).
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from geo import Dataset, load_dataset
from geo.datums import wgs84_to_gcj02
from geo.lookup import lookup, lookup_many

LOOKUP_DIR = Path(__file__).resolve().parents[1] / "data" / "lookup"
TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)
DAY = "2026-03-01"
EPS_M = 1e-6
ROLE_ORDER = {"lead": 0, "shared": 1, "supervisor": 2}
COLUMNS = [
    "layer",
    "layer_title",
    "feature_id",
    "name",
    "unit_id",
    "unit_name",
    "role",
    "unit_ids",
    "standard_id",
    "grade",
    "from_m",
    "to_m",
    "distance_m",
    "fallback",
    "priority",
    "district_id",
    "inside_frame",
    "error",
]


@pytest.fixture(scope="module")
def edge_ds() -> Dataset:
    return load_dataset(LOOKUP_DIR)


@pytest.fixture(scope="module")
def multi_ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """tests/data/lookup plus multi-part features, and a 5 m tolerance round the villages.

    K3: a compound of two squares (601100..601150 and 601200..601250, y 3618100..3618150).
    T3: a street in two parts with a 100 m gap, (601100, 3618300) -> (601300, 3618300) and
    (601400, 3618300) -> (601600, 3618320), 401 m long without the gap (as line.project measures);
    U1 holds 0-150 m, U2 150 m to the end.
    """
    folder = tmp_path_factory.mktemp("lookup_multi")
    shutil.copytree(LOOKUP_DIR, folder, dirs_exist_ok=True)
    catalog = (folder / "catalog.toml").read_text(encoding="utf-8")
    catalog = catalog.replace('file = "villages.geojson"', 'file = "villages.geojson"\ntolerance_m = 5')
    (folder / "catalog.toml").write_text(catalog, encoding="utf-8")
    for name, feature in (
        (
            "compounds.geojson",
            {
                "type": "Feature",
                "properties": {"id": "K3", "name": "Twin court", "grade": "二级"},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [
                            [
                                [601100, 3618100],
                                [601150, 3618100],
                                [601150, 3618150],
                                [601100, 3618150],
                                [601100, 3618100],
                            ]
                        ],
                        [
                            [
                                [601200, 3618100],
                                [601250, 3618100],
                                [601250, 3618150],
                                [601200, 3618150],
                                [601200, 3618100],
                            ]
                        ],
                    ],
                },
            },
        ),
        (
            "streets.geojson",
            {
                "type": "Feature",
                "properties": {"id": "T3", "name": "Broken lane", "grade": "二级", "width_m": 5},
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [[[601100, 3618300], [601300, 3618300]], [[601400, 3618300], [601600, 3618320]]],
                },
            },
        ),
    ):
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        data["features"].append(feature)
        (folder / name).write_text(json.dumps(data), encoding="utf-8")
    with (folder / "assignments.csv").open("a", encoding="utf-8") as handle:
        handle.write("K3,U2,lead,,,,\nT3,U1,lead,0,150,,\nT3,U2,lead,150,401,,\n")
    ds = load_dataset(folder)
    assert ds.ok, [f.message for f in ds.findings if f.level == "error"]
    return ds


def brute_best(ds: Dataset, date: str, lon: float, lat: float) -> tuple[Any, ...]:
    """(layer, feature_id, unit_id, role, from_m, distance_m, district_id) by measuring everything."""
    x, y = TO_METRIC.transform(lon, lat)
    point = shapely.Point(x, y)
    features = ds.duty_zones.drop_duplicates(["layer", "feature_id"])
    current = ds.zones_on(date)
    candidates = []
    for order, feature in enumerate(features.itertuples()):
        geometry = feature.feature_metric
        radius = feature.tolerance_m if feature.kind == "polygon" else max(feature.tolerance_m, 0.5)
        inside = feature.kind == "polygon" and shapely.intersects(geometry, point)
        distance = 0.0 if inside else float(shapely.distance(geometry, point))
        if distance > radius + EPS_M:
            continue
        distance = 0.0 if distance <= EPS_M else distance
        rows = current[(current["layer"] == feature.layer) & (current["feature_id"] == feature.feature_id)]
        rows = rows[rows["unit_id"] != ""]
        piece_from = math.nan
        if feature.kind == "line" and rows["from_m"].notna().any():
            along = float(shapely.line_locate_point(geometry, point))  # line.project, as DESIGN section 5 says
            length = float(shapely.length(geometry))
            cuts = sorted({0.0, length, *rows["from_m"].dropna(), *rows["to_m"].dropna()})
            pieces = [(a, b) for a, b in itertools.pairwise(cuts) if a - EPS_M <= along <= b + EPS_M]
            piece_from, piece_to = pieces[0]
            whole = rows["from_m"].isna()
            inside_piece = (rows["from_m"] <= piece_from + EPS_M) & (rows["to_m"] >= piece_to - EPS_M)
            rows = rows[whole | inside_piece]
        ranked = sorted(
            (
                (ROLE_ORDER[role], i, unit, role)
                for i, (unit, role) in enumerate(zip(rows["unit_id"], rows["role"], strict=True))
            ),
        )
        unit, role = (ranked[0][2], ranked[0][3]) if ranked else ("", "")
        key = (feature.priority, distance, order, 0.0 if math.isnan(piece_from) else piece_from)
        candidates.append((key, (feature.layer, feature.feature_id, unit, role, piece_from, distance)))
    districts = [
        d
        for d, g in zip(ds.frame["district_id"], ds.frame.geometry.to_crs(4545), strict=True)
        if shapely.distance(g, point) <= EPS_M
    ]
    district = districts[0] if districts else ""
    if candidates:
        return (*min(candidates)[1], district)
    if district:
        hq = ds.frame.set_index("district_id").loc[district, "fallback_unit"]
        return ("districts", district, hq, "fallback", math.nan, 0.0, district)
    return ("", "", "", "", math.nan, math.nan, "")


def row_tuple(frame: pd.DataFrame, i: int) -> tuple[Any, ...]:
    row = frame.iloc[i]
    return (
        str(row["layer"]),
        str(row["feature_id"]),
        str(row["unit_id"]),
        str(row["role"]),
        float(row["from_m"]),
        float(row["distance_m"]),
        str(row["district_id"]),
    )


def same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal, with floats to 1e-6 m (GEOS and the index measure with different formulas) and NaN == NaN."""
    for u, v in zip(a, b, strict=True):
        if isinstance(u, float) or isinstance(v, float):
            if not (math.isnan(u) and math.isnan(v)) and not abs(u - v) <= 1e-6:
                return False
        elif u != v:
            return False
    return True


def single_tuple(ds: Dataset, lon: float, lat: float) -> tuple[Any, ...]:
    result = lookup(ds, lon, lat, date=DAY)
    best = result.best
    district = result.district["district_id"] if result.district else ""
    if best is None:
        return ("", "", "", "", math.nan, math.nan, district)
    unit, role = (best.units[0].unit_id, best.units[0].role) if best.units else ("", "")
    return (
        best.layer,
        best.feature_id,
        unit,
        role,
        best.stretch.from_m if best.stretch else math.nan,
        best.distance_m,
        district,
    )


# Coordinates that sit exactly on the fixtures' edges, cuts and vertices (metres), to mix with random ones.
SPECIAL_X = [
    600000,
    600100,
    600105,
    600110,
    600200,
    600350,
    600400,
    600450,
    600600,
    600700,
    600800,
    600900,
    601000,
    601200,
    601500,
    601600,
    602000,
]
SPECIAL_Y = [
    3618000,
    3618100,
    3618110,
    3618150,
    3618200,
    3618350,
    3618400,
    3618450,
    3618500,
    3618600,
    3618650,
    3618700,
    3618800,
    3618815,
    3619000,
]
coordinate_x = st.one_of(
    st.floats(599950, 602050),
    st.sampled_from(SPECIAL_X),
    st.sampled_from(SPECIAL_X).flatmap(lambda v: st.floats(v - 20, v + 20)),
)
coordinate_y = st.one_of(
    st.floats(3617950, 3619050),
    st.sampled_from(SPECIAL_Y),
    st.sampled_from(SPECIAL_Y).flatmap(lambda v: st.floats(v - 20, v + 20)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=coordinate_x, y=coordinate_y, which=st.sampled_from(["mini", "edge"]))
def test_batch_single_and_brute_force_agree(mini_ds: Dataset, edge_ds: Dataset, x: float, y: float, which: str) -> None:
    ds = mini_ds if which == "mini" else edge_ds
    lon, lat = TO_LONLAT.transform(x, y)
    batch = row_tuple(lookup_many(ds, [lon], [lat], date=DAY), 0)
    assert same(batch, single_tuple(ds, lon, lat))
    assert same(batch, brute_best(ds, DAY, lon, lat))


def test_many_points_at_once_agree_with_single_lookups(edge_ds: Dataset) -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(599950, 602050, 1500), np.repeat(SPECIAL_X, len(SPECIAL_Y))])
    y = np.concatenate([rng.uniform(3617950, 3619050, 1500), np.tile(SPECIAL_Y, len(SPECIAL_X))])
    lon, lat = TO_LONLAT.transform(x, y)
    frame = lookup_many(edge_ds, lon, lat, date=DAY)
    assert len(frame) == len(x)
    for i in range(len(x)):
        assert same(row_tuple(frame, i), single_tuple(edge_ds, lon[i], lat[i])), (x[i], y[i])


def test_demo_agrees_with_brute_force(demo_ds: Dataset) -> None:
    """Random points over the demo, half of them within metres of an edge or a line."""
    features = demo_ds.duty_zones.drop_duplicates(["layer", "feature_id"])
    geoms = np.asarray(features["feature_metric"].values, dtype=object)
    rng = np.random.default_rng(11)
    west, south, east, north = demo_ds.frame.total_bounds
    n = 1200
    lon = rng.uniform(west - 0.003, east + 0.003, n)
    lat = rng.uniform(south - 0.003, north + 0.003, n)
    # Half the points: near a random vertex of a random feature (edges, street zones, stretch cuts).
    coords = shapely.get_coordinates(geoms)
    near = coords[rng.integers(0, len(coords), n // 2)] + rng.normal(0, 12, (n // 2, 2))
    to_lonlat = Transformer.from_crs(demo_ds.metric_crs, 4326, always_xy=True)
    lon[: n // 2], lat[: n // 2] = to_lonlat.transform(near[:, 0], near[:, 1])
    frame = lookup_many(demo_ds, lon, lat, date=DAY)

    to_metric = Transformer.from_crs(4326, demo_ds.metric_crs, always_xy=True)
    points = shapely.points(*to_metric.transform(lon, lat))
    tolerance = features["tolerance_m"].to_numpy()
    radius = np.where(features["kind"] == "polygon", tolerance, np.maximum(tolerance, 0.5))
    distance = shapely.distance(geoms[None, :], points[:, None])
    is_polygon = (features["kind"] == "polygon").to_numpy()
    inside = np.zeros_like(distance, dtype=bool)
    inside[:, is_polygon] = shapely.intersects(geoms[None, is_polygon], points[:, None])
    distance = np.where(inside | (distance <= EPS_M), 0.0, distance)
    covered = distance <= radius[None, :] + EPS_M
    district_geoms = np.asarray(demo_ds.frame.geometry.to_crs(demo_ds.metric_crs).values, dtype=object)
    in_district = shapely.intersects(district_geoms[None, :], points[:, None])
    priority = features["priority"].to_numpy()
    mismatches = []
    for i in range(n):
        hits = np.flatnonzero(covered[i])
        if len(hits):
            best = min(hits, key=lambda f: (priority[f], distance[i, f], f))
            expected = (features["layer"].iat[best], features["feature_id"].iat[best], distance[i, best])
        elif in_district[i].any():
            expected = ("districts", demo_ds.frame["district_id"].iat[int(np.argmax(in_district[i]))], 0.0)
        else:
            expected = ("", "", math.nan)
        got = (str(frame["layer"].iat[i]), str(frame["feature_id"].iat[i]), float(frame["distance_m"].iat[i]))
        if not same(got, expected):
            mismatches.append((i, got, expected))
    assert mismatches == []
    assert frame["fallback"].sum() > 0 and (frame["layer"] == "back_streets").sum() > 0  # the sample is varied


def test_bad_coordinates_get_an_error_row_and_the_batch_carries_on(mini_ds: Dataset) -> None:
    good_lon, good_lat = TO_LONLAT.transform(600107, 3618107)
    lons = [good_lon, float("nan"), good_lon, 181.0, "abc", None, good_lon, float("-inf")]
    lats = [good_lat, good_lat, float("inf"), good_lat, good_lat, good_lat, good_lat, good_lat]
    frame = lookup_many(mini_ds, lons, lats, date=DAY)
    assert len(frame) == 8
    errors = frame["error"].astype(str).tolist()
    assert errors[0] == errors[6] == ""
    assert "longitude nan" in errors[1]
    assert "latitude inf" in errors[2]
    assert "longitude 181.0 is out of range" in errors[3]
    assert "'abc'" in errors[4]
    assert "longitude is missing" in errors[5]
    assert "longitude -inf" in errors[7]
    assert frame["feature_id"].astype(str).tolist() == ["C1", "", "", "", "", "", "C1", ""]
    bad = frame.iloc[[1, 2, 3, 4, 5, 7]]
    assert (bad["unit_id"] == "").all() and bad["distance_m"].isna().all() and not bad["inside_frame"].any()


def test_columns_input_order_and_empty_answers(mini_ds: Dataset) -> None:
    points = [(600107, 3618107), (603000, 3618300), (600500, 3618500), (601100, 3618803)]
    lon, lat = TO_LONLAT.transform(*zip(*points, strict=True))
    frame = lookup_many(mini_ds, lon, lat, date=DAY)
    assert list(frame.columns) == COLUMNS
    assert frame["feature_id"].astype(str).tolist() == ["C1", "", "D1", "S1"]
    # Outside everything: empty strings and NaN, not None.
    outside = frame.iloc[1]
    assert outside["layer"] == "" and outside["unit_id"] == "" and math.isnan(outside["distance_m"])
    assert not outside["inside_frame"] and outside["district_id"] == ""
    # Inside a district only: the fallback.
    assert frame["fallback"].tolist() == [False, False, True, False]
    assert frame["unit_id"].iat[2] == "HQ1" and frame["role"].iat[2] == "fallback" and frame["distance_m"].iat[2] == 0
    # A stretch only a supervisor holds.
    assert (frame["from_m"].iat[3], round(frame["to_m"].iat[3], 3), frame["role"].iat[3]) == (
        1000.0,
        1200.0,
        "supervisor",
    )
    assert frame["unit_ids"].iat[0] == "U1" and frame["grade"].iat[0] == "二级"


def test_empty_input(mini_ds: Dataset) -> None:
    frame = lookup_many(mini_ds, [], [], date=DAY)
    assert len(frame) == 0 and list(frame.columns) == COLUMNS


def test_lengths_must_match(mini_ds: Dataset) -> None:
    with pytest.raises(ValueError, match="2 longitudes but 1 latitudes"):
        lookup_many(mini_ds, [109.0, 109.1], [32.7])


def test_all_matches_long_form_is_every_single_lookup_match(edge_ds: Dataset) -> None:
    points = [(600800, 3618150), (600250, 3618250), (600640, 3618655), (603000, 3618300), (600430, 3618370)]
    cut = (600100 + 295 / math.sqrt(2), 3618100 + 305 / math.sqrt(2))  # 5 m off T1, exactly at its 300 m cut
    points.append(cut)
    lon, lat = TO_LONLAT.transform(*zip(*points, strict=True))
    lon = np.append(lon, np.nan)  # a bad point still gets its row
    lat = np.append(lat, 32.7)
    frame = lookup_many(edge_ds, lon, lat, date=DAY, all_matches=True)
    assert list(frame.columns[:2]) == ["point_index", "match_rank"]
    for i in range(len(points)):
        expected = [
            (m.feature_id, m.stretch.from_m if m.stretch else None, round(m.distance_m, 6))
            for m in lookup(edge_ds, lon[i], lat[i], date=DAY).matches
        ] or [("", None, None)]
        rows = frame[frame["point_index"] == i]
        got = [
            (str(f), None if math.isnan(a) else a, None if math.isnan(d) else round(d, 6))
            for f, a, d in zip(rows["feature_id"], rows["from_m"], rows["distance_m"], strict=True)
        ]
        assert got == expected
        assert rows["match_rank"].tolist() == list(range(len(rows)))
    bad = frame[frame["point_index"] == len(points)]
    assert len(bad) == 1 and "longitude nan" in str(bad["error"].iat[0]) and bad["feature_id"].iat[0] == ""
    # Two stretches at the cut, both 5 m away, earlier first.
    at_cut = frame[frame["point_index"] == 5]
    assert at_cut["from_m"].tolist()[:2] == [0.0, 300.0]


def test_gcj02_batch_equals_single(mini_ds: Dataset) -> None:
    lon, lat = TO_LONLAT.transform([601550, 600107, 600200], [3618550, 3618107, 3618805])
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    frame = lookup_many(mini_ds, gcj_lon, gcj_lat, crs="gcj02", date=DAY)
    assert frame["feature_id"].astype(str).tolist() == ["C3", "C1", "S1"]
    for i in range(3):
        single = lookup(mini_ds, gcj_lon[i], gcj_lat[i], crs="gcj02", date=DAY).best
        assert single is not None and single.feature_id == frame["feature_id"].iat[i]
        assert single.distance_m == frame["distance_m"].iat[i]


def test_dates_change_the_batch_answer(mini_ds: Dataset) -> None:
    lon, lat = TO_LONLAT.transform([601505], [3618400])
    assert lookup_many(mini_ds, lon, lat, date="2025-12-31")["unit_id"].iat[0] == "U1"
    assert lookup_many(mini_ds, lon, lat, date="2026-01-01")["unit_id"].iat[0] == "U3"


def test_points_far_outside_the_grid(mini_ds: Dataset) -> None:
    frame = lookup_many(mini_ds, [116.39, -122.4, 0.0], [39.9, 37.7, 0.0], date=DAY)
    assert (frame["feature_id"] == "").all() and not frame["inside_frame"].any() and (frame["error"] == "").all()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    x=st.one_of(st.floats(600150, 600650), st.floats(601050, 601650)),
    y=st.one_of(st.floats(3618150, 3618650), st.floats(3618050, 3618350)),
)
def test_multipart_features_and_polygon_tolerance_agree_with_brute_force(multi_ds: Dataset, x: float, y: float) -> None:
    lon, lat = TO_LONLAT.transform(x, y)
    batch = row_tuple(lookup_many(multi_ds, [lon], [lat], date=DAY), 0)
    assert same(batch, single_tuple(multi_ds, lon, lat))
    assert same(batch, brute_best(multi_ds, DAY, lon, lat))


@pytest.mark.parametrize(
    ("x", "y", "feature", "distance_m"),
    [
        (600354, 3618400, "V1", 4.0),  # 4 m inside V1's hole: within the village's 5 m tolerance
        (600400, 3618430, "", None),  # 20 m inside the hole: beyond it (and off the street)
        (600196, 3618550, "V1", 4.0),  # 4 m outside V1's outer edge
        (601175, 3618125, "", None),  # between the two squares of K3: 25 m from each
        (601225, 3618125, "K3", 0.0),  # in K3's second square
        (601350, 3618310, "", None),  # in T3's gap, 50 m from either part
        (601290, 3618305, "T3", 5.0),  # near the end of T3's first part (190 m along: U2's stretch)
        (601450, 3618295, "T3", None),  # on the second part, 250 m along (the gap does not count): U2
    ],
)
def test_multipart_and_tolerance_cases(
    multi_ds: Dataset, x: float, y: float, feature: str, distance_m: float | None
) -> None:
    lon, lat = TO_LONLAT.transform(x, y)
    best = lookup(multi_ds, lon, lat, date=DAY).best
    zone = None if best is None or best.fallback else best
    assert (zone.feature_id if zone else "") == feature
    if zone is not None and distance_m is not None:
        assert zone.distance_m == pytest.approx(distance_m, abs=1e-6)
    if feature == "T3":
        assert zone.stretch.from_m == 150.0 and zone.units[0].unit_id == "U2"
