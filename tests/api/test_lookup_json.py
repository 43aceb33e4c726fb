"""The single lookup's JSON joined from cached pieces is the JSON of ``to_dict()``, byte for byte.

``api.lookup_json.lookup_json`` (the HTTP API's ``GET /lookup``) and ``result_json`` build
the answer from fragments encoded once per answer row, district and grid cell;
``api.responses.dumps(lookup(...).to_dict())`` encodes it whole. Every test here
compares the two, for the first call (which fills the caches) and the second
(which reads them), over the kinds of point that take different paths: a fixed
grid cell, a mixed cell resolved exactly (a distance written into a cached
fragment), a stretch cut, outside every district (the nearest zone), other
datums and projected input.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from api.lookup_json import answer_json, lookup_json, result_json
from api.responses import dumps
from geo import Dataset, load_dataset
from geo.datums import UnknownCRSError, from_wgs84
from geo.lookup import CoordinateError, lookup, lookup_index

TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
DAY = "2026-03-01"

# Points of tests/data/mini in EPSG:4545 metres (see tests/conftest.py), each taking another path.
MINI_POINTS = {
    "in C1": (600102, 3618102),  # one compound, then the district fallback
    "in C1 and C2": (600107, 3618107),  # two overlapping compounds, both at distance 0
    "nobody but HQ": (600500, 3618500),  # a fixed cell: only the fallback
    "on S1": (600200, 3618800),  # a stretch of a street, with its supervisor
    "10 m off S1": (600200, 3618810),  # inside the tolerance: a non-zero distance in a cached fragment
    "on the S1 cut": (600400, 3618800),  # exactly on a cut: both stretches
    "S1 past its end": (601205, 3618800),  # the round cap beyond the last vertex
    "west of all": (590000, 3618500),  # outside every district: no match, the nearest zone
    "on S2": (601500, 3618400),  # changed hands on 2026-01-01: the date matters
}


def expected(ds: Dataset, lon: object, lat: object, crs: str = "wgs84", date: str | None = DAY) -> bytes:
    """The reference: the answer built as dicts and encoded whole, as the API did before."""
    return dumps(lookup(ds, lon, lat, crs=crs, date=date).to_dict())


def assert_same_bytes(ds: Dataset, lon: object, lat: object, crs: str = "wgs84", date: str | None = DAY) -> bytes:
    reference = expected(ds, lon, lat, crs, date)
    for _ in range(2):  # the first call fills the caches, the second reads them
        assert lookup_json(ds, lon, lat, crs=crs, date=date) == reference
        assert result_json(lookup(ds, lon, lat, crs=crs, date=date)) == reference
    return reference


@pytest.mark.parametrize("name", list(MINI_POINTS))
@pytest.mark.parametrize(
    "date",
    [
        DAY,  # the day the other lookup tests use
        "2025-06-01",  # before S2 changed hands: other units, other cached pieces
    ],
)
def test_mini_points_in_wgs84(mini_ds: Dataset, name: str, date: str) -> None:
    lon, lat = TO_LONLAT.transform(*MINI_POINTS[name])
    answer = json.loads(assert_same_bytes(mini_ds, lon, lat, date=date))
    assert answer["date"] == date and answer["point"]["crs"] == "wgs84"


@pytest.mark.parametrize(
    "crs",
    [
        "gcj02",  # AMap / Tencent: the given numbers differ from the WGS-84 ones
        "bd09",  # Baidu
        "cgcs2000",  # the same numbers as WGS-84, another name
        "EPSG:4545",  # projected metres given directly
        "WGS84",  # a spelling normalised to wgs84 (not the hot path's exact "wgs84")
    ],
)
@pytest.mark.parametrize("name", ["in C1 and C2", "10 m off S1", "on the S1 cut", "west of all"])
def test_mini_points_in_other_datums(mini_ds: Dataset, crs: str, name: str) -> None:
    x, y = MINI_POINTS[name]
    if crs == "EPSG:4545":
        lon, lat = float(x), float(y)
    else:
        lon, lat = TO_LONLAT.transform(x, y)
        if crs in ("gcj02", "bd09"):
            lon, lat = (float(v) for v in from_wgs84(lon, lat, crs))
    answer = json.loads(assert_same_bytes(mini_ds, lon, lat, crs=crs))
    assert answer["point"]["lon"] == lon and answer["point"]["lat"] == lat


def test_known_answer_through_the_cached_path(mini_ds: Dataset) -> None:
    """Not only equal to the reference: the joined bytes say the right things."""
    lon, lat = TO_LONLAT.transform(*MINI_POINTS["10 m off S1"])
    lookup_json(mini_ds, lon, lat, date=DAY)  # fill
    answer = json.loads(lookup_json(mini_ds, lon, lat, date=DAY))
    first = answer["matches"][0]
    assert first["feature_id"] == "S1" and first["stretch"]["from_m"] == 0.0 and first["stretch"]["to_m"] == 400.0
    assert first["distance_m"] == pytest.approx(10.0, abs=1e-6)
    assert [u["unit_id"] for u in first["units"]] == ["U1", "U3"]
    assert answer["matches"][-1]["fallback"] is True and answer["nearest"] is None
    assert answer["district"] == {"district_id": "D1", "name": "西片区", "fallback_unit": "HQ1"}


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (109, 32),  # Python ints: not the float fast path, converted as before
        (np.float64(108.9), np.float64(32.7)),  # numpy scalars, as a DataFrame row gives them
        ("108.9", "32.7"),  # text, as a CSV cell gives it
    ],
)
def test_coordinates_that_are_not_python_floats(mini_ds: Dataset, lon: object, lat: object) -> None:
    answer = json.loads(assert_same_bytes(mini_ds, lon, lat))
    assert answer["point"]["lon"] == float(lon)  # type: ignore[arg-type]


def test_no_date_means_today(mini_ds: Dataset) -> None:
    import datetime as dt

    lon, lat = TO_LONLAT.transform(*MINI_POINTS["on S1"])
    answer = json.loads(assert_same_bytes(mini_ds, lon, lat, date=None))
    assert answer["date"] == dt.date.today().isoformat()
    assert lookup_index(mini_ds) is lookup_index(mini_ds, dt.date.today())


def test_random_points_over_the_demo(demo_ds: Dataset) -> None:
    """The bench's kind of traffic: random points over the districts' bounding box, every path."""
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in demo_ds.frame.total_bounds)
    pad_lon, pad_lat = (max_lon - min_lon) * 0.05, (max_lat - min_lat) * 0.05
    rng = random.Random(5)
    seen = {"outside": 0, "several matches": 0, "distance > 0": 0}
    for _ in range(1500):
        lon = rng.uniform(min_lon - pad_lon, max_lon + pad_lon)
        lat = rng.uniform(min_lat - pad_lat, max_lat + pad_lat)
        answer = json.loads(assert_same_bytes(demo_ds, lon, lat))
        seen["outside"] += not answer["inside_frame"]
        seen["several matches"] += len(answer["matches"]) > 1
        seen["distance > 0"] += any(m["distance_m"] > 0 for m in answer["matches"])
    assert all(count > 0 for count in seen.values()), seen  # every path was taken


def test_points_along_every_demo_street_hit_cached_fragments_with_distances(demo_ds: Dataset) -> None:
    """Points near back streets (mixed cells, distances, stretch cuts), not only random ones."""
    streets = demo_ds.layers["back_streets"].geometry
    rng = random.Random(7)
    for line in streets.iloc[:60]:
        coords = np.asarray(line.coords if line.geom_type == "LineString" else line.geoms[0].coords)
        lon, lat = coords[len(coords) // 2]
        for _ in range(3):
            assert_same_bytes(demo_ds, float(lon) + rng.uniform(-2e-4, 2e-4), float(lat) + rng.uniform(-2e-4, 2e-4))


@pytest.mark.parametrize(
    ("lon", "lat", "crs", "date", "error"),
    [
        (math.nan, 32.7, "wgs84", DAY, CoordinateError),  # NaN fails the fast path's range test
        (math.inf, 32.7, "wgs84", DAY, CoordinateError),  # so does infinity
        (200.0, 32.7, "wgs84", DAY, CoordinateError),  # out of range
        (108.9, -91.0, "wgs84", DAY, CoordinateError),  # latitude out of range
        (True, 32.7, "wgs84", DAY, CoordinateError),  # a bool is not a coordinate
        (108.9, 32.7, "EPSG:999999", DAY, UnknownCRSError),  # an unknown CRS
        (108.9, 32.7, "wgs84", "2026-13-01", ValueError),  # a bad date
    ],
)
def test_errors_are_those_of_lookup(
    mini_ds: Dataset, lon: object, lat: object, crs: str, date: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as from_lookup:
        lookup(mini_ds, lon, lat, crs=crs, date=date)
    with pytest.raises(error) as from_json:
        lookup_json(mini_ds, lon, lat, crs=crs, date=date)
    assert str(from_json.value) == str(from_lookup.value)


def test_hostile_names_do_not_break_the_fragments(tmp_path: Path) -> None:
    """A name that spells out the keys the fragments are cut at, with quotes and backslashes."""
    data = tmp_path / "mini"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "mini", data)
    hostile = 'x","distance_m":9.5,"fallback":true,"priority":1}\\ \u2028 "巷'
    streets = json.loads((data / "streets.geojson").read_text(encoding="utf-8"))
    streets["features"][0]["properties"]["name"] = hostile
    (data / "streets.geojson").write_text(json.dumps(streets, ensure_ascii=False), encoding="utf-8")
    ds = load_dataset(data)
    lon, lat = TO_LONLAT.transform(*MINI_POINTS["10 m off S1"])
    answer = json.loads(assert_same_bytes(ds, lon, lat))
    first = answer["matches"][0]
    assert first["name"] == hostile and first["fallback"] is False and first["priority"] == 10
    assert first["distance_m"] == pytest.approx(10.0, abs=1e-6)


def test_encoded_crs_names_are_bounded(mini_ds: Dataset) -> None:
    """CRS names come from requests: only a bounded number of their encoded pieces is kept."""
    pieces = answer_json(lookup_index(mini_ds, DAY))
    for i in range(3 * pieces.MAX_CRS):
        head = pieces.point(1.5, 2.5, f"EPSG:{2000 + i}", 3.5, 4.5)
        assert json.loads(head[:-1] + b"}") == {
            "point": {"lon": 1.5, "lat": 2.5, "crs": f"EPSG:{2000 + i}", "wgs84": {"lon": 3.5, "lat": 4.5}}
        }
    assert len(pieces.crs_keys) <= pieces.MAX_CRS


# -- the nearest zone outside every district (candidates per block) -----------------------------


def brute_force_nearest(ds: Dataset, lon: float, lat: float) -> tuple[str, float]:
    """Every zone feature measured: (feature_id, distance to its edge), the first of equals."""
    geometry = lookup_index(ds, DAY).geometry
    feats = geometry.features
    x, y = geometry.to_metric.transform(lon, lat)
    best, best_distance = -1, math.inf
    for f in range(feats.n_zone):
        distance = max(float(shapely.distance(shapely.Point(x, y), feats.geometry[f])) - float(feats.radius_m[f]), 0.0)
        if distance < best_distance:
            best, best_distance = f, distance
    return str(feats.feature_id[best]), best_distance


@pytest.mark.parametrize(
    "scale",
    [
        0.3,  # just outside the districts: several zones nearly as near
        3.0,  # kilometres away: the block's candidates come from far off
        40.0,  # hundreds of kilometres: still exact
    ],
)
@pytest.mark.parametrize("folder", ["mini", "lookup"])  # two layouts: streets with caps, villages, a facility
def test_nearest_zone_agrees_with_measuring_every_zone(folder: str, scale: float) -> None:
    ds = load_dataset(Path(__file__).resolve().parents[1] / "data" / folder)
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in ds.frame.total_bounds)
    width, height = (max_lon - min_lon) * scale, (max_lat - min_lat) * scale
    rng = random.Random(int(scale * 10))
    checked = 0
    while checked < 150:
        lon, lat = rng.uniform(min_lon - width, max_lon + width), rng.uniform(min_lat - height, max_lat + height)
        result = lookup(ds, lon, lat, date=DAY)
        if result.inside_frame:
            continue
        checked += 1
        nearest = result.nearest
        assert nearest is not None
        assert (nearest.feature_id, nearest.distance_m) == brute_force_nearest(ds, lon, lat)


def test_nearest_on_block_edges_and_corners(mini_ds: Dataset) -> None:
    """Points exactly on the lines between blocks, where a point is in one block and next to another."""
    geometry = lookup_index(mini_ds, DAY).geometry
    to_lonlat = Transformer.from_crs(geometry.to_metric.target_crs, "EPSG:4326", always_xy=True)
    block = 50.0
    for x_m, y_m in [(599_950.0, 3_618_500.0), (599_950.0, 3_618_550.0), (600_000.0 - 3 * block, 3_619_100.0)]:
        for dx, dy in [(0.0, 0.0), (1e-7, 0.0), (-1e-7, 0.0), (0.0, -1e-7)]:
            lon, lat = to_lonlat.transform(x_m + dx, y_m + dy)
            nearest = lookup(mini_ds, lon, lat, date=DAY).nearest
            assert nearest is not None and (nearest.feature_id, nearest.distance_m) == brute_force_nearest(
                mini_ds, lon, lat
            )


def test_a_point_beyond_the_metric_crs_has_no_nearest_zone_instead_of_an_error(mini_ds: Dataset) -> None:
    """The other side of the globe: the projection gives no finite metres (it used to raise from GEOS)."""
    answer = json.loads(assert_same_bytes(mini_ds, -170.0, 0.0))
    assert answer["inside_frame"] is False and answer["matches"] == [] and answer["nearest"] is None


def test_the_fast_path_does_not_keep_an_old_dataset_alive() -> None:
    """A server reloads its data: the dataset it served before must be freed, caches and all."""
    import gc
    import weakref

    ds = load_dataset(Path(__file__).resolve().parents[1] / "data" / "mini")
    lon, lat = TO_LONLAT.transform(*MINI_POINTS["on S1"])
    lookup_json(ds, lon, lat)
    lookup_json(ds, lon, lat)  # through the remembered date cache
    gone = weakref.ref(ds)
    del ds
    gc.collect()
    assert gone() is None
