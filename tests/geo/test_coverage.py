"""Coverage: frame gaps, slivers, overlaps, conflicts, nesting, unheld places and idle units.

Every answer here is known exactly from how the fixtures were drawn (see the
comments in tests/data/coverage/*/catalog.toml and tests/conftest.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo import Dataset, load_dataset
from geo.coverage import CoverageReport, compute_coverage, to_geojson
from geo.coverage_frame import frame_pieces
from tests import demo_points as points

DATA = Path(__file__).resolve().parents[1] / "data"
DATE = "2026-03-01"


@pytest.fixture(scope="module")
def ring_ds() -> Dataset:
    return load_dataset(DATA / "coverage" / "ring")


@pytest.fixture(scope="module")
def village_ds() -> Dataset:
    return load_dataset(DATA / "coverage" / "village")


@pytest.fixture(scope="module")
def village(village_ds: Dataset) -> CoverageReport:
    return village_ds.coverage(DATE)


@pytest.fixture(scope="module")
def mini(mini_ds: Dataset) -> CoverageReport:
    return mini_ds.coverage(DATE)


def _pairs(report: CoverageReport) -> set[tuple[str, ...]]:
    return {tuple(sorted(ids)) for ids in report.conflicts["feature_ids"]}


# -- the frame -------------------------------------------------------------------
def test_ring_hole_is_a_gap(ring_ds: Dataset) -> None:
    # R1 is a 1 km square (drawn clockwise) with a 200 m x 200 m hole nobody covers
    report = ring_ds.coverage(DATE)
    assert list(report.gaps["kind"]) == ["hole"]
    assert report.gaps["area_m2"].iat[0] == pytest.approx(40_000, abs=1e-3)
    assert report.gaps["district_ids"].iat[0] == ["R1"]
    assert report.totals["gaps"] == 1 and report.totals["gap_area_m2"] == pytest.approx(40_000, abs=1e-3)


def test_half_square_metre_notch_is_a_sliver_not_a_gap(ring_ds: Dataset) -> None:
    # R2 lacks a right triangle of 1 m legs on its shared edge with R1
    report = ring_ds.coverage(DATE)
    assert list(report.slivers["kind"]) == ["gap"]
    assert report.slivers["area_m2"].iat[0] == pytest.approx(0.5, abs=1e-4)
    assert report.slivers["district_ids"].iat[0] == ["R1", "R2"]
    assert 0.5 not in [round(a, 3) for a in report.gaps["area_m2"]]


def test_sliver_threshold_is_configurable(ring_ds: Dataset) -> None:
    # at 0.1 m² the notch is a gap; at 50,000 m² the 40,000 m² hole is only a sliver
    fine = ring_ds.coverage(DATE, sliver_m2=0.1)
    assert sorted(round(a, 3) for a in fine.gaps["area_m2"]) == [0.5, 40_000]
    assert fine.slivers.empty
    coarse = ring_ds.coverage(DATE, sliver_m2=50_000)
    assert coarse.gaps.empty
    assert sorted(coarse.slivers["kind"]) == ["frame_overlap", "gap", "gap"]


def test_thin_pieces_can_count_as_slivers(ring_ds: Dataset) -> None:
    # the 200 m hole has a mean width of 2 x 40000 / 800 = 100 m; the 10 m overlap one of ~9.9 m
    report = ring_ds.coverage(DATE, sliver_width_m=20)
    assert report.gaps["area_m2"].round(3).tolist() == [40_000]
    assert report.frame_overlaps.empty
    assert "frame_overlap" in set(report.slivers["kind"])


def test_overlapping_districts_reported_apart(ring_ds: Dataset) -> None:
    # R3 starts 10 m inside R2: 10 m x 1000 m of ground in two districts
    report = ring_ds.coverage(DATE)
    assert len(report.frame_overlaps) == 1
    assert report.frame_overlaps["area_m2"].iat[0] == pytest.approx(10_000, abs=1e-3)
    assert report.frame_overlaps["district_ids"].iat[0] == ["R2", "R3"]
    assert report.frame_overlaps["district_names"].iat[0] == ["缺角片区", "无指挥部片区"]
    assert "frame_overlap" not in set(report.gaps.get("kind", []))


def test_district_without_hq(ring_ds: Dataset) -> None:
    # R3 has an empty hq_unit
    report = ring_ds.coverage(DATE)
    assert report.districts_without_hq == ("R3",)
    assert report.districts.set_index("district_id").loc["R3", "has_hq"] == np.False_
    assert report.to_dict()["districts_without_hq"] == [{"district_id": "R3", "name": "无指挥部片区"}]


def test_city_boundary_outside_the_frame_is_a_gap(ring_ds: Dataset) -> None:
    # the boundary reaches 200 m north of the 3 km wide frame: 600,000 m²; the boundary is no duty
    report = compute_coverage(ring_ds, DATE, boundary_layer="city")
    by_kind = dict(zip(report.gaps["kind"], report.gaps["area_m2"], strict=True))
    assert by_kind["outside_frame"] == pytest.approx(600_000, abs=1e-2)
    assert by_kind["hole"] == pytest.approx(40_000, abs=1e-3)
    assert report.unheld.empty
    with pytest.raises(ValueError, match="boundary layer"):
        compute_coverage(ring_ds, DATE, boundary_layer="nowhere")


def test_district_areas(ring_ds: Dataset) -> None:
    # R1 = 1 km² minus the hole; R2 = 1 km² minus the notch; R3 = 1010 m x 1000 m
    areas = ring_ds.coverage(DATE).districts.set_index("district_id")["area_m2"]
    assert areas["R1"] == pytest.approx(960_000, abs=1e-2)
    assert areas["R2"] == pytest.approx(999_999.5, abs=1e-2)
    assert areas["R3"] == pytest.approx(1_010_000, abs=1e-2)


@pytest.mark.parametrize(
    ("offset_m", "slivers"),
    [
        (1e-7, 0),  # a shared edge digitised twice, micrometres apart: noise, nothing to report
        (0.005, 1),  # 5 mm apart over 100 m = 0.5 m²: a sliver
        (0.5, 0),  # 0.5 m apart over 100 m = 50 m²: a real gap, not a sliver
    ],
)
def test_shared_edges_digitised_twice(offset_m: float, slivers: int) -> None:
    # two 100 m squares side by side with a third closing the channel at both ends (so it is a hole)
    left = shapely.box(0, 0, 100, 100)
    right = shapely.box(100 + offset_m, 0, 200, 100)
    frame = shapely.box(-10, -10, 210, 110).difference(shapely.box(0, 0, 200, 100))
    pieces = frame_pieces(np.array([left, right, frame], dtype=object), np.array(["A", "B", "F"]), None, sliver_m2=1.0)
    assert sum(p.is_sliver for p in pieces) == slivers
    gaps = [p for p in pieces if not p.is_sliver]
    if offset_m == 0.5:
        assert len(gaps) == 1 and gaps[0].area_m2 == pytest.approx(50, abs=0.01)
    else:
        assert gaps == []


def test_island_district_inside_a_hole() -> None:
    # a 100 m island inside a 200 m hole: only the 30,000 m² around the island is a gap
    ring = shapely.box(0, 0, 1000, 1000).difference(shapely.box(400, 400, 600, 600))
    island = shapely.box(450, 450, 550, 550)
    pieces = frame_pieces(np.array([ring, island], dtype=object), np.array(["R", "I"]), None, sliver_m2=1.0)
    assert [(p.kind, round(p.area_m2, 3)) for p in pieces] == [("hole", 30_000)]
    assert pieces[0].district_ids == ("I", "R")


def test_invalid_and_empty_districts_do_not_raise() -> None:
    # a bow tie (self-intersecting) and an empty polygon, as foreign data has them
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)])
    square = shapely.box(100, 0, 200, 100)
    pieces = frame_pieces(
        np.array([bowtie, square, shapely.Polygon()], dtype=object), np.array(["A", "B", "C"]), None, 1.0
    )
    # the bow tie repaired is two triangles meeting at (50, 50): no hole, no overlap with the square
    assert pieces == []


def test_foreign_frame_in_utm_with_clockwise_rings(tmp_path: Path) -> None:
    # a frame drawn in EPSG:32649 (UTM 49N), clockwise, no metric_crs: the UTM zone is chosen and areas are exact
    def polygon(*rings: list[tuple[float, float]]) -> dict:
        return {"type": "Polygon", "coordinates": [[[500000 + x, 3618000 + y] for x, y in ring] for ring in rings]}

    outer_cw = [(0, 0), (0, 1000), (1000, 1000), (1000, 0), (0, 0)]
    hole_ccw = [(100, 100), (300, 100), (300, 200), (100, 200), (100, 100)]
    features = [
        {"type": "Feature", "properties": {"code": 1, "label": "West"}, "geometry": polygon(outer_cw, hole_ccw)},
        {
            "type": "Feature",
            "properties": {"code": 2, "label": "East"},
            # shares the edge x = 1000 with West, a few micrometres off
            "geometry": polygon([(1000.000004, 0), (1000.000004, 1000), (2000, 1000), (2000, 0), (1000.000004, 0)]),
        },
    ]
    (tmp_path / "wards.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    yard = {
        "type": "Feature",
        "properties": {"code": 9, "label": "Yard"},
        "geometry": polygon([(0, 0), (0, 50), (50, 50), (50, 0), (0, 0)]),
    }
    (tmp_path / "yards.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [yard]}))
    (tmp_path / "catalog.toml").write_text(
        '[dataset]\nname = "wards"\nlang = "en"\ncrs = "EPSG:32649"\n\n[frame]\nlayer = "wards"\n\n'
        '[[layer]]\nid = "wards"\nfile = "wards.geojson"\ngeometry = "polygon"\nid_field = "code"\nname_field = "label"\n\n'
        '[[layer]]\nid = "yards"\nfile = "yards.geojson"\ngeometry = "polygon"\nid_field = "code"\nname_field = "label"\n'
    )
    ds = load_dataset(tmp_path)
    assert ds.metric_crs.to_epsg() == 32649
    report = ds.coverage(DATE)
    assert report.gaps["area_m2"].round(2).tolist() == [20_000]
    assert report.slivers.empty and report.frame_overlaps.empty
    assert set(report.districts_without_hq) == {"1", "2"}
    # the yard, a clockwise 50 m square, is measured in the chosen UTM zone
    assert report.unheld["area_m2"].round(2).tolist() == [2_500]


def test_folder_without_catalog_gives_an_empty_report(tmp_path: Path) -> None:
    # nothing loaded: an empty report, never an exception
    report = load_dataset(tmp_path).coverage(DATE)
    assert report.totals["area_m2"] == 0 and report.conflicts.empty and report.unheld.empty
    assert json.loads(json.dumps(report.to_dict(), allow_nan=False))["units"] == []


# -- conflicts and nesting ---------------------------------------------------------
def test_two_squares_overlapping_by_25_m2(mini: CoverageReport) -> None:
    # C1 and C2 are 10 m squares, offset by 5 m both ways; U1 and U2 hold them at the same priority
    assert len(mini.conflicts) == 1
    conflict = mini.conflicts.iloc[0]
    assert conflict["area_m2"] == pytest.approx(25, abs=1e-3)
    assert conflict["unit_ids"] == ["U1", "U2"]
    assert conflict["feature_ids"] == ["C1", "C2"]
    assert conflict["layer"] == "compounds" and conflict["kind"] == "overlap"
    assert conflict["district_id"] == "D1"
    assert conflict.geometry.geom_type == "Polygon"


def test_street_split_between_two_units_is_no_conflict(mini: CoverageReport) -> None:
    # S1 0-400 (U1) and 400-1000 (U2) meet at a flat cut: zero area
    assert "S1" not in {f for ids in mini.conflicts["feature_ids"] for f in ids}
    assert mini.totals["conflict_area_m2"] == pytest.approx(25, abs=1e-3)


def test_back_street_through_an_urban_village_is_nesting(village: CoverageReport) -> None:
    # B1 (priority 10, 10 m tolerance) crosses UV1 (priority 30): 400 m x 20 m of it lies in the village
    assert ("B1", "UV1") not in {tuple(ids) for ids in village.conflicts["feature_ids"]}
    nesting = village.nesting
    assert len(nesting) == 1
    row = nesting.iloc[0]
    assert (row["inner_feature_id"], row["outer_feature_id"], row["kind"]) == ("B1", "UV1", "partial")
    assert row["area_m2"] == pytest.approx(8_000, abs=1e-2)
    assert (row["inner_unit_ids"], row["outer_unit_ids"]) == (["STR"], ["VIL"])


def test_village_conflicts_are_exactly_the_planted_ones(village: CoverageReport) -> None:
    # B2/B4 one street twice; K2 two leads; F1/F2 one toilet twice. Not: B2/B3 crossing, B5 split at its bend,
    # K1 lead + shared, F3 a bin 7 m from the toilet
    assert _pairs(village) == {("B2", "B4"), ("K2",), ("F1", "F2")}
    kinds = dict(zip(village.conflicts["feature_ids"].map(tuple), village.conflicts["kind"], strict=True))
    assert kinds[("K2",)] == "double_lead"
    assert village.totals["junctions"] == 3  # B2 x B3, F1 x F3, F2 x F3


def test_street_digitised_twice_conflict_area(village: CoverageReport) -> None:
    # B4 runs 2 m east of B2 for 400 m, both 10 m zones: an 18 m x 400 m strip plus parts of B4's round ends
    row = village.conflicts[village.conflicts["feature_ids"].map(tuple) == ("B2", "B4")].iloc[0]
    assert 18 * 400 < row["area_m2"] < 18 * 400 + math.pi * 10**2
    assert row["unit_ids"] == ["STR2", "STR3"]
    assert row["unit_names"] == ["Roads bureau", "Water bureau"]


def test_double_lead_area_is_the_whole_feature(village: CoverageReport) -> None:
    # K2 is a 50 m square led by CPA and CPC
    row = village.conflicts[village.conflicts["kind"] == "double_lead"].iloc[0]
    assert row["area_m2"] == pytest.approx(2_500, abs=1e-3)
    assert row["unit_ids"] == ["CPA", "CPC"]


def test_overlapping_stretches_of_one_street_conflict(tmp_path: Path) -> None:
    # mini's S1 with U2 starting at 300 m instead of 400: 100 m of the street led twice
    source = DATA / "mini"
    for path in source.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    text = (tmp_path / "assignments.csv").read_text().replace("S1,U2,lead,400,1000", "S1,U2,lead,300,1000")
    (tmp_path / "assignments.csv").write_text(text)
    report = load_dataset(tmp_path).coverage(DATE)
    row = report.conflicts[report.conflicts["feature_ids"].map(tuple) == ("S1",)].iloc[0]
    assert row["kind"] == "double_lead"
    assert row["length_m"] == pytest.approx(100)
    # a straight 100 m stretch with flat ends and the 15 m tolerance: 100 m x 30 m
    assert row["area_m2"] == pytest.approx(3_000, rel=1e-6)
    # the 100 m are counted once, half to each lead
    units = report.units.set_index("unit_id")
    assert units.at["U1", "length_m"] == pytest.approx(350)
    assert units.at["U2", "length_m"] == pytest.approx(650)


def test_conflict_smaller_than_a_sliver_is_a_sliver(mini_ds: Dataset) -> None:
    # with sliver_m2 = 30 the 25 m² overlap is digitising noise, not a fight
    report = mini_ds.coverage(DATE, sliver_m2=30)
    assert report.conflicts.empty
    assert list(report.slivers["kind"]) == ["conflict"]
    assert report.slivers["unit_ids"].iat[0] == ["U1", "U2"]


# -- unheld, idle ------------------------------------------------------------------
def test_unheld_feature_and_stretch(mini: CoverageReport) -> None:
    # C3 has no assignment; S1 1000-1200 m is covered by no stretch (U3 only supervises)
    rows = {(r.feature_id, r.reason): r for r in mini.unheld.itertuples(index=False)}
    assert set(rows) == {("C3", "no_assignment"), ("S1", "stretch_uncovered")}
    stretch = rows[("S1", "stretch_uncovered")]
    assert (stretch.from_m, stretch.to_m) == pytest.approx((1000, 1200))
    assert stretch.length_m == pytest.approx(200) and stretch.area_m2 == pytest.approx(1000)
    # 1000-1200 m lies at x 601000..601200: district D2, whose HQ answers for it
    assert (stretch.district_id, stretch.fallback_unit) == ("D2", "HQ2")
    assert rows[("C3", "no_assignment")].area_m2 == pytest.approx(10_000)
    assert mini.totals["unheld_length_m"] == pytest.approx(200)


def test_unheld_reasons(village: CoverageReport) -> None:
    # K3's only assignment ended on 2025-12-31
    assert village.unheld[["feature_id", "reason"]].values.tolist() == [["K3", "not_in_force"]]


def test_supervisor_only_feature_is_unheld(tmp_path: Path) -> None:
    # drop S1's two lead stretches: only its supervisor U3 is left
    for path in (DATA / "mini").iterdir():
        if path.is_file():  # a case store folder left by a run without RESPMAP_DATA_DIR is not data
            (tmp_path / path.name).write_bytes(path.read_bytes())
    lines = (tmp_path / "assignments.csv").read_text().splitlines()
    (tmp_path / "assignments.csv").write_text(
        "\n".join(x for x in lines if not x.startswith("S1,U1") and not x.startswith("S1,U2"))
    )
    report = load_dataset(tmp_path).coverage(DATE)
    row = report.unheld[report.unheld["feature_id"] == "S1"].iloc[0]
    assert (row["reason"], row["from_m"], row["to_m"]) == ("supervisor_only", 0, pytest.approx(1200))
    # the whole street's zone (1200 m x 30 m plus round ends), not the supervisor's
    assert row["length_m"] == pytest.approx(1200)


def test_idle_units(mini: CoverageReport, mini_ds: Dataset, village: CoverageReport) -> None:
    # U4 holds nothing; HQ1 and HQ2 are fallbacks, never idle; SUP only supervises: a duty, not idle
    assert mini.idle_units == ("U4",)
    assert village.idle_units == ("IDLE",)
    # before 2026 U3 leads nothing (S2 was U1's) but supervises S1: still not idle
    assert mini_ds.coverage("2025-06-01").idle_units == ("U4",)
    assert mini.to_dict()["idle_units"][0]["unit_id"] == "U4"


def test_dates_change_who_holds(mini_ds: Dataset) -> None:
    # S2 (500 m x 8 m) was U1's until 2025-12-31, U3's from 2026-01-01
    before = mini_ds.coverage("2025-06-01").units.set_index("unit_id")
    after = mini_ds.coverage(DATE).units.set_index("unit_id")
    assert before.at["U1", "area_m2"] == pytest.approx(100 + 2000 + 4000)
    assert after.at["U1", "area_m2"] == pytest.approx(100 + 2000)
    assert after.at["U3", "area_m2"] == pytest.approx(4000)


def test_cached_per_date_and_options(mini_ds: Dataset) -> None:
    # one computation per (date, sliver_m2): the same object comes back
    assert mini_ds.coverage(DATE) is mini_ds.coverage("2026-03-01")
    assert mini_ds.coverage(DATE) is not mini_ds.coverage(DATE, sliver_m2=2.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"date": "2026-02-30"}, "not a date"),  # no such day
        ({"date": "tomorrow"}, "not a date"),  # words are not dates
        ({"sliver_m2": -1}, "sliver_m2"),  # a negative area
        ({"sliver_m2": float("nan")}, "sliver_m2"),  # NaN from a bad form field
    ],
)
def test_bad_options_are_value_errors(mini_ds: Dataset, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_coverage(mini_ds, **options)


# -- JSON --------------------------------------------------------------------------
def test_to_dict_is_strict_json_with_the_contract_keys(mini: CoverageReport) -> None:
    data = json.loads(json.dumps(mini.to_dict(), allow_nan=False))
    for key in (
        "date",
        "gaps",
        "slivers",
        "conflicts",
        "nesting",
        "unheld",
        "idle_units",
        "districts_without_hq",
        "units",
        "districts",
        "totals",
    ):
        assert key in data
    assert data["date"] == DATE
    assert data["gaps"] == {"count": 0, "area_m2": 0.0, "items": []}
    assert data["conflicts"]["count"] == 1
    assert data["conflicts"]["area_m2"] == pytest.approx(25, abs=1e-3)
    item = data["conflicts"]["items"][0]
    assert item["units"] == item["unit_ids"] == ["U1", "U2"]
    assert item["features"] == item["feature_ids"] == ["C1", "C2"]
    assert item["layer"] == "compounds" and item["area_m2"] == pytest.approx(25, abs=1e-3)
    unheld = {u["feature_id"]: u for u in data["unheld"]}
    assert unheld["C3"]["from_m"] is None and unheld["S1"]["from_m"] == pytest.approx(1000)
    for key in ("unit_id", "name", "length_m", "area_m2", "required_workers", "staff", "shortfall", "cost_yuan"):
        assert key in data["units"][0]


def test_geojson_of_report_layers(mini: CoverageReport) -> None:
    # WGS-84 coordinates near Ankang, properties as plain JSON
    collection = json.loads(json.dumps(to_geojson(mini.unheld), allow_nan=False))
    assert len(collection["features"]) == 2
    lon, lat = collection["features"][0]["geometry"]["coordinates"][0][0]
    assert 108 < lon < 110 and 32 < lat < 33
    assert collection["features"][0]["properties"]["feature_id"] == "C3"


# -- the demo's planted problems (layers/ankang/README.md) --------------------------------
@pytest.fixture(scope="module")
def demo(demo_ds: Dataset) -> CoverageReport:
    return demo_ds.coverage(DATE)


def test_demo_frame_has_no_gaps(demo: CoverageReport) -> None:
    # the generator tiles the frame with shared vertices: no gap, no overlap, no sliver
    assert demo.gaps.empty and demo.frame_overlaps.empty and demo.slivers.empty
    assert demo.districts_without_hq == ()
    assert demo.totals["frame_area_m2"] == pytest.approx(demo.districts["area_m2"].sum(), rel=1e-9)


def test_demo_planted_problems(demo: CoverageReport) -> None:
    # 1. a compound has no unit; 3. a street is held 0-300 m of its length (tests/demo_points.py)
    unheld = {(r.feature_id, r.reason): r for r in demo.unheld.itertuples(index=False)}
    assert set(unheld) == {(points.UNHELD_COMPOUND, "no_assignment"), (points.GAP_STREET, "stretch_uncovered")}
    stretch = unheld[(points.GAP_STREET, "stretch_uncovered")]
    assert stretch.from_m == pytest.approx(points.GAP_HELD_TO_M)
    assert stretch.to_m == pytest.approx(points.GAP_LENGTH_M, abs=0.1)
    # 2. two compounds of two lead units overlap by about 400 m²; no other conflict (alley junctions,
    # split streets, bank segments)
    assert _pairs(demo) == {tuple(sorted(points.OVERLAP_PAIR))}
    row = demo.conflicts.iloc[0]
    assert row["unit_ids"] == list(points.OVERLAP_UNITS) and row["area_m2"] == pytest.approx(400, rel=0.05)
    # 4. one unit holds nothing, and only that one (a unit whose duty passed on in a lead change holds another)
    assert set(demo.idle_units) == {points.IDLE_UNIT}


def test_demo_short_units(demo: CoverageReport) -> None:
    # the README's four units short of staff are the only ones with a shortfall
    short = set(demo.units.loc[demo.units["shortfall"] > 0, "unit_id"])
    assert short == points.SHORT_UNITS
