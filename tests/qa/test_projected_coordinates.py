"""Projected coordinates far outside what a CRS can represent are refused, not wrapped.

PROJ inverts some projections for any input: a northing of 1e9 m in Swiss LV95
came back as a plausible point in the Mediterranean, and a lookup answered for
it. A point whose conversion does not go back to where it started is not a
position; it must be reported as unusable, like NaN.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from geo import Dataset, load_dataset
from geo.datums import from_wgs84, to_wgs84
from geo.lookup import CoordinateError

WARDS = Path(__file__).resolve().parents[1] / "data" / "qa" / "wards_lv95"


@pytest.fixture(scope="module")
def wards_ds() -> Dataset:
    return load_dataset(WARDS)


@pytest.mark.parametrize(
    ("crs", "x", "y"),
    [
        ("EPSG:2056", 2683100.0, 1e9),  # LV95 northing 1000x too large: PROJ wraps it into a real-looking place
        ("EPSG:2056", 1e9, 1247100.0),  # the same for the easting
        ("EPSG:3857", 3e7, 4e6),  # beyond the edge of the Web Mercator world (x <= 2.0037e7): wraps the longitude
        ("EPSG:4545", 600000.0, -1e9),  # CGCS2000 Gauss-Krüger, a typo'd northing
    ],
)
def test_unrepresentable_projected_points_become_nan(crs: str, x: float, y: float) -> None:
    lon, lat = to_wgs84(x, y, crs)
    assert math.isnan(lon) and math.isnan(lat)


@pytest.mark.parametrize(
    ("crs", "x", "y", "lon", "lat"),
    [
        ("EPSG:2056", 2683100.0, 1247100.0, 8.538847, 47.369501),  # Zürich in LV95: unchanged by the check
        ("EPSG:32649", -1e6, 3.8e6, 94.97323, 33.28616),  # far west of its UTM zone, but a real inverse
        ("EPSG:3857", 1.2e7, 4e6, 107.79783, 33.78523),  # Web Mercator in China
    ],
)
def test_representable_points_still_convert(crs: str, x: float, y: float, lon: float, lat: float) -> None:
    got_lon, got_lat = to_wgs84(x, y, crs)
    assert got_lon == pytest.approx(lon, abs=1e-5)
    assert got_lat == pytest.approx(lat, abs=1e-5)


def test_arrays_mark_only_the_bad_points() -> None:
    lon, lat = to_wgs84(np.array([2683100.0, 2683100.0]), np.array([1247100.0, 1e9]), "EPSG:2056")
    assert np.isfinite(lon[0]) and np.isfinite(lat[0])
    assert np.isnan(lon[1]) and np.isnan(lat[1])


def test_from_wgs84_refuses_points_the_crs_cannot_hold() -> None:
    # 170 E is on the far side of the world from Switzerland: LV95 has no easting for it that maps back
    x, y = from_wgs84(170.0, 47.0, "EPSG:2056")
    back = to_wgs84(x, y, "EPSG:2056") if math.isfinite(x) else (math.nan, math.nan)
    assert math.isnan(x) or back[0] == pytest.approx(170.0, abs=1e-6)


def test_lookup_refuses_a_wrapped_point(wards_ds: Dataset) -> None:
    with pytest.raises(CoordinateError, match="does not convert"):
        wards_ds.lookup(2683100, 1e9, crs="EPSG:2056")


def test_batch_lookup_flags_the_wrapped_point_and_answers_the_rest(wards_ds: Dataset) -> None:
    table = wards_ds.lookup_many([2683100.0, 2683100.0], [1247100.0, 1e9], crs="EPSG:2056")
    assert table["feature_id"].tolist()[0] == "1"
    assert table["error"].tolist()[0] == ""
    assert "does not convert" in table["error"].tolist()[1]
    assert table["feature_id"].tolist()[1] == ""
