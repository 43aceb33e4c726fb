"""GDAL's own OGC API - Features client (Debian gdal-bin) against a real server on the demo.

If ``ogrinfo OAPIF:http://host/ogc`` reads the layers right, QGIS and every
other GDAL-based tool do too. The answers are compared with the dataset read
directly (shapely filters over the same GeoDataFrames).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Iterator

import pytest
import shapely

from geo import Dataset, load_dataset
from tests.api.http_server import REPO, running_server

DEMO = REPO / "layers" / "ankang"


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return load_dataset(DEMO)


@pytest.fixture(scope="module")
def ogc_url() -> Iterator[str]:
    with running_server(DEMO) as base:
        yield f"OAPIF:{base}/ogc"


def ogrinfo(*args: str, debug: bool = False) -> subprocess.CompletedProcess[str]:
    command = ["ogrinfo", "-ro", *args]
    if debug:
        command += ["--debug", "on"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def field_values(output: str, field: str) -> list[str]:
    """Values of one string field in ogrinfo's feature dump, in the order GDAL read them."""
    return re.findall(rf"^\s+{re.escape(field)} \(String\) = (.*)$", output, flags=re.MULTILINE)


def test_every_layer_is_listed(ogc_url: str, demo: Dataset) -> None:
    listing = ogrinfo("-so", ogc_url).stdout
    layers = re.findall(r"^\d+: (\S+) \(title: [^)]*\) \(([^)]+)\)$", listing, flags=re.MULTILINE)
    assert [name for name, _ in layers] == [*demo.layers, "duty_zones"]
    geometry = dict(layers)
    assert geometry["back_streets"] == "Line String"
    assert geometry["urban_villages"] == "Polygon" and geometry["facilities"] == "Point"


def test_layer_summary_has_counts_and_extent(ogc_url: str, demo: Dataset) -> None:
    summary = ogrinfo("-so", ogc_url, "back_streets").stdout
    assert f"Feature Count: {len(demo.layers['back_streets'])}" in summary
    min_x, min_y, max_x, max_y = demo.layers["back_streets"].total_bounds
    assert f"Extent: ({min_x:.6f}, {min_y:.6f}) - ({max_x:.6f}, {max_y:.6f})" in summary
    assert "feature_id: String" in summary and "width_m: Real" in summary


@pytest.mark.parametrize(
    "fraction",
    [
        (0.0, 0.0, 0.3, 0.3),  # a corner of the city
        (0.4, 0.4, 0.6, 0.6),  # the middle
        (0.0, 0.0, 1.0, 1.0),  # everything
    ],
)
def test_spatial_filter_returns_the_right_features(ogc_url: str, demo: Dataset, fraction: tuple) -> None:
    layer = demo.layers["back_streets"]
    min_x, min_y, max_x, max_y = layer.total_bounds
    box = (
        min_x + fraction[0] * (max_x - min_x),
        min_y + fraction[1] * (max_y - min_y),
        min_x + fraction[2] * (max_x - min_x),
        min_y + fraction[3] * (max_y - min_y),
    )
    expected = set(layer.loc[layer.intersects(shapely.box(*box)), "feature_id"])
    output = ogrinfo(ogc_url, "back_streets", "-spat", *(f"{v:.9f}" for v in box)).stdout
    got = field_values(output, "feature_id")
    assert len(got) == len(set(got))
    assert set(got) == expected and expected


def test_paging_through_next_returns_every_feature_once(ogc_url: str, demo: Dataset) -> None:
    done = ogrinfo(ogc_url, "duty_zones", "-oo", "PAGE_SIZE=7", debug=True)
    zone_ids = field_values(done.stdout, "zone_id")
    assert Counter(zone_ids) == Counter(demo.duty_zones["zone_id"])  # every zone, each exactly once
    assert len(zone_ids) == len(demo.duty_zones)
    # GDAL really walked the pages by their next links, seven features at a time.
    fetched_pages = re.findall(r"Fetch\(\S*/collections/duty_zones/items\?\S*\)", done.stderr)
    assert len(fetched_pages) >= len(demo.duty_zones) // 7
    assert all("limit=7" in page for page in fetched_pages)
