"""Cracks between districts that run out to the frame's edge are gaps.

Two neighbouring districts digitised apart leave a thin channel between them.
When it runs from one side of the frame to the other it is no hole of the
districts' union, and was reported as no gap at all: ground nobody answers for,
invisible to the planner (tests/data/qa/wards_lv95: 0.3 m x 1000 m).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from geo import load_dataset
from geo.coverage_frame import frame_pieces

WARDS = Path(__file__).resolve().parents[1] / "data" / "qa" / "wards_lv95"


def test_crack_across_the_frame_is_a_gap() -> None:
    report = load_dataset(WARDS).coverage("2026-03-01")
    assert report.totals["gaps"] == 1
    assert report.gaps["area_m2"].iat[0] == pytest.approx(300.0, rel=2e-3)  # 0.3 m x 1000 m, measured in UTM
    assert report.gaps["district_ids"].iat[0] == ["K1", "K2"]


def test_thin_crack_counts_as_a_sliver_when_asked() -> None:
    # 0.3 m wide on average: below a 1 m sliver width it is digitising noise, not a gap
    report = load_dataset(WARDS).coverage("2026-03-01", sliver_width_m=1.0)
    assert report.gaps.empty
    assert report.slivers["district_ids"].tolist() == [["K1", "K2"]]


@pytest.mark.parametrize(
    ("gap_m", "cracks"),
    [
        (0.0, 0),  # neighbours sharing their edge exactly: nothing between them
        (0.0004, 0),  # under half the 1 mm overlay grid: the edges snap together and meet
        (0.001, 1),  # one grid step apart: a real (if tiny) crack, a sliver at the default 1 m²
        (0.5, 1),  # a typical digitising crack
        (1.9, 1),  # just under the crack width
        (5.0, 0),  # a 5 m street between two districts is beyond what can be told from a crack without a boundary
    ],
)
def test_crack_width(gap_m: float, cracks: int) -> None:
    left = shapely.box(0, 0, 100, 100)
    right = shapely.box(100 + gap_m, 0, 200, 100)
    pieces = frame_pieces(np.array([left, right], dtype=object), np.array(["A", "B"], dtype=object), None, 1e-6)
    gaps = [p for p in pieces if p.kind == "hole"]
    assert len(gaps) == cracks
    if cracks:
        assert gaps[0].area_m2 == pytest.approx(gap_m * 100, rel=1e-3)
        assert gaps[0].district_ids == ("A", "B")


def test_notch_in_one_districts_outline_is_no_crack() -> None:
    # A 1 m wide, 20 m deep notch cut into A's outer edge touches A only: it is A's shape, not a gap
    notched = shapely.box(0, 0, 100, 100).difference(shapely.box(40, 80, 41, 100))
    right = shapely.box(100, 0, 200, 100)
    pieces = frame_pieces(np.array([notched, right], dtype=object), np.array(["A", "B"], dtype=object), None, 1e-6)
    assert [p for p in pieces if p.kind == "hole"] == []


def test_l_shaped_neighbours_leave_no_corner_pieces() -> None:
    # Two districts forming an L with a reflex corner where they meet: the closing must not invent ground there
    a = shapely.Polygon([(0, 0), (100, 0), (100, 50), (50, 50), (50, 100), (0, 100)])
    b = shapely.box(50, 50, 100, 80)
    pieces = frame_pieces(np.array([a, b], dtype=object), np.array(["A", "B"], dtype=object), None, 1e-6)
    assert [p for p in pieces if p.kind == "hole"] == []
