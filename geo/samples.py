"""Sample points for trying respmap: complaint-like points inside a dataset's districts.

A first-time user needs a points file to try ``respmap assign`` on. Real
complaints cluster along streets and in compounds, so half of the points are
drawn near the dataset's lines (within a few metres, as a phone's GPS puts a
person on the pavement) and half anywhere in the districts. Deterministic for a
given seed, in WGS-84, vectorised: a million points take seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.dataset import Dataset
from geo.datums import WGS84_CRS

DEFAULT_SEED = 20260301
# A GPS fix on the pavement is this far from the street's centre line, at most (metres, each way).
LINE_JITTER_M = 8.0
CATEGORIES: dict[str, tuple[str, ...]] = {
    "zh": ("暴露垃圾", "道路不洁", "垃圾桶满溢", "乱堆杂物", "绿地脏乱", "河岸垃圾"),
    "en": ("exposed garbage", "dirty road", "overflowing bin", "piled-up junk", "littered green", "riverbank litter"),
}


def sample_points(ds: Dataset, count: int, *, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """``count`` points as a table: ``point_id``, ``lon``, ``lat`` (WGS-84), ``category``.

    Raises:
        ValueError: ``count`` below 1, or a dataset with no districts and no features to sample in.

    Example:
        >>> sample_points(load_dataset(), 1000).head()
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    rng = np.random.default_rng(seed)
    area = _sampling_area(ds)
    lines = _lines(ds)
    near_lines = count // 2 if len(lines) else 0
    xs, ys = _near_lines(lines, near_lines, rng)
    ax, ay = _in_area(area, count - near_lines, rng)
    x, y = np.concatenate([xs, ax]), np.concatenate([ys, ay])
    order = rng.permutation(count)  # streets and open ground mixed, as complaints arrive
    lon, lat = Transformer.from_crs(ds.metric_crs, WGS84_CRS, always_xy=True).transform(x[order], y[order])
    categories = np.array(CATEGORIES["en" if ds.lang == "en" else "zh"], dtype=object)
    width = len(str(count))
    return pd.DataFrame(
        {
            "point_id": [f"P{i:0{width}d}" for i in range(1, count + 1)],
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
            "category": categories[rng.integers(0, len(categories), count)],
        }
    )


def _sampling_area(ds: Dataset) -> shapely.Geometry:
    """The districts' union in the metric CRS; without districts, the hull of every feature."""
    if ds.frame is not None and len(ds.frame):
        return shapely.union_all(np.asarray(ds.frame.geometry.to_crs(ds.metric_crs).values))
    parts = [np.asarray(layer.geometry.to_crs(ds.metric_crs).values) for layer in ds.layers.values() if len(layer)]
    if not parts:
        raise ValueError(f"the dataset in {ds.path} has no districts and no features to put sample points in")
    return shapely.convex_hull(shapely.union_all(np.concatenate(parts))).buffer(LINE_JITTER_M)


def _lines(ds: Dataset) -> np.ndarray:
    if ds.catalog is None:
        return np.array([], dtype=object)
    parts = [
        np.asarray(ds.layers[spec.id].geometry.to_crs(ds.metric_crs).values)
        for spec in ds.catalog.layers
        if spec.geometry == "line" and spec.id in ds.layers and len(ds.layers[spec.id])
    ]
    return np.concatenate(parts) if parts else np.array([], dtype=object)


def _near_lines(lines: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points along the lines (longer lines get more), moved up to LINE_JITTER_M each way."""
    if count == 0:
        return np.array([]), np.array([])
    lengths = shapely.length(lines)
    chosen = rng.choice(len(lines), size=count, p=lengths / lengths.sum())
    points = shapely.line_interpolate_point(lines[chosen], rng.random(count), normalized=True)
    xy = shapely.get_coordinates(points)
    jitter = rng.uniform(-LINE_JITTER_M, LINE_JITTER_M, size=(count, 2))
    return xy[:, 0] + jitter[:, 0], xy[:, 1] + jitter[:, 1]


def _in_area(area: shapely.Geometry, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points uniformly inside ``area`` (drawn in its box, those outside drawn again)."""
    shapely.prepare(area)
    min_x, min_y, max_x, max_y = area.bounds
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    found = 0
    while found < count:
        batch = max(1024, 2 * (count - found))
        x = rng.uniform(min_x, max_x, batch)
        y = rng.uniform(min_y, max_y, batch)
        inside = shapely.contains_xy(area, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        found += int(inside.sum())
    return np.concatenate(xs)[:count], np.concatenate(ys)[:count]
