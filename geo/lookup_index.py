"""The grid index behind point lookup: which features cover a point, exactly and fast.

Point lookup must answer a million GPS points a second or more, and still be exact
on a zone's edge. The index is a regular grid in WGS-84 degrees over the extent of
every duty zone and district (points arrive in WGS-84, so a cell is found with two
multiplications, without projecting the point). Each cell is one of:

* **fixed**: no zone edge and no line passes near it, so every point in it lies
  wholly inside exactly the same set of polygons (its *signature*: the district and
  the polygon features). One array lookup answers the point, with distance 0.
* **mixed**: a polygon ring, a line or a point feature passes within reach of the
  cell. The cell keeps the short list of *candidate segments* (in the metric CRS)
  that can matter to any point in it; its points are projected to the metric CRS
  (:class:`LocalProjection`) and tested exactly against those segments with
  vectorised numpy (distance to a segment, position along the line) plus
  ``shapely.intersects_xy`` against the prepared polygon for inside/outside.
  Features that cover the whole cell are in the mixed cell's signature and need
  no test.

The semantics are those of DESIGN section 5, in the metric CRS: a polygon covers a
point inside it or on its boundary; a line's (or point's) zone is every point within
``radius_m`` of it (round caps), so the exact test is ``distance <= radius_m``; a
polygon with a tolerance covers points within ``radius_m`` of it. ``EPS_M`` absorbs
the nanometre noise of datum transforms so that a point on a shared edge belongs to
both sides.

Why the grid classification is exact: a feature is a candidate of a cell when one of
its segments lies within ``radius_m + EPS_M + half_diagonal_m + margin`` of the
cell's centre (measured in cell units with the smallest metres-per-cell of the grid,
so never too short). A feature that is not a candidate therefore has no zone edge inside
the cell, so whether it covers a point is the same everywhere in the cell, and is
read from a scanline raster of its zone polygon at the cell centre (which is far
from any edge, so the polygonal approximation of round buffers cannot matter). For
a candidate, the nearest segment of the feature to any point it covers is always
among the cell's candidates, so the minimum over candidates is the true distance.

The index depends on geometry only; who holds what on a date lives in
:mod:`geo.lookup_answers`. Build once per Dataset with ``ds.cached``.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo.zones import MIN_TOLERANCE_M

# A point this close to a zone's edge counts as on it (datum transforms move points by nanometres).
EPS_M = 1e-6
KIND_POLYGON, KIND_LINE, KIND_POINT, KIND_DISTRICT = 0, 1, 2, 3
KIND_CODES = {"polygon": KIND_POLYGON, "line": KIND_LINE, "point": KIND_POINT}
# The grid never has more cells than this (int32 each): the memory bound of the index.
MAX_CELLS = 8_000_000
MIN_CELL_M, MAX_CELL_M = 1.0, 200.0
# Cell size is chosen so that polygon edges make about this share of the extent "mixed".
TARGET_EDGE_SHARE = 0.01
# Metric edges are split this fine before going to degrees, so straight chords in degrees follow them.
DENSIFY_M = 50.0
# Side of the blocks over which WGS-84 -> metric is interpolated (LocalProjection).
BLOCK_M = 180.0
# Above this interpolation error (metres) the index projects with PROJ instead.
MAX_INTERPOLATION_ERROR_M = 1e-7
# Seed of the random 64-bit keys whose sums group sets of features fast (identities are then checked
# exactly, see _signatures), and of the sample points that measure the interpolation error.
_KEY_SEED = 20260301


@dataclass(frozen=True, eq=False)
class Grid:
    """A regular grid in WGS-84 degrees; cells are numbered row-major from (lon0, lat0)."""

    lon0: float
    lat0: float
    dlon: float
    dlat: float
    nx: int
    ny: int
    cell_m: float
    half_diagonal_m: float  # the largest, in metres, of any cell's centre-to-corner distance
    metres_per_cell_min: float  # the fewest metres one cell step can span anywhere in the grid

    @property
    def n_cells(self) -> int:
        return self.nx * self.ny

    def padded_index(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of each point's cell in the padded cell array (a ring of empty cells all round).

        Points outside the grid, and NaN, land in the ring, whose code is "nothing here":
        no masks are needed, which keeps the batch path to a few passes over the arrays.
        """
        width = self.nx + 2
        fx = lon * (1.0 / self.dlon)
        fx -= self.lon0 / self.dlon - 1.0
        np.fmax(fx, 0.0, out=fx)  # fmax/fmin, unlike clip, turn NaN into the bound
        np.fmin(fx, self.nx + 1, out=fx)
        fy = lat * (1.0 / self.dlat)
        fy -= self.lat0 / self.dlat - 1.0
        np.fmax(fy, 0.0, out=fy)
        np.fmin(fy, self.ny + 1, out=fy)
        index = fy.astype(np.int64)
        index *= width
        index += fx.astype(np.int64)
        return index

    def cell_of(self, lon: float, lat: float) -> int:
        """Scalar :meth:`padded_index` for the single-point path: the same arithmetic, no numpy."""
        fx = lon * (1.0 / self.dlon) - (self.lon0 / self.dlon - 1.0)
        fy = lat * (1.0 / self.dlat) - (self.lat0 / self.dlat - 1.0)
        if 1.0 <= fx < self.nx + 1 and 1.0 <= fy < self.ny + 1:
            return int(fy) * (self.nx + 2) + int(fx)
        return 0

    def centres(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        row, col = np.divmod(flat, self.nx)
        return self.lon0 + (col + 0.5) * self.dlon, self.lat0 + (row + 0.5) * self.dlat


@dataclass(frozen=True, eq=False)
class Features:
    """Every feature the index knows: duty-zone features first, then the districts."""

    layer: np.ndarray  # object: layer id ('' for districts)
    feature_id: np.ndarray  # object
    kind: np.ndarray  # int8: KIND_*
    priority: np.ndarray  # int64
    radius_m: np.ndarray  # float64: how far beyond the geometry the zone reaches
    geometry: np.ndarray  # object: metric geometries (prepared)
    n_zone: int  # features [0, n_zone) are duty-zone features, [n_zone, n) districts

    def __len__(self) -> int:
        return len(self.kind)


@dataclass(frozen=True, eq=False)
class Segments:
    """Every edge of every feature in the metric CRS, sorted by feature.

    ``along_m`` is where the segment starts, in metres along its line (lines only),
    so that the position of a point's projection is ``along_m + t * length_m``.
    """

    ax: np.ndarray
    ay: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    inv_len2: np.ndarray  # 1 / squared length (0 for a point feature's zero-length segment)
    length_m: np.ndarray
    along_m: np.ndarray
    feature: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.ax)


