"""Point lookup, one point at a time: every edge of DESIGN section 5 with a known answer.

Points are placed in metres (EPSG:4545) on the exact geometry of tests/data/mini and
tests/data/lookup, then turned into WGS-84 longitude/latitude as a phone would send
them; the lookup projects them back, so every test also crosses the datum transform.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from pyproj import Transformer

from geo import Dataset, load_dataset
from geo.datums import UnknownCRSError, wgs84_to_bd09, wgs84_to_gcj02
from geo.lookup import CoordinateError, LookupResult, lookup

LOOKUP_DIR = Path(__file__).resolve().parents[1] / "data" / "lookup"
TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
SQRT2 = math.sqrt(2.0)
DAY = "2026-03-01"


@pytest.fixture(scope="module")
def edge_ds() -> Dataset:
    """tests/data/lookup (English): hole, diagonal streets with a cut, shared edges, a toilet."""
    return load_dataset(LOOKUP_DIR)


def at(ds: Dataset, x: float, y: float, date: str = DAY) -> LookupResult:
    """Look up the point (x, y) in EPSG:4545 metres, sent as WGS-84."""
    lon, lat = TO_LONLAT.transform(x, y)
    return lookup(ds, lon, lat, date=date)


def keys(result: LookupResult) -> list[str]:
    """Matches as 'feature' or 'feature@from-to', fallback as 'fallback:district'."""
    out = []
    for m in result.matches:
        if m.fallback:
            out.append(f"fallback:{m.feature_id}")
        elif m.stretch is not None:
            out.append(f"{m.feature_id}@{m.stretch.from_m:.0f}-{m.stretch.to_m:.0f}")
        else:
            out.append(m.feature_id)
    return out


def units_of(result: LookupResult, index: int = 0) -> list[str]:
    return [f"{u.unit_id}:{u.role}" for u in result.matches[index].units]


def on_diagonal(along_m: float, offset_m: float) -> tuple[float, float]:
    """A point along street T1 (from (600100, 3618100), heading north-east), offset to its left."""
    return (600100 + (along_m - offset_m) / SQRT2, 3618100 + (along_m + offset_m) / SQRT2)


# -- edges and vertices ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (600800, 3618150, ["K1", "K2", "fallback:W"]),  # on the edge K1 and K2 share: both, in feature order
        (600800, 3618200, ["K1", "K2", "fallback:W"]),  # on the vertex K1 and K2 share
        (600700, 3618100, ["K1", "fallback:W"]),  # on a vertex of K1 alone
        (600900, 3618200, ["K2", "fallback:W"]),  # on the far corner of K2
        (600899.99, 3618150, ["K2", "fallback:W"]),  # 1 cm inside K2's outer edge
        (600900.01, 3618150, ["fallback:W"]),  # 1 cm outside it
    ],
)
def test_edges_and_vertices_belong_to_every_polygon_touching_them(
    edge_ds: Dataset, x: float, y: float, expected: list[str]
) -> None:
    result = at(edge_ds, x, y)
    assert keys(result) == expected
    assert all(m.distance_m == 0.0 for m in result.matches)


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (600430, 3618370, ["fallback:W"]),  # inside the hole of V1: not V1
        (600450, 3618360, ["V1", "fallback:W"]),  # on the hole's edge: V1 covers its boundary
        (600250, 3618550, ["V1", "fallback:W"]),  # in V1 away from the hole and the street
        (600600, 3618300, ["V1", "fallback:W"]),  # on V1's outer edge
    ],
)
def test_a_hole_is_not_part_of_its_polygon(edge_ds: Dataset, x: float, y: float, expected: list[str]) -> None:
    assert keys(at(edge_ds, x, y)) == expected


def test_a_point_on_the_edge_between_districts_gets_one_district(edge_ds: Dataset) -> None:
    result = at(edge_ds, 601000, 3618500)
    # Both districts cover it; the first in frame order answers, so the fallback is not doubled.
    assert result.inside_frame
    assert result.district == {"district_id": "W", "name": "West district", "fallback_unit": "HQW"}
    assert keys(result) == ["fallback:W"]


# -- streets: tolerance, stretches ----------------------------------------------------


@pytest.mark.parametrize(
    ("offset_m", "covered"),
    [
        (14.99, True),  # 1 cm inside the 15 m tolerance
        (15.01, False),  # 1 cm outside it
        (-14.99, True),  # the other side of the street
        (0.0, True),  # on the centre line
    ],
)
def test_street_tolerance_to_the_centimetre(mini_ds: Dataset, offset_m: float, covered: bool) -> None:
    result = at(mini_ds, 600200, 3618800 + offset_m)
    assert ("S1@0-400" in keys(result)) is covered
    if covered:
        assert result.matches[0].distance_m == pytest.approx(abs(offset_m), abs=1e-6)


@pytest.mark.parametrize(
    ("offset_m", "covered"),
    [
        (14.99, True),  # 1 cm inside, on a diagonal street (no axis-aligned shortcut)
        (15.01, False),  # 1 cm outside
        (-14.99, True),  # other side
    ],
)
def test_diagonal_street_tolerance_to_the_centimetre(edge_ds: Dataset, offset_m: float, covered: bool) -> None:
    x, y = on_diagonal(500, offset_m)
    result = at(edge_ds, x, y)
    street = [m for m in result.matches if m.feature_id == "T1"]
    assert bool(street) is covered
    if covered:
        assert street[0].distance_m == pytest.approx(abs(offset_m), abs=1e-6)


def test_round_cap_beyond_the_end_of_a_street_outside_the_frame(mini_ds: Dataset) -> None:
    # 14.99 m west of S1's first vertex, which lies on the frame's west edge.
    result = at(mini_ds, 600000 - 14.99, 3618800)
    assert keys(result) == ["S1@0-400"]
    assert not result.inside_frame
    assert result.nearest is not None and result.nearest.feature_id == "S1" and result.nearest.distance_m == 0.0


def test_a_point_exactly_on_a_stretch_cut_belongs_to_both_stretches(mini_ds: Dataset) -> None:
    result = at(mini_ds, 600400, 3618805)
    assert keys(result) == ["S1@0-400", "S1@400-1000", "fallback:D1"]
    assert units_of(result, 0) == ["U1:lead", "U3:supervisor"]
    assert units_of(result, 1) == ["U2:lead", "U3:supervisor"]
    assert [m.distance_m for m in result.matches[:2]] == pytest.approx([5.0, 5.0], abs=1e-6)
    assert result.matches[1].stretch.number == 2 and result.matches[1].stretch.count == 3


@pytest.mark.parametrize(
    ("x", "expected", "units"),
    [
        (600399.99, "S1@0-400", ["U1:lead", "U3:supervisor"]),  # 1 cm before the cut
        (600400.01, "S1@400-1000", ["U2:lead", "U3:supervisor"]),  # 1 cm after it
        (601100, "S1@1000-1200", ["U3:supervisor"]),  # the stretch no unit leads: only the supervisor
        (601210, "S1@1000-1200", ["U3:supervisor"]),  # beyond the end: projects onto the end
    ],
)
def test_the_stretch_is_where_the_point_projects(mini_ds: Dataset, x: float, expected: str, units: list[str]) -> None:
    result = at(mini_ds, x, 3618803)
    assert keys(result)[0] == expected
    assert units_of(result) == units


def test_stretch_cut_on_a_diagonal_street(edge_ds: Dataset) -> None:
    before = at(edge_ds, *on_diagonal(299.99, 5))
    exact = at(edge_ds, *on_diagonal(300.0, 5))
    after = at(edge_ds, *on_diagonal(300.01, -5))
    assert keys(before)[0] == "T1@0-300" and units_of(before) == ["U1:lead", "U5:shared"]
    assert keys(exact)[:2] == ["T1@0-300", "T1@300-849"]
    assert keys(after)[0] == "T1@300-849" and units_of(after) == ["U2:lead", "U5:shared"]


# -- order ------------------------------------------------------------------------------


def test_overlapping_zones_come_in_priority_order(edge_ds: Dataset) -> None:
    # On street T1 (priority 10) inside village V1 (30), in district W (its fallback last).
    result = at(edge_ds, *on_diagonal(200, 3))
    assert keys(result) == ["T1@0-300", "V1", "fallback:W"]
    assert [m.priority for m in result.matches] == [10, 30, 100]
    assert [m.fallback for m in result.matches] == [False, False, True]


def test_same_priority_the_nearer_zone_comes_first(edge_ds: Dataset) -> None:
    # Near the crossing of T1 and T2 (both priority 10): 5 m from T2, about 10.6 m from T1.
    result = at(edge_ds, 600640, 3618655)
    assert keys(result)[:2] == ["T2", "T1@300-849"]
    assert result.matches[0].distance_m == pytest.approx(5.0, abs=1e-6)
    assert result.matches[1].distance_m == pytest.approx(15 / SQRT2, abs=1e-6)
    assert units_of(result) == ["U2:lead", "U3:supervisor"]


def test_overlapping_polygons_of_the_same_priority_keep_feature_order(mini_ds: Dataset) -> None:
    assert keys(at(mini_ds, 600107, 3618107)) == ["C1", "C2", "fallback:D1"]


def test_a_facility_point_wins_within_its_tolerance(edge_ds: Dataset) -> None:
    near = at(edge_ds, 601500 + 9.99, 3618500)
    far = at(edge_ds, 601500 + 10.01, 3618500)
    assert keys(near) == ["P1", "fallback:E"] and near.matches[0].distance_m == pytest.approx(9.99, abs=1e-6)
    assert keys(far) == ["fallback:E"]


# -- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "unit"),
    [
        ("2025-06-01", "U1"),  # before the change
        ("2025-12-31", "U1"),  # U1's last day (valid_until is inclusive)
        ("2026-01-01", "U3"),  # U3's first day
        ("2026-06-01", "U3"),  # after the change
    ],
)
def test_the_unit_on_a_date(mini_ds: Dataset, date: str, unit: str) -> None:
    result = at(mini_ds, 601505, 3618400, date=date)
    assert keys(result)[0] == "S2"
    assert units_of(result) == [f"{unit}:lead"]
    assert result.to_dict()["date"] == date


def test_a_village_changes_hands(edge_ds: Dataset) -> None:
    assert units_of(at(edge_ds, 600250, 3618550, date="2025-12-31")) == ["U3:lead"]
    assert units_of(at(edge_ds, 600250, 3618550, date="2026-01-01")) == ["U4:lead"]


# -- outside the frame, unheld ---------------------------------------------------------------


def test_outside_every_district_names_the_nearest_zone(mini_ds: Dataset) -> None:
    result = at(mini_ds, 603000, 3618300)
    answer = result.to_dict()
    assert answer["inside_frame"] is False and answer["district"] is None and answer["matches"] == []
    # C3's corner (601600, 3618500) is 1400 m east and 200 m north: beats S2's zone at 1485 m.
    assert answer["nearest"]["feature_id"] == "C3"
    assert answer["nearest"]["distance_m"] == pytest.approx(math.hypot(1400, 200), abs=1e-6)


def test_nearest_counts_a_line_zone_from_its_edge(mini_ds: Dataset) -> None:
    # 300 m north of S1's east end, outside the frame: 285 m from the edge of its 15 m zone
    # (S2's zone is 500 - 15 m away, C3 about 583 m).
    result = at(mini_ds, 601200, 3619100)
    assert result.nearest is not None and result.nearest.feature_id == "S1"
    assert result.nearest.distance_m == pytest.approx(300 - 15, abs=1e-6)


def test_inside_the_frame_there_is_no_nearest(mini_ds: Dataset) -> None:
    assert at(mini_ds, 600500, 3618500).to_dict()["nearest"] is None


def test_a_feature_nobody_holds_is_still_a_match_with_its_standard(mini_ds: Dataset) -> None:
    result = at(mini_ds, 601550, 3618550)
    c3 = result.matches[0]
    assert c3.feature_id == "C3" and c3.units == () and not c3.fallback
    assert c3.standard is not None and c3.standard["grade"] == "三级" and c3.standard["sweeps_per_day"] == 1.0
    assert keys(result) == ["C3", "fallback:D2"]


# -- datums and CRSs ------------------------------------------------------------------------------


@pytest.mark.parametrize(("crs", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_the_same_numbers_in_another_datum_land_elsewhere(mini_ds: Dataset, crs: str, forward: object) -> None:
    lon, lat = TO_LONLAT.transform(601550, 3618550)  # the middle of C3 (100 m wide)
    shifted = forward(lon, lat)  # what a Chinese map app shows for that spot
    as_app = lookup(mini_ds, *shifted, crs=crs, date=DAY)
    as_gps = lookup(mini_ds, *shifted, crs="wgs84", date=DAY)
    assert keys(as_app) == ["C3", "fallback:D2"]
    assert "C3" not in keys(as_gps)  # about 500 m away at Ankang
    point = as_app.to_dict()["point"]
    assert point["crs"] == crs and (point["lon"], point["lat"]) == shifted
    assert point["wgs84"]["lon"] == pytest.approx(lon, abs=1e-8)
    assert point["wgs84"]["lat"] == pytest.approx(lat, abs=1e-8)


def test_projected_epsg_input(mini_ds: Dataset) -> None:
    result = lookup(mini_ds, 600107, 3618107, crs="EPSG:4545", date=DAY)
    assert keys(result) == ["C1", "C2", "fallback:D1"]
    assert result.to_dict()["point"]["crs"] == "EPSG:4545"


def test_unknown_crs(mini_ds: Dataset) -> None:
    with pytest.raises(UnknownCRSError, match="jupiter"):
        lookup(mini_ds, 109.0, 32.7, crs="jupiter")


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "named"),
    [
        (float("nan"), 32.7, "longitude nan"),  # NaN
        (109.0, float("inf"), "latitude inf"),  # infinite
        (181.0, 32.7, "longitude 181.0"),  # out of range
        (109.0, -90.5, "latitude -90.5"),  # out of range, negative
        ("abc", 32.7, "'abc'"),  # not a number
        (None, 32.7, "None"),  # missing
    ],
)
def test_bad_coordinates_raise_a_clear_error(mini_ds: Dataset, lon: object, lat: object, named: str) -> None:
    with pytest.raises(CoordinateError, match=named.replace("(", r"\(")):
        lookup(mini_ds, lon, lat)


def test_projected_numbers_out_of_range_for_the_crs(mini_ds: Dataset) -> None:
    with pytest.raises(CoordinateError, match="does not convert"):
        lookup(mini_ds, 1e30, 1e30, crs="EPSG:4545")


def test_a_bad_date_is_a_value_error(mini_ds: Dataset) -> None:
    with pytest.raises(ValueError, match="2026-13-01"):
        lookup(mini_ds, 109.0, 32.7, date="2026-13-01")


# -- the answer's shape (contract) -------------------------------------------------------------------


def test_json_shape(mini_ds: Dataset) -> None:
    answer = at(mini_ds, 600400, 3618805).to_dict()
    json.dumps(answer)  # plain JSON types only
    assert set(answer) == {"point", "date", "inside_frame", "district", "matches", "nearest"}
    assert set(answer["point"]) == {"lon", "lat", "crs", "wgs84"} and set(answer["point"]["wgs84"]) == {"lon", "lat"}
    assert answer["district"] == {"district_id": "D1", "name": "西片区", "fallback_unit": "HQ1"}
    first = answer["matches"][0]
    assert {
        "layer",
        "layer_title",
        "feature_id",
        "name",
        "stretch",
        "units",
        "standard",
        "distance_m",
        "fallback",
        "priority",
    } <= set(first)
    assert first["layer"] == "streets" and first["layer_title"] == "背街小巷" and first["name"] == "幸福巷"
    assert first["stretch"]["from_m"] == 0.0 and first["stretch"]["to_m"] == 400.0
    assert first["units"][0] == {
        "unit_id": "U1",
        "name": "市民政局",
        "role": "lead",
        "kind": "department",
        "contact": "张强",
        "phone": "0915-3200003",
    }
    assert first["standard"]["standard_id"] == "S-2" and first["standard"]["grade"] == "二级"
    assert first["standard"]["sweeps_per_day"] == 2.0 and first["standard"]["m2_per_worker"] is None
    last = answer["matches"][-1]
    assert last["fallback"] is True and last["layer"] == "districts" and last["feature_id"] == "D1"
    assert last["units"][0]["unit_id"] == "HQ1" and last["units"][0]["role"] == "fallback"


def test_dataset_method_delegates(mini_ds: Dataset) -> None:
    lon, lat = TO_LONLAT.transform(600107, 3618107)
    assert mini_ds.lookup(lon, lat, date=DAY).to_dict() == lookup(mini_ds, lon, lat, date=DAY).to_dict()


def test_dates_share_one_index_and_the_cache_stays_bounded(mini_ds: Dataset) -> None:
    import datetime as dt

    from geo.lookup import lookup_index

    assert lookup_index(mini_ds, "2026-03-01") is lookup_index(mini_ds, dt.date(2026, 3, 1))
    # Dates come from HTTP requests: a client asking for every day of a year must not grow memory for good.
    for day in range(80):
        lookup_index(mini_ds, (dt.date(2020, 1, 1) + dt.timedelta(days=day)).isoformat())
    cache = mini_ds.cached("lookup_dates", lambda: None)
    assert len(cache.by_key) <= 2 * cache.MAX_DATES
    assert units_of(at(mini_ds, 601505, 3618400, date="2025-06-01")) == ["U1:lead"]  # still right after eviction
