"""Who is responsible here? Point lookup, one point or millions, in every datum used in China.

``lookup(ds, lon, lat)`` answers one point with every duty zone that covers it, most
specific first (layer priority, then distance), and the district's fallback HQ unit
last; outside every district it says so and names the nearest zone.
``lookup_many(ds, lons, lats)`` answers arrays of points with one row each (the best
match), or every match in long form, and gives the same best answer as ``lookup``.

Both read one index per (dataset, date), built on first use and cached on the
Dataset: the geometric grid (:mod:`geo.lookup_index`) and the answer rows of the date
(:mod:`geo.lookup_answers`), kept per date by :mod:`geo.lookup_dates`. Semantics are
DESIGN section 5; see those modules for how exactness is kept on zone edges and
stretch cuts. The rest is split by concern: result types (:mod:`geo.lookup_results`),
the nearest zone outside the frame (:mod:`geo.lookup_nearest`), coordinate checks
(:mod:`geo.lookup_points`). The HTTP answer's bytes are :mod:`api.lookup_json`.

    >>> ds = load_dataset()
    >>> result = ds.lookup(109.03, 32.69)             # WGS-84 GPS
    >>> result.best.units[0].name, result.to_dict()["matches"]
    >>> ds.lookup(109.036, 32.687, crs="gcj02")       # an AMap / Tencent position
    >>> ds.lookup_many(lons, lats)[["feature_id", "unit_id", "distance_m"]]
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo.lookup_answers import FALLBACK_RANK, TEXT_COLUMNS, AnswerIndex
from geo.lookup_dates import as_date, geometry_index, lookup_index
from geo.lookup_index import EPS_M, GeometryIndex
from geo.lookup_points import CoordinateError, one_point, point_in_wgs84, points_in_wgs84
from geo.lookup_results import LookupResult, Match, Nearest

if TYPE_CHECKING:
    from geo.dataset import Dataset

__all__ = [
    "RESULT_COLUMNS",
    "CoordinateError",
    "LookupResult",
    "Match",
    "Nearest",
    "as_date",
    "cell_code",
    "geometry_index",
    "locate",
    "locate_one",
    "lookup",
    "lookup_index",
    "lookup_many",
    "point_in_wgs84",
    "points_in_wgs84",
]

RESULT_COLUMNS: tuple[str, ...] = (
    *TEXT_COLUMNS,
    "from_m",
    "to_m",
    "distance_m",
    "fallback",
    "priority",
    "district_id",
    "inside_frame",
    "error",
)


# ---------------------------------------------------------------------------------------------
# One point
# ---------------------------------------------------------------------------------------------


def lookup(
    ds: Dataset, lon: Any, lat: Any, crs: Any = "wgs84", date: Any = None, *, one_off: bool = False
) -> LookupResult:
    """Every duty zone covering a point, most specific first, and the district fallback last.

    Args:
        ds: the Dataset.
        lon, lat: the point in ``crs`` (for projected EPSG systems: easting, northing).
        crs: wgs84 (GPS, default), cgcs2000, gcj02 (AMap, Tencent), bd09 (Baidu) or EPSG:n.
        date: the date the answer is for (default today); assignments are dated.
        one_off: the process asks about a point or two (``respmap lookup``): answer from a
            coarse grid that builds in milliseconds (the same answers, see
            :func:`geo.lookup_dates.geometry_index`).

    Raises:
        CoordinateError: NaN, infinite or out-of-range coordinates.
        geo.datums.UnknownCRSError: an unknown CRS.
        ValueError: a date that is not YYYY-MM-DD.
    """
    answers = lookup_index(ds, date, one_off=one_off)
    crs_name, x, y, lon_w, lat_w = one_point(lon, lat, crs)
    rows, distances, district, sig = locate_one(answers, lon_w, lat_w, cell_code(answers.geometry, lon_w, lat_w))
    return LookupResult(answers, x, y, crs_name, lon_w, lat_w, district, rows, distances, sig)


def cell_code(geometry: GeometryIndex, lon: float, lat: float) -> int:
    """The grid's code of a WGS-84 point: >= 0 a fixed cell's signature, < 0 a mixed cell."""
    return geometry.cells.item(geometry.grid.cell_of(lon, lat))


def locate_one(
    answers: AnswerIndex, lon: float, lat: float, code: int
) -> tuple[Sequence[int], Sequence[float], int, int]:
    """Rows and distances of a WGS-84 point (of cell ``code``) in answer order, its district, its signature or -1."""
    if code >= 0:
        rows, district = _fixed(answers, code)
        return rows, (0.0,) * len(rows), district, code
    geometry = answers.geometry
    x_m, y_m = geometry.metric_one(lon, lat)
    covered, district = geometry.resolve_one(-code - 1, x_m, y_m)
    rows, distances = _one_mixed(answers, int(geometry.mixed_sig[-code - 1]), covered, district)
    return rows, distances, district, -1


def _one_mixed(
    answers: AnswerIndex, sig: int, covered: list[tuple[int, float, float]], district: int
) -> tuple[list[int], list[float]]:
    """Rows and distances of one point in a mixed cell, in answer order (as :func:`_mixed_matches`)."""
    rank, piece_start, has_cuts, bounds, bounds_start, bounds_offset = answers.python_tables
    entries = [(rank[row], 0.0, row) for row in _fixed(answers, sig)[0] if rank[row] < FALLBACK_RANK]
    for feature, distance, along in covered:
        first = piece_start[feature]
        if has_cuts[feature]:
            shifted = along + bounds_offset[feature]
            lo = bisect.bisect_left(bounds, shifted - EPS_M) - bounds_start[feature]
            hi = bisect.bisect_right(bounds, shifted + EPS_M) - bounds_start[feature]
            entries.extend((rank[first + i], distance, first + i) for i in range(lo, hi + 1))
        else:
            entries.append((rank[first], distance, first))
    entries.sort()
    rows = [row for _, _, row in entries]
    distances = [distance for _, distance, _ in entries]
    if district >= 0:
        rows.append(answers.fallback_row0 + district)
        distances.append(0.0)
    return rows, distances


def _fixed(answers: AnswerIndex, sig: int) -> tuple[tuple[int, ...], int]:
    """Rows of a fixed cell's signature (with its fallback), cached as Python tuples."""
    cache = answers.fixed_cache
    found = cache.get(sig)
    if found is None:
        geometry = answers.geometry
        rows = answers.sig_rows[answers.sig_rows_ptr[sig] : answers.sig_rows_ptr[sig + 1]].tolist()
        district = int(geometry.sig_district[sig])
        if district >= 0:
            rows.append(answers.fallback_row0 + district)
        found = cache[sig] = (tuple(rows), district)
    return found