@dataclass(frozen=True, eq=False)
class Covered:
    """The exact answer for points in mixed cells: who covers each point, and how far.

    Arrays of equal length, one entry per (point, covering candidate feature), sorted
    by point then feature; ``along_m`` is the projection's position on lines.
    ``district`` is per point: the first district (frame order) covering it, or -1.
    """

    point: np.ndarray
    feature: np.ndarray
    distance_m: np.ndarray
    along_m: np.ndarray
    district: np.ndarray


@dataclass(frozen=True, eq=False)
class GeometryIndex:
    """Features, segments, grid and cell tables; see the module docstring."""

    features: Features
    segments: Segments
    grid: Grid
    cells: np.ndarray  # int32 per padded cell: >= 0 signature of a fixed cell, < 0: -(mixed id + 1)
    sig_district: np.ndarray  # int32 per signature: district index or -1
    sig_ptr: np.ndarray  # CSR over sig_features
    sig_features: np.ndarray  # int32: the polygon features that wholly cover cells of that signature
    mixed_sig: np.ndarray  # int32 per mixed cell: signature of what wholly covers it
    mixed_ptr: np.ndarray  # CSR over mixed_segments
    mixed_segments: np.ndarray  # int32: candidate segments, sorted by feature
    to_metric: Transformer
    projection: LocalProjection | None  # None: PROJ for every point (interpolation not accurate enough)
    tree: Any  # shapely STRtree over the duty-zone features (metric), for "nearest"
    build_s: float

    @property
    def n_districts(self) -> int:
        return len(self.features) - self.features.n_zone

    def describe(self) -> dict[str, Any]:
        """Sizes, for benchmarks and debugging."""
        mixed = len(self.mixed_sig)
        return {
            "cell_m": round(self.grid.cell_m, 3),
            "cells": self.grid.n_cells,
            "mixed_cells": mixed,
            "mixed_share": mixed / max(self.grid.n_cells, 1),
            "signatures": len(self.sig_district),
            "segments": len(self.segments),
            "candidate_pairs": len(self.mixed_segments),
            "features": self.features.n_zone,
            "districts": self.n_districts,
            "interpolation_error_m": None if self.projection is None else self.projection.max_error_m,
            "build_s": self.build_s,
        }

    # -- the exact test ----------------------------------------------------------------
    def resolve(self, mixed_ids: np.ndarray, x_m: np.ndarray, y_m: np.ndarray) -> Covered:
        """Exact covering features of points in mixed cells (metric coordinates).

        Every (point, candidate segment) pair gets a point-segment distance; the
        minimum per (point, feature) is the distance to the feature; polygons are
        also tested inside/outside against the prepared geometry.
        """
        n = len(mixed_ids)
        starts = self.mixed_ptr[mixed_ids]
        counts = self.mixed_ptr[mixed_ids + 1] - starts
        total = int(counts.sum())
        if total == 0:
            empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float64)
            return Covered(empty_i, empty_i, empty_f, empty_f, self._sure_districts(mixed_ids, empty_i, empty_i))
        pair_point = np.repeat(np.arange(n), counts)
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        seg = self.mixed_segments[np.repeat(starts, counts) + offsets]
        s = self.segments
        px = x_m[pair_point]
        py = y_m[pair_point]
        wx = px - s.ax[seg]
        wy = py - s.ay[seg]
        vx = s.vx[seg]
        vy = s.vy[seg]
        t = np.clip((wx * vx + wy * vy) * s.inv_len2[seg], 0.0, 1.0)
        dx = wx - t * vx
        dy = wy - t * vy
        dist = np.sqrt(dx * dx + dy * dy)
        feature = s.feature[seg]
        # Pairs are grouped by point, then feature (a cell's candidates are sorted by feature).
        new_group = np.empty(total, dtype=bool)
        new_group[0] = True
        np.not_equal(pair_point[1:], pair_point[:-1], out=new_group[1:])
        new_group[1:] |= feature[1:] != feature[:-1]
        group_start = np.flatnonzero(new_group)
        group_of_pair = np.cumsum(new_group) - 1
        group_min = np.minimum.reduceat(dist, group_start)
        # Position of the first nearest segment in each group (lowest along on ties).
        at_min = np.flatnonzero(dist == group_min[group_of_pair])
        first = np.empty(len(at_min), dtype=bool)
        first[0] = True
        g = group_of_pair[at_min]
        np.not_equal(g[1:], g[:-1], out=first[1:])
        nearest_pair = at_min[first]
        g_point = pair_point[group_start]
        g_feature = feature[group_start]
        kind = self.features.kind[g_feature]
        radius = self.features.radius_m[g_feature] + EPS_M
        covered = group_min <= radius
        # Within EPS_M of a feature is on it: distance 0, so the datum noise cannot reorder ties.
        g_dist = np.where(group_min <= EPS_M, 0.0, group_min)
        area = (kind == KIND_POLYGON) | (kind == KIND_DISTRICT)
        if area.any():
            where = np.flatnonzero(area)
            inside = shapely.intersects_xy(
                self.features.geometry[g_feature[where]], x_m[g_point[where]], y_m[g_point[where]]
            )
            covered[where[inside]] = True
            g_dist[where[inside]] = 0.0
        g_along = s.along_m[seg[nearest_pair]] + t[nearest_pair] * s.length_m[seg[nearest_pair]]
        keep = np.flatnonzero(covered)
        district_group = keep[kind[keep] == KIND_DISTRICT]
        zone_group = keep[kind[keep] != KIND_DISTRICT]
        district = self._sure_districts(
            mixed_ids, g_point[district_group], g_feature[district_group] - self.features.n_zone
        )
        return Covered(g_point[zone_group], g_feature[zone_group], g_dist[zone_group], g_along[zone_group], district)

    @functools.cached_property
    def _python(self) -> tuple[list[Any], ...]:
        """Segment and feature arrays as Python lists, for :meth:`resolve_one` (no numpy per point)."""
        s, f = self.segments, self.features
        return (
            s.ax.tolist(),
            s.ay.tolist(),
            s.vx.tolist(),
            s.vy.tolist(),
            s.inv_len2.tolist(),
            s.length_m.tolist(),
            s.along_m.tolist(),
            s.feature.tolist(),
            f.kind.tolist(),
            f.radius_m.tolist(),
        )

    def resolve_one(self, mixed_id: int, x_m: float, y_m: float) -> tuple[list[tuple[int, float, float]], int]:
        """:meth:`resolve` for one point in plain Python: the same arithmetic, so the same numbers.

        Returns the covering duty-zone features as (feature, distance_m, along_m) in
        feature order, and the district (-1 outside).
        """
        ax, ay, vx, vy, inv_len2, length, along, owner, kind, radius = self._python
        start, stop = int(self.mixed_ptr[mixed_id]), int(self.mixed_ptr[mixed_id + 1])
        groups: list[list[float]] = []  # [feature, nearest distance, along at the nearest]
        current = -1
        for seg in self.mixed_segments[start:stop].tolist():
            wx = x_m - ax[seg]
            wy = y_m - ay[seg]
            t = min(max((wx * vx[seg] + wy * vy[seg]) * inv_len2[seg], 0.0), 1.0)
            dx = wx - t * vx[seg]
            dy = wy - t * vy[seg]
            d = math.sqrt(dx * dx + dy * dy)
            if owner[seg] != current:
                current = owner[seg]
                groups.append([current, d, along[seg] + t * length[seg]])
            elif d < groups[-1][1]:  # strictly: the first nearest segment wins ties, as in resolve()
                groups[-1][1] = d
                groups[-1][2] = along[seg] + t * length[seg]
        district = int(self.sig_district[self.mixed_sig[mixed_id]])
        covered: list[tuple[int, float, float]] = []
        n_zone = self.features.n_zone
        for feature, nearest, position in groups:
            f = int(feature)
            hit = nearest <= radius[f] + EPS_M
            distance = 0.0 if nearest <= EPS_M else nearest
            if kind[f] == KIND_POLYGON or kind[f] == KIND_DISTRICT:
                if shapely.intersects_xy(self.features.geometry[f], x_m, y_m):
                    hit, distance = True, 0.0
            if not hit:
                continue
            if f >= n_zone:
                district = f - n_zone if district < 0 else min(district, f - n_zone)
            else:
                covered.append((f, distance, position))
        return covered, district

    def _sure_districts(self, mixed_ids: np.ndarray, points: np.ndarray, districts: np.ndarray) -> np.ndarray:
        """Per point: the first district (frame order) of the cell's signature or of the exact test."""
        result = self.sig_district[self.mixed_sig[mixed_ids]].astype(np.int64)
        result[result < 0] = np.iinfo(np.int64).max
        if len(points):
            np.minimum.at(result, points, districts)
        result[result == np.iinfo(np.int64).max] = -1
        return result

    def metric(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metric coordinates of points inside the grid (see :class:`LocalProjection`)."""
        if self.projection is not None:
            return self.projection.project(lon, lat)
        x, y = self.to_metric.transform(lon, lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def metric_one(self, lon: float, lat: float) -> tuple[float, float]:
        """:meth:`metric` for one point inside the grid, with the same arithmetic."""
        if self.projection is not None:
            return self.projection.project_one(lon, lat)
        x, y = self.to_metric.transform(lon, lat)
        return float(x), float(y)


class LocalProjection:
    """WGS-84 to the metric CRS for points of the grid, by biquadratic interpolation.

    PROJ's exact transverse Mercator costs about 200 ns a point, the largest part of
    an exact test. The projection is smooth, so each block of ``block`` x ``block``
    cells (about 180 m) holds the biquadratic through 3 x 3 exactly projected
    nodes; between them it is off by a few nanometres, the rounding noise of PROJ
    itself (``max_error_m`` is measured at build on random points against PROJ, and
    the index falls back to PROJ when it exceeds ``MAX_INTERPOLATION_ERROR_M``).
    ``project`` (arrays) and ``project_one`` (floats) do the same arithmetic in the
    same order, so single and batch lookups see identical coordinates.
    """

    def __init__(self, grid: Grid, to_metric: Transformer) -> None:
        self.grid = grid
        self.block = max(2, round(BLOCK_M / grid.cell_m / 2) * 2)
        self.nbx = (grid.nx + 2) // self.block + 1
        self.nby = (grid.ny + 2) // self.block + 1
        # Nodes every half block, in padded cell coordinates (the grid's own arithmetic).
        half = self.block / 2
        node_x = np.arange(2 * self.nbx + 1) * half
        node_y = np.arange(2 * self.nby + 1) * half
        lon = grid.lon0 + (node_x - 1.0) * grid.dlon
        lat = grid.lat0 + (node_y - 1.0) * grid.dlat
        glon, glat = np.meshgrid(lon, lat)
        x, y = to_metric.transform(glon, glat)
        self.coefficients = np.concatenate(
            [self._coefficients(np.asarray(x)), self._coefficients(np.asarray(y))], axis=-1
        ).reshape(self.nby * self.nbx, 18)
        self.rows = self.coefficients.tolist()
        self.columns = np.ascontiguousarray(self.coefficients.T)
        rng = np.random.default_rng(_KEY_SEED)
        sample_lon = rng.uniform(grid.lon0, grid.lon0 + grid.nx * grid.dlon, 2000)
        sample_lat = rng.uniform(grid.lat0, grid.lat0 + grid.ny * grid.dlat, 2000)
        ex, ey = to_metric.transform(sample_lon, sample_lat)
        ix, iy = self.project(sample_lon, sample_lat)
        self.max_error_m = float(np.max(np.hypot(ix - np.asarray(ex), iy - np.asarray(ey))))

    @staticmethod
    def _coefficients(values: np.ndarray) -> np.ndarray:
        """Per block, the 9 coefficients of A(v) + u B(v) + u² C(v), u and v in [-1/2, 1/2)."""

        def quadratic(minus: np.ndarray, mid: np.ndarray, plus: np.ndarray) -> tuple[np.ndarray, ...]:
            return mid, plus - minus, 2.0 * (plus - 2.0 * mid + minus)

        lo_u, mid_u, hi_u = values[:, 0:-1:2], values[:, 1::2], values[:, 2::2]
        a, b, c = quadratic(lo_u, mid_u, hi_u)  # along u, for every node row
        parts = []
        for term in (a, b, c):
            parts.extend(quadratic(term[0:-1:2], term[1::2], term[2::2]))  # then along v
        return np.stack(parts, axis=-1)

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = self.grid
        fx = lon * (1.0 / g.dlon) - (g.lon0 / g.dlon - 1.0)
        fy = lat * (1.0 / g.dlat) - (g.lat0 / g.dlat - 1.0)
        bx = np.clip(np.floor(fx / self.block), 0, self.nbx - 1)
        by = np.clip(np.floor(fy / self.block), 0, self.nby - 1)
        u = fx / self.block - (bx + 0.5)
        v = fy / self.block - (by + 0.5)
        block = (by * self.nbx + bx).astype(np.int64)
        c = [column[block] for column in self.columns]  # contiguous columns: faster than rows of 18
        x = (c[0] + v * (c[1] + v * c[2])) + u * ((c[3] + v * (c[4] + v * c[5])) + u * (c[6] + v * (c[7] + v * c[8])))
        y = (c[9] + v * (c[10] + v * c[11])) + u * (
            (c[12] + v * (c[13] + v * c[14])) + u * (c[15] + v * (c[16] + v * c[17]))
        )
        return x, y

    def project_one(self, lon: float, lat: float) -> tuple[float, float]:
        g = self.grid
        fx = lon * (1.0 / g.dlon) - (g.lon0 / g.dlon - 1.0)
        fy = lat * (1.0 / g.dlat) - (g.lat0 / g.dlat - 1.0)
        bx = float(min(max(math.floor(fx / self.block), 0), self.nbx - 1))
        by = float(min(max(math.floor(fy / self.block), 0), self.nby - 1))
        u = fx / self.block - (bx + 0.5)
        v = fy / self.block - (by + 0.5)
        c = self.rows[int(by) * self.nbx + int(bx)]
        x = (c[0] + v * (c[1] + v * c[2])) + u * ((c[3] + v * (c[4] + v * c[5])) + u * (c[6] + v * (c[7] + v * c[8])))
        y = (c[9] + v * (c[10] + v * c[11])) + u * (
            (c[12] + v * (c[13] + v * c[14])) + u * (c[15] + v * (c[16] + v * c[17]))
        )
        return x, y


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


def build_geometry_index(ds: Any, *, cell_m: float | None = None, max_cells: int = MAX_CELLS) -> GeometryIndex:
    """Build the index of a Dataset (duty-zone features and districts).

    Args:
        ds: a :class:`geo.dataset.Dataset`.
        cell_m: force the cell size in metres (default: from the density of edges,
            bounded so the grid has at most ``max_cells`` cells).
    """
    started = time.perf_counter()
    to_metric, to_wgs84 = _transformers(CRS.from_user_input(ds.metric_crs).to_wkt())
    features, zone_lonlat = _features(ds, to_wgs84)
    segments = _segments(features)
    grid = _choose_grid(features, segments, zone_lonlat, to_metric, cell_m, max_cells)

    district_of_cell = _district_raster(features, zone_lonlat, grid)
    cand_cells, cand_segs = _candidate_pairs(features, segments, grid, to_wgs84)
    sure_cells, sure_features = _sure_pairs(features, zone_lonlat, grid)

    # Mixed cells and their candidate segments (cand_* come sorted by cell then segment).
    new_cell = np.empty(len(cand_cells), dtype=bool)
    if len(cand_cells):
        new_cell[0] = True
        np.not_equal(cand_cells[1:], cand_cells[:-1], out=new_cell[1:])
    mixed_cells = cand_cells[new_cell]
    mixed_ptr = np.append(np.flatnonzero(new_cell), len(cand_cells)).astype(np.int64)
    n_feat = max(len(features), 1)
    # Sorted already: cells ascend, and within a cell segments (so features) ascend.
    cand_cf = _unique_of_sorted(cand_cells * n_feat + segments.feature[cand_segs])

    # A candidate is tested exactly, so it is not part of the cell's sure set.
    sure_cf = sure_cells * n_feat + sure_features
    keep = ~_in_sorted(sure_cf, cand_cf)
    sure_cf = np.sort(sure_cf[keep])
    effective_district = district_of_cell.astype(np.int32)
    if len(cand_cf):
        cf_cell, cf_feature = np.divmod(cand_cf, n_feat)
        is_district = cf_feature >= features.n_zone
        # The raster's district for a cell whose edge is a candidate is decided per point.
        hit = cf_feature[is_district] - features.n_zone == effective_district[cf_cell[is_district]]
        effective_district[cf_cell[is_district][hit]] = -1

    codes, sig_district, sig_ptr, sig_features = _signatures(features, grid, effective_district, sure_cf, n_feat)
    mixed_sig = codes[mixed_cells].copy() if len(mixed_cells) else np.empty(0, np.int32)
    codes[mixed_cells] = -(np.arange(len(mixed_cells), dtype=np.int32) + 1)
    padded = np.zeros((grid.ny + 2, grid.nx + 2), dtype=np.int32)
    padded[1:-1, 1:-1] = codes.reshape(grid.ny, grid.nx)

    zone_geoms = features.geometry[: features.n_zone]
    tree = shapely.STRtree(zone_geoms) if len(zone_geoms) else None
    projection = LocalProjection(grid, to_metric)
    if not projection.max_error_m <= MAX_INTERPOLATION_ERROR_M:
        projection = None
    return GeometryIndex(
        features=features,
        segments=segments,
        grid=grid,
        cells=padded.ravel(),
        sig_district=sig_district,
        sig_ptr=sig_ptr,
        sig_features=sig_features,
        mixed_sig=mixed_sig.astype(np.int32),
        mixed_ptr=mixed_ptr,
        mixed_segments=cand_segs.astype(np.int32),
        to_metric=to_metric,
        projection=projection,
        tree=tree,
        build_s=time.perf_counter() - started,
    )


@functools.lru_cache(maxsize=8)
def _transformers(metric_wkt: str) -> tuple[Transformer, Transformer]:
    """WGS-84 -> metric and back (building a Transformer costs tens of milliseconds)."""
    return (
        Transformer.from_crs("EPSG:4326", metric_wkt, always_xy=True),
        Transformer.from_crs(metric_wkt, "EPSG:4326", always_xy=True),
    )


def _features(ds: Any, to_wgs84: Transformer) -> tuple[Features, np.ndarray]:
    """Duty-zone features (one per layer and feature id) then districts, with zone outlines in degrees."""
    zones = ds.duty_zones
    first = zones.drop_duplicates(["layer", "feature_id"]) if len(zones) else zones
    n_zone = len(first)
    kind_names = first["kind"].to_numpy(dtype=object) if n_zone else np.empty(0, dtype=object)
    kinds = np.array([KIND_CODES.get(k, KIND_POLYGON) for k in kind_names], dtype=np.int8)
    tolerance = first["tolerance_m"].to_numpy(dtype=np.float64) if n_zone else np.empty(0)
    radius = np.where(kinds == KIND_POLYGON, np.maximum(tolerance, 0.0), np.maximum(tolerance, MIN_TOLERANCE_M))
    geoms = np.asarray(first["feature_metric"].values, dtype=object) if n_zone else np.empty(0, dtype=object)
    zone_metric = geoms.copy()
    grown = np.flatnonzero(radius > 0)
    if len(grown):
        zone_metric[grown] = shapely.buffer(geoms[grown], radius[grown])
    zone_lonlat = _to_lonlat(zone_metric, to_wgs84)

    frame = ds.frame
    if frame is not None and len(frame):
        district_lonlat = np.asarray(frame.geometry.values, dtype=object)
        district_metric = np.asarray(frame.geometry.to_crs(ds.metric_crs).values, dtype=object)
        district_ids = frame["district_id"].to_numpy(dtype=object)
    else:
        district_lonlat = district_metric = district_ids = np.empty(0, dtype=object)
    n_district = len(district_ids)
    all_geoms = np.concatenate([geoms, district_metric]).astype(object)
    shapely.prepare(all_geoms)
    priority = first["priority"].to_numpy(dtype=np.int64) if n_zone else np.empty(0, np.int64)
    features = Features(
        layer=np.concatenate(
            [
                first["layer"].to_numpy(dtype=object) if n_zone else np.empty(0, object),
                np.full(n_district, "", dtype=object),
            ]
        ),
        feature_id=np.concatenate(
            [first["feature_id"].to_numpy(dtype=object) if n_zone else np.empty(0, object), district_ids]
        ),
        kind=np.concatenate([kinds, np.full(n_district, KIND_DISTRICT, dtype=np.int8)]),
        priority=np.concatenate([priority, np.full(n_district, np.iinfo(np.int32).max, dtype=np.int64)]),
        radius_m=np.concatenate([radius, np.zeros(n_district)]),
        geometry=all_geoms,
        n_zone=n_zone,
    )
    return features, np.concatenate([zone_lonlat, district_lonlat]).astype(object)


def _to_lonlat(metric: np.ndarray, to_wgs84: Transformer) -> np.ndarray:
    if not len(metric):
        return np.empty(0, dtype=object)
    dense = shapely.segmentize(metric, DENSIFY_M)

    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(dense, project)


def _segments(features: Features) -> Segments:
    """Edges of rings (polygons, districts), lines (with along-line positions) and points."""
    parts_x0: list[np.ndarray] = []
    parts_y0: list[np.ndarray] = []
    parts_x1: list[np.ndarray] = []
    parts_y1: list[np.ndarray] = []
    parts_along: list[np.ndarray] = []
    parts_feature: list[np.ndarray] = []

    def add(
        x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, along: np.ndarray, owner: np.ndarray
    ) -> None:
        parts_x0.append(x0)
        parts_y0.append(y0)
        parts_x1.append(x1)
        parts_y1.append(y1)
        parts_along.append(along)
        parts_feature.append(owner)

    kind = features.kind
    area = np.flatnonzero((kind == KIND_POLYGON) | (kind == KIND_DISTRICT))
    if len(area):
        parts, part_owner = shapely.get_parts(features.geometry[area], return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        same = coord_ring[1:] == coord_ring[:-1]
        owner = area[part_owner[ring_part[coord_ring[:-1][same]]]]
        add(
            coords[:-1][same, 0],
            coords[:-1][same, 1],
            coords[1:][same, 0],
            coords[1:][same, 1],
            np.zeros(int(same.sum())),
            owner,
        )

    lines = np.flatnonzero(kind == KIND_LINE)
    if len(lines):
        add(*_line_segments(features.geometry[lines], lines))

    points = np.flatnonzero(kind == KIND_POINT)
    if len(points):
        coords, owner = shapely.get_coordinates(features.geometry[points], return_index=True)
        add(coords[:, 0], coords[:, 1], coords[:, 0], coords[:, 1], np.zeros(len(coords)), points[owner])

    if not parts_x0:
        empty = np.empty(0)
        return Segments(empty, empty, empty, empty, empty, empty, empty, np.empty(0, np.int32))
    x0, y0, x1, y1 = (np.concatenate(p) for p in (parts_x0, parts_y0, parts_x1, parts_y1))
    along = np.concatenate(parts_along)
    feature = np.concatenate(parts_feature).astype(np.int32)
    order = np.argsort(feature, kind="stable")
    x0, y0, x1, y1, along, feature = (a[order] for a in (x0, y0, x1, y1, along, feature))
    vx, vy = x1 - x0, y1 - y0
    len2 = vx * vx + vy * vy
    with np.errstate(divide="ignore"):
        inv_len2 = np.where(len2 > 0, 1.0 / np.where(len2 > 0, len2, 1.0), 0.0)
    return Segments(x0, y0, vx, vy, inv_len2, np.sqrt(len2), along, feature)


def _line_segments(geoms: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, ...]:
    """Segments of lines, with where each starts along its line.

    Measured as ``line.project(point)`` measures (DESIGN section 5): from the first
    vertex, and for a MultiLineString along its parts in their stored order with
    the gaps between them not counted, so that a line's length is ``shapely.length``
    (the length stretches are checked against when loading).
    """
    parts, part_line = shapely.get_parts(geoms, return_index=True)
    coords, coord_part = shapely.get_coordinates(parts, return_index=True)
    same = coord_part[1:] == coord_part[:-1]
    x0, y0 = coords[:-1, 0], coords[:-1, 1]
    x1, y1 = coords[1:, 0], coords[1:, 1]
    line = part_line[coord_part[:-1]]
    length = np.hypot(x1 - x0, y1 - y0) * same  # pairs across two parts or two lines: no length, not kept
    cumulative = np.cumsum(length) - length
    line_start = np.flatnonzero(np.r_[True, line[1:] != line[:-1]])
    first_of_line = np.repeat(line_start, np.diff(np.append(line_start, len(line))))
    along = cumulative - cumulative[first_of_line]
    return x0[same], y0[same], x1[same], y1[same], along[same], owners[line[same]]


def _metres_per_degree(lat: float) -> tuple[float, float]:
    """Approximate metres per degree of longitude and latitude at ``lat`` (for sizing only)."""
    return 111_320.0 * math.cos(math.radians(lat)), 110_574.0


def _choose_grid(
    features: Features,
    segments: Segments,
    lonlat: np.ndarray,
    to_metric: Transformer,
    cell_m: float | None,
    max_cells: int,
) -> Grid:
    if len(lonlat):
        bounds = shapely.bounds(lonlat)
        ok = np.isfinite(bounds).all(axis=1)
        bounds = bounds[ok]
    else:
        bounds = np.empty((0, 4))
    if not len(bounds):
        return Grid(0.0, 0.0, 1.0, 1.0, 1, 1, 1.0, 1.0, 1.0)
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    mid_lat = (south + north) / 2
    m_lon, m_lat = _metres_per_degree(mid_lat)
    area_m2 = max((east - west) * m_lon * (north - south) * m_lat, 1.0)
    edges = (features.kind[segments.feature] == KIND_POLYGON) | (features.kind[segments.feature] == KIND_DISTRICT)
    edge_length_m = float(segments.length_m[edges].sum()) if len(segments) else 0.0
    if cell_m is None:
        # Mixed band around an edge is about 1.5 cells wide: choose the cell for TARGET_EDGE_SHARE.
        from_density = TARGET_EDGE_SHARE * area_m2 / (1.5 * edge_length_m) if edge_length_m > 0 else MAX_CELL_M
        cell_m = min(max(from_density, MIN_CELL_M, math.sqrt(area_m2 / max_cells) * 1.05), MAX_CELL_M)
    dlon = cell_m / m_lon
    dlat = cell_m / m_lat
    # Two spare cells all round, so round caps and nanometre noise stay inside the grid.
    lon0 = west - 2 * dlon
    lat0 = south - 2 * dlat
    nx = math.ceil((east - lon0) / dlon) + 3
    ny = math.ceil((north - lat0) / dlat) + 3
    # How the projection stretches a cell: singular values of its Jacobian on a 5 x 5 sample.
    sample_lon, sample_lat = np.meshgrid(np.linspace(lon0, lon0 + nx * dlon, 5), np.linspace(lat0, lat0 + ny * dlat, 5))
    sample_lon, sample_lat = sample_lon.ravel(), sample_lat.ravel()
    x0, y0 = (np.asarray(v) for v in to_metric.transform(sample_lon, sample_lat))
    x1, y1 = (np.asarray(v) for v in to_metric.transform(sample_lon + dlon, sample_lat))
    x2, y2 = (np.asarray(v) for v in to_metric.transform(sample_lon, sample_lat + dlat))
    jacobian = np.stack([np.stack([x1 - x0, x2 - x0], -1), np.stack([y1 - y0, y2 - y0], -1)], -2)
    singular = np.linalg.svd(jacobian, compute_uv=False)
    # A 1 % allowance for the variation between samples (projection scale changes by far less).
    half_diagonal_m = float(np.max(np.hypot(x1 - x0 + x2 - x0, y1 - y0 + y2 - y0)) * 0.5 * 1.01)
    half_diagonal_m = max(half_diagonal_m, float(singular.max()) * math.sqrt(2) / 2 * 1.01)
    metres_per_cell_min = float(singular.min()) * 0.99
    return Grid(
        float(lon0), float(lat0), float(dlon), float(dlat), nx, ny, float(cell_m), half_diagonal_m, metres_per_cell_min
    )


def _candidate_pairs(
    features: Features, segments: Segments, grid: Grid, to_wgs84: Transformer
) -> tuple[np.ndarray, np.ndarray]:
    """(cell, segment) pairs where the segment can matter to some point of the cell.

    A pair is kept when the cell centre lies within ``reach`` of the segment, where
    ``reach = radius + EPS_M + half_diagonal + margin``. The test runs in cell
    coordinates (u, v: one unit per cell, centres at half-units), where a segment is
    the chord between its exactly projected endpoints and distances are metric ones
    divided by at most ``grid.metres_per_cell_min``; ``margin`` covers the chord's
    curvature. For each row of cells the points within reach form one interval (the
    capsule around a segment is convex), so the cells are produced row by row with
    no over-generation. Returned sorted by cell, then segment.
    """
    if not len(segments):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    length = segments.length_m
    reach_m = features.radius_m[segments.feature] + EPS_M + grid.half_diagonal_m
    reach_m = reach_m + 0.05 + 1e-3 * reach_m + 1e-7 * length * length
    reach = reach_m / grid.metres_per_cell_min
    ax, ay = segments.ax, segments.ay
    lon_a, lat_a = (np.asarray(v) for v in to_wgs84.transform(ax, ay))
    lon_b, lat_b = (np.asarray(v) for v in to_wgs84.transform(ax + segments.vx, ay + segments.vy))
    ua, va = (lon_a - grid.lon0) / grid.dlon, (lat_a - grid.lat0) / grid.dlat
    ub, vb = (lon_b - grid.lon0) / grid.dlon, (lat_b - grid.lat0) / grid.dlat
    # Rows whose centre line (v = row + 0.5) passes within reach of the segment.
    first_row = np.maximum(np.ceil(np.minimum(va, vb) - reach - 0.5), 0).astype(np.int64)
    last_row = np.minimum(np.floor(np.maximum(va, vb) + reach - 0.5), grid.ny - 1).astype(np.int64)
    rows_per_seg = np.maximum(last_row - first_row + 1, 0)
    seg = np.repeat(np.arange(len(segments)), rows_per_seg)
    row = first_row[seg] + _ranges(rows_per_seg)
    v = row + 0.5
    lo, hi = _capsule_row(ua[seg], va[seg], ub[seg], vb[seg], reach[seg], v)
    # Clipping first keeps empty rows (lo = inf, hi = -inf) finite before the integer cast.
    first_col = np.clip(np.ceil(lo - 0.5), 0, grid.nx).astype(np.int64)
    last_col = np.clip(np.floor(hi - 0.5), -1, grid.nx - 1).astype(np.int64)
    cols = np.maximum(last_col - first_col + 1, 0)
    pair_seg = np.repeat(seg, cols)
    cells = np.repeat(row * grid.nx + first_col, cols) + _ranges(cols)
    return np.divmod(np.sort(cells * len(segments) + pair_seg), len(segments))


def _capsule_row(
    ua: np.ndarray, va: np.ndarray, ub: np.ndarray, vb: np.ndarray, reach: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where the horizontal line at ``v`` meets the capsule (segment a-b widened by reach): [lo, hi].

    The capsule is the union of two discs and a rectangle; the line meets each in an
    interval (possibly empty) and, the capsule being convex, their union is the hull.
    Empty rows come back with lo > hi.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.full(len(v), np.inf)
        hi = np.full(len(v), -np.inf)
        for cu, cv in ((ua, va), (ub, vb)):
            dv = v - cv
            half = np.sqrt(reach * reach - dv * dv)  # NaN when the line misses the disc
            hit = np.isfinite(half)
            lo = np.where(hit, np.minimum(lo, cu - half), lo)
            hi = np.where(hit, np.maximum(hi, cu + half), hi)
        dx, dy = ub - ua, vb - va
        length = np.hypot(dx, dy)
        # Strip: |(u - ua) * -dy + (v - va) * dx| <= reach * length; slab: 0 <= (u - ua) dx + (v - va) dy <= length².
        k = dy * ua + (v - va) * dx
        strip_lo, strip_hi = _linear_interval(dy, k - reach * length, k + reach * length)
        m = ua * dx - (v - va) * dy
        slab_lo, slab_hi = _linear_interval(dx, m, m + length * length)
        rect_lo = np.maximum(strip_lo, slab_lo)
        rect_hi = np.minimum(strip_hi, slab_hi)
        rect = (length > 0) & (rect_lo <= rect_hi)
        lo = np.where(rect, np.minimum(lo, rect_lo), lo)
        hi = np.where(rect, np.maximum(hi, rect_hi), hi)
    return lo, hi


def _linear_interval(a: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The u with low <= a * u <= high: an interval, everything (a = 0, 0 in range) or nothing."""
    with np.errstate(invalid="ignore", divide="ignore"):
        first = low / a
        second = high / a
    lo = np.where(a > 0, first, second)
    hi = np.where(a > 0, second, first)
    flat = a == 0
    inside = (low <= 0) & (high >= 0)
    lo = np.where(flat, np.where(inside, -np.inf, np.inf), lo)
    hi = np.where(flat, np.where(inside, np.inf, -np.inf), hi)
    return lo, hi


def _ranges(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each count, concatenated."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def _unique_of_sorted(ordered: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array."""
    if not len(ordered):
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _in_sorted(values: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """Which values occur in a sorted array without repeats (np.isin without its overheads)."""
    if not len(sorted_unique):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_unique, values), len(sorted_unique) - 1)
    return sorted_unique[at] == values


def _scanline_crossings(polygons: np.ndarray, owners: np.ndarray, grid: Grid) -> tuple[np.ndarray, ...]:
    """Where the rings of polygons (degrees) cross each row's centre line: (owner, row, lon)."""
    parts, part_owner = shapely.get_parts(polygons, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same = coord_ring[1:] == coord_ring[:-1]
    x1, y1 = coords[:-1, 0][same], coords[:-1, 1][same]
    x2, y2 = coords[1:, 0][same], coords[1:, 1][same]
    owner = owners[part_owner[ring_part[coord_ring[:-1][same]]]]
    # Rows whose centre latitude is in [min(y1, y2), max(y1, y2)): the half-open rule keeps counts even.
    lo = np.minimum(y1, y2)
    hi = np.maximum(y1, y2)
    first_row = np.ceil((lo - grid.lat0) / grid.dlat - 0.5).astype(np.int64)
    end_row = np.ceil((hi - grid.lat0) / grid.dlat - 0.5).astype(np.int64)
    counts = np.maximum(end_row - first_row, 0)
    edge = np.repeat(np.arange(len(x1)), counts)
    row = first_row[edge] + np.arange(len(edge)) - np.repeat(np.cumsum(counts) - counts, counts)
    yc = grid.lat0 + (row + 0.5) * grid.dlat
    x = x1[edge] + (yc - y1[edge]) * (x2[edge] - x1[edge]) / (y2[edge] - y1[edge])
    return owner[edge], row, x


def _spans(
    polygons: np.ndarray, owners: np.ndarray, grid: Grid
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of cells whose centres a polygon covers, row by row (even-odd rule): owner, row, first, end."""
    owner, row, x = _scanline_crossings(polygons, owners, grid)
    order = np.lexsort((x, row, owner))
    owner, row, x = owner[order], row[order], x[order]
    start_owner, start_row, start_x, end_x = owner[0::2], row[0::2], x[0::2], x[1::2]
    first = np.ceil((start_x - grid.lon0) / grid.dlon - 0.5).astype(np.int64)
    end = np.ceil((end_x - grid.lon0) / grid.dlon - 0.5).astype(np.int64)
    inside = (start_row >= 0) & (start_row < grid.ny)
    first = np.clip(first, 0, grid.nx)
    end = np.clip(end, 0, grid.nx)
    keep = inside & (end > first)
    return start_owner[keep], start_row[keep], first[keep], end[keep]


def _district_raster(features: Features, lonlat: np.ndarray, grid: Grid) -> np.ndarray:
    """District index of each cell centre (-1 none); the first in frame order where they overlap."""
    n_zone = features.n_zone
    n_district = len(features) - n_zone
    result = np.full(grid.n_cells, -1, dtype=np.int32)
    if not n_district:
        return result
    owner, row, first, end = _spans(lonlat[n_zone:], np.arange(n_district), grid)
    width = grid.nx + 1
    count = np.zeros(grid.ny * width, dtype=np.int16)
    total = np.zeros(grid.ny * width, dtype=np.int32)
    np.add.at(count, row * width + first, 1)
    np.add.at(count, row * width + end, -1)
    np.add.at(total, row * width + first, owner + 1)
    np.add.at(total, row * width + end, -(owner + 1))
    count = np.cumsum(count.reshape(grid.ny, width), axis=1, dtype=np.int16)[:, : grid.nx].ravel()
    total = np.cumsum(total.reshape(grid.ny, width), axis=1, dtype=np.int32)[:, : grid.nx].ravel()
    single = count == 1
    result[single] = total[single] - 1
    overlap = np.flatnonzero(count > 1)
    if len(overlap):
        # Overlapping districts (a data error, reported by validation): first in frame order wins.
        lon, lat = grid.centres(overlap)
        best = np.full(len(overlap), np.iinfo(np.int32).max, dtype=np.int64)
        for d in range(n_district):
            hit = shapely.contains_xy(lonlat[n_zone + d], lon, lat)
            best[hit] = np.minimum(best[hit], d)
        result[overlap] = np.where(best == np.iinfo(np.int32).max, -1, best)
    return result


def _sure_pairs(features: Features, lonlat: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(cell, feature) for every cell centre inside a polygon feature's zone (lines are never sure)."""
    polygons = np.flatnonzero(features.kind[: features.n_zone] == KIND_POLYGON)
    if not len(polygons):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    owner, row, first, end = _spans(lonlat[polygons], polygons, grid)
    counts = end - first
    span = np.repeat(np.arange(len(counts)), counts)
    col = first[span] + np.arange(len(span)) - np.repeat(np.cumsum(counts) - counts, counts)
    cells = row[span] * grid.nx + col
    return cells, owner[span].astype(np.int64)


def _signatures(
    features: Features, grid: Grid, district: np.ndarray, sure_cf: np.ndarray, n_feat: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cell codes and the signature tables.

    Signatures 0..D are "district d - 1 and no polygon" (0: outside every district);
    the rest are the distinct (district, set of sure features) of the other cells.
    Sets are grouped by a sum of random keys (one vectorised pass), then every
    group is compared element by element with its group's first set: a set that
    differs (a collision of the sums) gets its own signature through an exact
    tuple lookup. The identity is exact; the keys only make the usual case fast.
    """
    n_district = len(features) - features.n_zone
    codes = (district + 1).astype(np.int32)
    sig_district = [np.arange(-1, n_district, dtype=np.int32)]
    sig_sets: list[np.ndarray] = [np.empty(0, np.int32)] * (n_district + 1)
    if len(sure_cf):
        feature_keys, district_keys = _set_keys(n_feat, n_district)
        cells, feats = np.divmod(sure_cf, n_feat)
        new_cell = np.r_[True, cells[1:] != cells[:-1]]
        starts = np.flatnonzero(new_cell)
        ends = np.append(starts[1:], len(cells))
        group_cells = cells[starts]
        group_district = district[group_cells]
        with np.errstate(over="ignore"):
            hashes = np.add.reduceat(feature_keys[feats], starts) + district_keys[group_district + 1]
        _, first_group, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        same = _same_sets(feats, starts, ends, group_district, first_group[inverse])
        # Exact identities: a group equal to its class's first set takes that set's signature; any
        # other (a collision) is looked up by its (district, features) tuple.
        signature_of_class = np.arange(len(first_group), dtype=np.int64)
        group_signature = signature_of_class[inverse]
        representatives = [(int(g), int(starts[g]), int(ends[g])) for g in first_group]
        exact: dict[tuple[int, tuple[int, ...]], int] = {}
        if not same.all():
            for klass, (g, lo, hi) in enumerate(representatives):
                exact[(int(group_district[g]), tuple(feats[lo:hi].tolist()))] = klass
            for g in np.flatnonzero(~same).tolist():
                key = (int(group_district[g]), tuple(feats[starts[g] : ends[g]].tolist()))
                found = exact.get(key)
                if found is None:
                    found = exact[key] = len(representatives)
                    representatives.append((g, int(starts[g]), int(ends[g])))
                group_signature[g] = found
        codes[group_cells] = (n_district + 1 + group_signature).astype(np.int32)
        for _g, lo, hi in representatives:
            sig_sets.append(feats[lo:hi].astype(np.int32))
        sig_district.append(np.array([group_district[g] for g, _, _ in representatives], dtype=np.int32))
    sizes = np.array([len(s) for s in sig_sets], dtype=np.int64)
    sig_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    sig_features = np.concatenate(sig_sets).astype(np.int32) if len(sig_sets) else np.empty(0, np.int32)
    return codes, np.concatenate(sig_district), sig_ptr, sig_features


def _set_keys(n_feat: int, n_district: int) -> tuple[np.ndarray, np.ndarray]:
    """Random 64-bit keys per feature and per district (+1 for "none"): their sums group the sets."""
    rng = np.random.default_rng(_KEY_SEED)
    feature_keys = rng.integers(1, np.iinfo(np.int64).max, size=n_feat, dtype=np.int64).astype(np.uint64)
    district_keys = rng.integers(1, np.iinfo(np.int64).max, size=n_district + 1, dtype=np.int64).astype(np.uint64)
    return feature_keys, district_keys


def _same_sets(
    feats: np.ndarray, starts: np.ndarray, ends: np.ndarray, group_district: np.ndarray, other: np.ndarray
) -> np.ndarray:
    """Per group g: whether its (district, features) equal those of group ``other[g]`` (vectorised)."""
    lengths = ends - starts
    same = (lengths == lengths[other]) & (group_district == group_district[other])
    check = np.flatnonzero(same & (other != np.arange(len(starts))))
    if len(check):
        counts = lengths[check]
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        mine = feats[np.repeat(starts[check], counts) + offsets]
        theirs = feats[np.repeat(starts[other[check]], counts) + offsets]
        differs = np.repeat(np.arange(len(check)), counts)[mine != theirs]
        same[check[np.unique(differs)]] = False
    return same
