"""Workload: cleaned area, cleaners required, staff, shortfall and cost, and totals that add up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import Dataset, load_dataset
from geo.coverage import CoverageReport
from geo.workload import ROLE_WEIGHTS, holding_shares, priced

DATA = Path(__file__).resolve().parents[1] / "data"
DATE = "2026-03-01"
ADDITIVE = ("length_m", "area_m2", "required_workers", "cost_yuan")


@pytest.fixture(scope="module")
def mini(mini_ds: Dataset) -> CoverageReport:
    return mini_ds.coverage(DATE)


@pytest.fixture(scope="module")
def village() -> CoverageReport:
    return load_dataset(DATA / "coverage" / "village").coverage(DATE)


def test_mini_unit_figures(mini: CoverageReport) -> None:
    # standard 二级 = 3 workers / 10,000 m², 10 yuan/m²/year; 一级 = 4 workers, 12 yuan
    units = mini.units.set_index("unit_id")
    # U1: compound C1 (100 m²) + S1 0-400 m x 5 m (2000 m²)
    assert units.at["U1", "area_m2"] == pytest.approx(2_100)
    assert units.at["U1", "length_m"] == pytest.approx(400)
    assert units.at["U1", "required_workers"] == pytest.approx(0.63)
    assert units.at["U1", "cost_yuan"] == pytest.approx(21_000)
    assert (units.at["U1", "n_compounds"], units.at["U1", "n_streets"]) == (1, 1)
    assert units.at["U1", "shortfall"] == 0 and units.at["U1", "surplus"] == pytest.approx(1.37)
    # U2: compound C2 (100 m²) + S1 400-1000 m x 5 m (3000 m²)
    assert units.at["U2", "area_m2"] == pytest.approx(3_100)
    assert units.at["U2", "length_m"] == pytest.approx(600)
    # U3: S2 500 m x 8 m at 一级; it also supervises S1, which adds no work
    assert units.at["U3", "area_m2"] == pytest.approx(4_000)
    assert units.at["U3", "required_workers"] == pytest.approx(1.6)
    assert units.at["U3", "cost_yuan"] == pytest.approx(48_000)
    assert units.at["U3", "supervises"] == 1
    # HQ2 answers, as fallback, for C3 (10,000 m²) and S1's unheld 1000-1200 m (1000 m²): shown, not added
    assert units.at["HQ2", "fallback_area_m2"] == pytest.approx(11_000)
    assert units.at["HQ2", "area_m2"] == 0


@pytest.mark.parametrize(
    "name",
    ["mini", "village", "demo"],  # small exact data, every overlap kind, and the whole demo
)
def test_per_unit_totals_sum_to_the_city_total(name: str, request: pytest.FixtureRequest) -> None:
    if name == "demo":
        report = request.getfixturevalue("demo_ds").coverage(DATE)
    else:
        report = request.getfixturevalue(name)
    for figure in ADDITIVE:
        assert report.units[figure].sum() == pytest.approx(report.totals[figure], rel=1e-9, abs=1e-6), figure
    # districts plus what lies outside every district is the city total too
    held = report.districts["held_area_m2"].sum() + report.totals["outside_frame_area_m2"]
    assert held == pytest.approx(report.totals["area_m2"], rel=1e-9)
    assert report.districts["required_workers"].sum() == pytest.approx(report.totals["required_workers"], rel=1e-6)


def test_split_street_is_counted_once(mini: CoverageReport) -> None:
    # S1 is 1200 m: 400 (U1) + 600 (U2) held, 200 unheld; S2 500 m
    assert mini.totals["length_m"] == pytest.approx(400 + 600 + 500)
    assert mini.totals["length_m"] + mini.totals["unheld_length_m"] == pytest.approx(1200 + 500)
    assert mini.totals["n_streets"] == 2 and mini.totals["n_compounds"] == 2


def test_demo_every_split_street_adds_up(demo_ds: Dataset) -> None:
    # for every back street: held metres + unheld metres = the street's length
    report = demo_ds.coverage(DATE)
    streets = demo_ds.layers["back_streets"].set_index("feature_id")
    lengths = pd.Series(
        shapely.length(demo_ds.layers["back_streets"].to_crs(demo_ds.metric_crs).geometry.values), index=streets.index
    )
    shares, _ = holding_shares(demo_ds.zones_on(DATE))
    held = shares[shares["layer"] == "back_streets"].groupby("feature_id")["length_m"].sum()
    unheld = report.unheld[report.unheld["layer"] == "back_streets"].groupby("feature_id")["length_m"].sum()
    total = held.add(unheld, fill_value=0).reindex(lengths.index, fill_value=0)
    # the generator rounds a split street's last stretch down to 0.1 m; below 0.5 m nothing is reported unheld
    assert np.abs(total - lengths).max() < 0.5


def test_shared_feature_split_two_to_one(village: CoverageReport) -> None:
    # K1 (100 m square) is led by CPA and shared by CPB: 2/3 and 1/3; K2 (50 m square) has two leads: half each
    units = village.units.set_index("unit_id")
    assert ROLE_WEIGHTS == {"lead": 2.0, "shared": 1.0}
    assert units.at["CPB", "area_m2"] == pytest.approx(10_000 / 3)
    assert units.at["CPA", "area_m2"] == pytest.approx(10_000 * 2 / 3 + 2_500 / 2)
    assert units.at["CPC", "area_m2"] == pytest.approx(2_500 / 2)
    # the feature counts for each holder
    assert units.at["CPA", "n_compounds"] == 2 and units.at["CPB", "n_compounds"] == 1


def test_quota_as_square_metres_per_worker(village: CoverageReport) -> None:
    # UV1 (400 m square) at S-M: 2000 m² per worker, 5 yuan/m²: 80 cleaners, 800,000 yuan; VIL has 50 staff
    row = village.units.set_index("unit_id").loc["VIL"]
    assert row["required_workers"] == pytest.approx(80)
    assert row["shortfall"] == pytest.approx(30) and row["surplus"] == 0
    assert row["cost_yuan"] == pytest.approx(800_000)


def test_unknown_staff_gives_null_shortfall(village: CoverageReport) -> None:
    # CPC's staff is blank in units.csv: its shortfall is unknown, not zero
    row = next(u for u in village.to_dict()["units"] if u["unit_id"] == "CPC")
    assert row["staff"] is None and row["shortfall"] is None and row["surplus"] is None
    assert row["required_workers"] == pytest.approx(0.25)


def test_bent_street_split_at_the_bend(village: CoverageReport) -> None:
    # B5: 200 m straight (STR) then 141.42 m diagonal (STR2), 4 m wide, counted once
    units = village.units.set_index("unit_id")
    assert units.at["STR", "length_m"] == pytest.approx(200 + 500)  # B5's first stretch + B1
    assert units.at["STR2", "length_m"] == pytest.approx(100 * 2**0.5 + 800)  # B5's second stretch + B2


def test_district_staff_follows_the_work(mini: CoverageReport) -> None:
    # D1: U1 (2) and U2 (50) clean only there, HQ1 (10) has no area and counts at home;
    # D2: U3 (5) + HQ2 (10); U4 (3, idle, no home district) is not allocated
    districts = mini.districts.set_index("district_id")
    assert districts.at["D1", "staff"] == pytest.approx(62)
    assert districts.at["D2", "staff"] == pytest.approx(15)
    assert districts.at["D2", "n_unheld"] == 2 and districts.at["D2", "unheld_area_m2"] == pytest.approx(11_000)
    assert districts.at["D1", "n_conflicts"] == 1
    assert districts.at["D1", "area_m2"] == pytest.approx(1_000_000, abs=1e-2)


def test_priced_quota_rules() -> None:
    # one standard per rule: per 10,000 m², per worker, and one with no figures at all
    standards = pd.DataFrame(
        {
            "standard_id": ["W", "M", "X"],
            "workers_per_10000m2": [2.0, np.nan, np.nan],
            "m2_per_worker": [np.nan, 500.0, np.nan],
            "yuan_per_m2_year": [10.0, 4.0, np.nan],
        }
    )
    shares = pd.DataFrame({"standard_id": ["W", "M", "X", ""], "area_m2": [5_000.0, 1_000.0, 300.0, 70.0]})
    result = priced(shares, standards)
    assert result["required_workers"].tolist() == pytest.approx([1.0, 2.0, 0.0, 0.0])
    assert result["cost_yuan"].tolist() == pytest.approx([50_000, 4_000, 0, 0])
    assert result["unpriced_area_m2"].tolist() == pytest.approx([0, 0, 300, 70])


# -- property: stretches partition a line ------------------------------------------------
LINE = shapely.LineString([(0, 0), (100, 0)])

stretch = st.tuples(
    st.integers(0, 99), st.integers(1, 100), st.sampled_from(["A", "B", "C"]), st.sampled_from(["lead", "shared"])
).map(lambda t: (min(t[0], t[1] - 1), max(t[1], t[0] + 1), t[2], t[3]))


def _zones(stretches: list[tuple[int, int, str, str]], whole: bool) -> pd.DataFrame:
    rows = [(float(a), float(b), unit, role) for a, b, unit, role in stretches]
    if whole:
        rows.append((np.nan, np.nan, "W", "shared"))
    n = len(rows)
    return pd.DataFrame(
        {
            "layer": "streets",
            "kind": "line",
            "feature_id": "S",
            "name": "S",
            "standard_id": "",
            "unit_id": [r[2] for r in rows],
            "role": [r[3] for r in rows],
            "from_m": [r[0] for r in rows],
            "to_m": [r[1] for r in rows],
            "district_id": "D",
            "width_m": 2.0,
            "tolerance_m": 5.0,
            "area_m2": np.nan,
            "feature_metric": [LINE] * n,
        }
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(stretch, min_size=1, max_size=6), st.booleans())
def test_stretches_partition_the_line(stretches: list[tuple[int, int, str, str]], whole: bool) -> None:
    shares, unheld = holding_shares(_zones(stretches, whole))
    covered = np.zeros(100, dtype=bool)
    for a, b, _, _ in stretches:
        covered[a:b] = True
    if whole:
        covered[:] = True
    # every held metre once, every unheld metre once, nothing else
    assert shares["length_m"].sum() == pytest.approx(covered.sum())
    assert unheld["length_m"].sum() == pytest.approx(100 - covered.sum())
    assert shares["area_m2"].sum() == pytest.approx(2.0 * covered.sum())
    # a unit never gets more than the metres its own stretches cover
    for unit, length in shares.groupby("unit_id")["length_m"].sum().items():
        own = np.zeros(100, dtype=bool)
        for a, b, holder, _ in stretches:
            if holder == unit:
                own[a:b] = True
        if unit == "W":
            own[:] = True
        assert length <= own.sum() + 1e-9