def _mixed_matches(
    answers: AnswerIndex, mixed_ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, *, all_matches: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Matches of points in mixed cells: (point, row, distance) sorted in answer order, district per point.

    With ``all_matches`` every match (both stretches on a cut, every sure polygon,
    the fallback); otherwise only the best match per point (``point`` is 0..n-1).
    """
    geometry = answers.geometry
    x, y = geometry.metric(lon, lat)
    covered = geometry.resolve(mixed_ids, x, y)
    lo, hi = answers.piece_rows(covered.feature, covered.along_m)
    sig = geometry.mixed_sig[mixed_ids]
    sure_start = answers.sig_rows_ptr[sig]
    sure_count = answers.sig_rows_ptr[sig + 1] - sure_start
    n = len(mixed_ids)
    if all_matches:
        count = hi - lo + 1
        inside = np.flatnonzero(covered.district >= 0)
        point = np.concatenate([np.repeat(covered.point, count), np.repeat(np.arange(n), sure_count), inside])
        row = np.concatenate(
            [
                np.repeat(lo, count) + _ranges(count),
                answers.sig_rows[np.repeat(sure_start, sure_count) + _ranges(sure_count)],
                answers.fallback_row0 + covered.district[inside],
            ]
        )
        distance = np.concatenate([np.repeat(covered.distance_m, count), np.zeros(int(sure_count.sum()) + len(inside))])
        order = np.lexsort((row, distance, answers.rank[row], point))
        return point[order], row[order], distance[order], covered.district

    has_sure = np.flatnonzero(sure_count > 0)
    point = np.concatenate([covered.point, has_sure])
    row = np.concatenate([lo, answers.sig_rows[sure_start[has_sure]]])
    distance = np.concatenate([covered.distance_m, np.zeros(len(has_sure))])
    best_row = answers.fallback_rows(covered.district)
    best_distance = np.where(covered.district >= 0, 0.0, np.nan)
    # Most points have one candidate: it is the answer. Only the others need sorting.
    per_point = np.bincount(point, minlength=n)
    alone = per_point[point] == 1
    best_row[point[alone]] = row[alone]
    best_distance[point[alone]] = distance[alone]
    several = np.flatnonzero(~alone)
    if len(several):
        p, r, d = point[several], row[several], distance[several]
        order = np.lexsort((r, d, answers.rank[r], p))
        p, r, d = p[order], r[order], d[order]
        first = np.r_[True, p[1:] != p[:-1]]
        best_row[p[first]] = r[first]
        best_distance[p[first]] = d[first]
    return np.arange(n), best_row, best_distance, covered.district


def _ranges(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each count, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


# ---------------------------------------------------------------------------------------------
# Many points
# ---------------------------------------------------------------------------------------------


def lookup_many(
    ds: Dataset, lons: Any, lats: Any, crs: Any = "wgs84", date: Any = None, *, all_matches: bool = False
) -> pd.DataFrame:
    """Best match of every point (one row each, input order), or every match in long form.

    Columns: layer, layer_title, feature_id, name, unit_id, unit_name, role (of the
    first unit: lead before shared before supervisor), unit_ids (all, ';'-joined),
    standard_id, grade, from_m, to_m (the stretch, NaN for a whole feature),
    distance_m (0 inside a polygon, NaN with no match), fallback (the district HQ
    answers), priority, district_id, inside_frame, error ('' or why the coordinates
    are unusable; such a row has no match and the batch carries on). Text columns
    are pandas Categoricals (a million rows share a few hundred names); empty
    strings where there is no match. ``all_matches=True`` adds ``point_index`` and
    ``match_rank`` and gives one row per match (one empty row for a point with none).

    Raises:
        geo.datums.UnknownCRSError: an unknown CRS.
        ValueError: a bad date, or lons and lats of different lengths.
    """
    answers = lookup_index(ds, date)
    _, lon, lat, errors = points_in_wgs84(lons, lats, crs)
    point, row, distance, district = locate(answers, lon, lat, all_matches=all_matches)
    frame = _frame(answers, row, distance, district[point], _error_column(errors, point, len(lon)))
    if all_matches:
        rank = np.arange(len(point)) - np.searchsorted(point, point, side="left")
        frame.insert(0, "point_index", point)
        frame.insert(1, "match_rank", rank)
    return frame


def _error_column(errors: dict[int, str], point: np.ndarray, n: int) -> pd.Categorical:
    """The error message of each output row, '' for usable points."""
    if not errors:
        return pd.Categorical.from_codes(np.zeros(len(point), dtype=np.int8), categories=[""])
    messages = sorted(set(errors.values()))
    code_of = {m: i + 1 for i, m in enumerate(messages)}
    per_point = np.zeros(n, dtype=np.int32)
    for i, message in errors.items():
        per_point[i] = code_of[message]
    return pd.Categorical.from_codes(per_point[point], categories=["", *messages])


def locate(
    answers: AnswerIndex, lon: np.ndarray, lat: np.ndarray, *, all_matches: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The batch engine: (point, row, distance_m) and the district of every point.

    Best mode gives one entry per point (``point`` is 0..n-1); ``all_matches`` gives
    every match sorted by point then answer order, with one empty row for points
    that have none. WGS-84 input; NaN points have no match.
    """
    geometry = answers.geometry
    n = len(lon)
    codes = geometry.cells[geometry.grid.padded_index(lon, lat)]
    mixed = np.flatnonzero(codes < 0)
    sig = np.maximum(codes, 0)  # mixed points are overwritten below
    district = geometry.sig_district[sig]
    if not all_matches:
        row = answers.sig_best_row[sig]
        distance = answers.sig_best_distance[sig]
        if len(mixed):
            _, mixed_row, mixed_distance, mixed_district = _mixed_matches(
                answers, -codes[mixed].astype(np.int64) - 1, lon[mixed], lat[mixed], all_matches=False
            )
            row[mixed] = mixed_row
            distance[mixed] = mixed_distance
            district[mixed] = mixed_district
        return np.arange(n), row, distance, district

    # Long form: fixed cells expand their signature's rows; mixed cells come from the exact test.
    fixed_points = np.flatnonzero(codes >= 0)
    fixed_codes = codes[fixed_points]
    start = answers.sig_rows_ptr[fixed_codes]
    count = answers.sig_rows_ptr[fixed_codes + 1] - start
    parts_point = [np.repeat(fixed_points, count)]
    parts_row = [answers.sig_rows[np.repeat(start, count) + _ranges(count)]]
    parts_distance = [np.zeros(int(count.sum()))]
    inside = fixed_points[district[fixed_points] >= 0]
    parts_point.append(inside)
    parts_row.append(answers.fallback_row0 + district[inside])
    parts_distance.append(np.zeros(len(inside)))
    if len(mixed):
        mixed_point, mixed_row, mixed_distance, mixed_district = _mixed_matches(
            answers, -codes[mixed].astype(np.int64) - 1, lon[mixed], lat[mixed], all_matches=True
        )
        district[mixed] = mixed_district
        parts_point.append(mixed[mixed_point])
        parts_row.append(mixed_row)
        parts_distance.append(mixed_distance)
    point = np.concatenate(parts_point).astype(np.int64)
    row = np.concatenate(parts_row).astype(np.int64)
    distance = np.concatenate(parts_distance)
    lonely = np.flatnonzero(np.bincount(point, minlength=n) == 0)
    point = np.concatenate([point, lonely])
    row = np.concatenate([row, np.full(len(lonely), answers.none_row, dtype=np.int64)])
    distance = np.concatenate([distance, np.full(len(lonely), np.nan)])
    order = np.lexsort((row, distance, answers.rank[row], point))
    return point[order], row[order], distance[order], district


def _frame(
    answers: AnswerIndex, row: np.ndarray, distance: np.ndarray, district: np.ndarray, errors: pd.Categorical
) -> pd.DataFrame:
    """The result table: text columns as Categoricals taken through per-row codes."""
    columns: dict[str, Any] = {}
    for column in TEXT_COLUMNS:
        codes, dtype = answers.codes(column)
        columns[column] = pd.Categorical.from_codes(codes[row], dtype=dtype, validate=False)
    columns["from_m"] = answers.from_m[row]
    columns["to_m"] = answers.to_m[row]
    columns["distance_m"] = distance
    columns["fallback"] = answers.fallback[row]
    columns["priority"] = answers.priority_or_nan[row]
    codes, dtype = answers.district_codes()
    columns["district_id"] = pd.Categorical.from_codes(codes[district], dtype=dtype, validate=False)
    columns["inside_frame"] = district >= 0
    columns["error"] = errors
    return pd.DataFrame(columns, copy=False)
