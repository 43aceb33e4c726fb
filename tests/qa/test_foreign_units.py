"""A foreign dataset with no units table: its units come from the data itself.

Public sweeping-ward files carry the responsible body as a property and the
district offices as another; respmap must take both as units rather than
report the district offices as unknown (tests/data/qa/wards_lv95).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import Dataset, load_dataset

WARDS = Path(__file__).resolve().parents[1] / "data" / "qa" / "wards_lv95"


@pytest.fixture(scope="module")
def wards_ds() -> Dataset:
    return load_dataset(WARDS)


def test_fallback_units_named_in_the_frame_are_units(wards_ds: Dataset) -> None:
    errors = [f.message for f in wards_ds.findings if f.level == "error"]
    assert errors == []
    assert set(wards_ds.units["unit_id"]) == {"ERZ Team Nord", "ERZ Team Süd", "Kreisbüro West", "Kreisbüro Ost"}
    assert dict(zip(wards_ds.frame["district_id"], wards_ds.frame["fallback_unit"], strict=True)) == {
        "K1": "Kreisbüro West",
        "K2": "Kreisbüro Ost",
    }


def test_fallback_units_are_district_hqs(wards_ds: Dataset) -> None:
    kinds = dict(zip(wards_ds.units["unit_id"], wards_ds.units["kind"], strict=True))
    assert kinds["Kreisbüro West"] == "district HQ"
    assert kinds["ERZ Team Nord"] == ""


def test_point_in_a_wards_hole_answers_with_the_district_office(wards_ds: Dataset) -> None:
    # (2683250, 1247750) in LV95 lies in ward 2's hole: only the district office answers for it
    result = wards_ds.lookup(2683250, 1247750, crs="EPSG:2056")
    assert [m.fallback for m in result.matches] == [True]
    assert [u.unit_id for u in result.matches[0].units] == ["Kreisbüro West"]
