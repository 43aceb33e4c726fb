"""A one-off lookup answers from a coarse grid, exactly as the server's fine grid does (issue 14, item 9).

``respmap lookup`` asks about one point, and built the whole fine grid first (seconds
on detailed real boundaries). It now builds a grid of at most ONE_OFF_MAX_CELLS cells,
which takes milliseconds: every cell not wholly inside one set of zones is resolved by
the exact test, so the answers are the same, which is what these tests check point by
point (inside, on edges and stretch cuts, outside every district, other datums), with
distances compared to the micrometre (the index's own tolerance).
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from geo import Dataset
from geo.lookup import lookup
from geo.lookup_dates import ONE_OFF_MAX_CELLS, geometry_index

TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
DAY = "2026-03-01"


def _without_distances(answer: dict) -> tuple[dict, list[float]]:
    """The answer with its distances taken out: both grids interpolate metric positions over blocks laid
    out from their own origin, each within 1e-7 m of PROJ (checked at build), so distances may differ in
    the 11th digit; everything else must be identical."""
    distances = []
    for item in [*answer["matches"], *([answer["nearest"]] if answer["nearest"] else [])]:
        distances.append(item.pop("distance_m"))
    return answer, distances


def _same(ds: Dataset, lon: float, lat: float, crs: str = "wgs84") -> None:
    fine, fine_m = _without_distances(lookup(ds, lon, lat, crs=crs, date=DAY).to_dict())
    coarse, coarse_m = _without_distances(lookup(ds, lon, lat, crs=crs, date=DAY, one_off=True).to_dict())
    assert coarse == fine, (lon, lat, crs)
    assert np.allclose(coarse_m, fine_m, rtol=0, atol=1e-6), (lon, lat, crs)


def test_the_coarse_grid_is_small(demo_ds: Dataset) -> None:
    coarse = geometry_index(demo_ds, one_off=True)
    assert coarse.grid.nx * coarse.grid.ny <= 1.1 * ONE_OFF_MAX_CELLS  # the cell size is rounded: about the bound
    assert coarse.grid.nx * coarse.grid.ny < geometry_index(demo_ds).grid.nx * geometry_index(demo_ds).grid.ny / 100


def test_random_points_over_the_demo_get_the_same_answers(demo_ds: Dataset) -> None:
    min_x, min_y, max_x, max_y = demo_ds.frame.total_bounds
    rng = np.random.default_rng(14)
    pad = 0.01  # some points outside every district: the nearest zone
    for lon, lat in zip(
        rng.uniform(min_x - pad, max_x + pad, 400), rng.uniform(min_y - pad, max_y + pad, 400), strict=True
    ):
        _same(demo_ds, float(lon), float(lat))


def test_points_on_zone_vertices_get_the_same_answers(demo_ds: Dataset) -> None:
    """Vertices of duty zones and districts: exactly on edges, where exactness is hardest."""
    import shapely

    vertices = shapely.get_coordinates(np.asarray(demo_ds.frame.geometry.values))[::97]
    for layer in demo_ds.layers.values():
        vertices = np.vstack([vertices, shapely.get_coordinates(np.asarray(layer.geometry.values))[::53]])
    for lon, lat in vertices[:600]:
        _same(demo_ds, float(lon), float(lat))


@pytest.mark.parametrize(
    "point",
    [(600102, 3618102), (600107, 3618107), (600200, 3618810), (600400, 3618800), (601205, 3618800), (590000, 3618500)],
)  # a compound, two overlapping ones, near a street, on a stretch cut, past a line's end, outside
def test_the_mini_dataset_points_get_the_same_answers(mini_ds: Dataset, point: tuple[float, float]) -> None:
    lon, lat = TO_LONLAT.transform(*point)
    _same(mini_ds, lon, lat)
    _same(mini_ds, *point, crs="EPSG:4545")
