"""Coordinates a lookup is asked about: checked, named when unusable, and brought to WGS-84.

One point (:func:`point_in_wgs84`, :class:`CoordinateError` when unusable) or arrays
(:func:`points_in_wgs84`, a message per unusable point, so a batch carries on). Messages
name the value; a pair that reads as (lat, lon) says so, since map apps copy it that way.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["GEOGRAPHIC_DATUMS", "SWAPPED_HINT", "CoordinateError", "one_point", "point_in_wgs84", "points_in_wgs84"]

GEOGRAPHIC_DATUMS = frozenset({"wgs84", "cgcs2000", "gcj02", "bd09"})


class CoordinateError(ValueError):
    """A coordinate that is not a finite number, or out of range for its CRS.

    ``problem`` says what is wrong; ``swapped`` is true when the pair reads as
    (lat, lon): the message then adds the hint, and a caller with its own way of
    saying it (the CLI shows the corrected command) uses ``problem`` and its own.
    """

    def __init__(self, problem: str, *, swap_hint: str = "") -> None:
        self.problem = problem
        self.swapped = bool(swap_hint)
        super().__init__(problem + swap_hint)


# Map apps often copy "lat, lon": said wherever a lookup error surfaces (CLI, HTTP, batch rows).
SWAPPED_HINT = "; the numbers look swapped: the longitude comes first"


@functools.lru_cache(maxsize=64)
def _is_geographic(crs_name: str) -> bool:
    if crs_name in GEOGRAPHIC_DATUMS:
        return True
    from pyproj import CRS

    return bool(CRS.from_user_input(crs_name).is_geographic)


def _crs_name(crs: Any) -> str:
    if crs is None or crs == "wgs84":
        return "wgs84"
    from geo.datums import normalize_crs

    return normalize_crs(crs)


def _describe(value: float) -> str:
    return repr(float(value)) if isinstance(value, float | int | np.floating | np.integer) else repr(value)[:40]


def _point_problem(lon: float, lat: float, crs_name: str) -> tuple[str, bool]:
    """(why a coordinate pair is unusable, whether it reads as lat/lon); ('', False) when fine."""
    for axis, value in (("longitude", lon), ("latitude", lat)):
        if not math.isfinite(value):
            return f"{axis} {_describe(value)} is not a finite number", False
    if _is_geographic(crs_name):
        if not -180.0 <= lon <= 180.0:
            return f"longitude {_describe(lon)} is out of range (-180 to 180)", False
        if not -90.0 <= lat <= 90.0:
            return f"latitude {_describe(lat)} is out of range (-90 to 90)", abs(lon) <= 90.0 and abs(lat) <= 180.0
    return "", False


def _point_error(lon: float, lat: float, crs_name: str) -> str:
    """Why a coordinate pair is unusable, with the swap hint when it applies ('' when fine)."""
    problem, swapped = _point_problem(lon, lat, crs_name)
    return problem + (_swap_hint(lon, lat) if swapped else "")


def _swap_hint(lon: float, lat: float) -> str:
    return f"{SWAPPED_HINT} (lon={_describe(lat)}, lat={_describe(lon)})"


def _number(value: Any, axis: str) -> float:
    if isinstance(value, bool):
        raise CoordinateError(f"{axis} {value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CoordinateError(f"{axis} {str(value)[:40]!r} is not a number") from None


def point_in_wgs84(lon: Any, lat: Any, crs: Any = "wgs84") -> tuple[str, float, float, float, float]:
    """(crs name, lon, lat as given, lon, lat in WGS-84); CoordinateError when unusable.

    Raises:
        CoordinateError: NaN, infinite or out-of-range coordinates (the message names the value).
        geo.datums.UnknownCRSError: an unknown CRS.
    """
    crs_name = _crs_name(crs)
    x = _number(lon, "longitude")
    y = _number(lat, "latitude")
    problem, swapped = _point_problem(x, y, crs_name)
    if problem:
        raise CoordinateError(problem, swap_hint=_swap_hint(x, y) if swapped else "")
    if crs_name in ("wgs84", "cgcs2000"):
        return crs_name, x, y, x, y
    from geo.datums import to_wgs84

    lon_w, lat_w = to_wgs84(x, y, crs_name)
    if not (math.isfinite(lon_w) and math.isfinite(lat_w) and -180 <= lon_w <= 180 and -90 <= lat_w <= 90):
        raise CoordinateError(f"({_describe(x)}, {_describe(y)}) in {crs_name} does not convert to a WGS-84 position")
    return crs_name, x, y, float(lon_w), float(lat_w)


def points_in_wgs84(lons: Any, lats: Any, crs: Any = "wgs84") -> tuple[str, np.ndarray, np.ndarray, dict[int, str]]:
    """Arrays of points in WGS-84 (NaN where unusable) and the error of each unusable point.

    The input arrays are never modified (they may be returned as they are).
    """
    crs_name = _crs_name(crs)
    lon, lon_bad = _float_array(lons, "longitude")
    lat, lat_bad = _float_array(lats, "latitude")
    if lon.shape != lat.shape:
        raise ValueError(f"{len(lon)} longitudes but {len(lat)} latitudes: give one of each per point")
    errors = {**lat_bad, **lon_bad}  # the longitude's message wins when both are bad
    with np.errstate(invalid="ignore"):
        if _is_geographic(crs_name):
            ok = (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)  # False for NaN
        else:
            ok = np.isfinite(lon) & np.isfinite(lat)
        ok &= np.isfinite(lon)  # inf passes the range test only if it is in range, which it is not
    bad = np.flatnonzero(~ok)
    for i in bad.tolist():
        if i not in errors:
            errors[i] = _point_error(float(lon[i]), float(lat[i]), crs_name)
    if crs_name in ("wgs84", "cgcs2000"):
        if not len(bad):
            return crs_name, lon, lat, errors
        lon_w, lat_w = lon.copy(), lat.copy()
    else:
        from geo.datums import to_wgs84

        lon_w = np.full(len(lon), np.nan)
        lat_w = np.full(len(lat), np.nan)
        lon_w[ok], lat_w[ok] = to_wgs84(lon[ok], lat[ok], crs_name)
        with np.errstate(invalid="ignore"):
            converted = (np.abs(lon_w) <= 180) & (np.abs(lat_w) <= 90)
        for i in np.flatnonzero(ok & ~converted).tolist():
            errors[i] = (
                f"({_describe(lon[i])}, {_describe(lat[i])}) in {crs_name} does not convert to a WGS-84 position"
            )
        ok &= converted
    lon_w[~ok] = np.nan
    lat_w[~ok] = np.nan
    return crs_name, lon_w, lat_w, errors


def _float_array(values: Any, axis: str) -> tuple[np.ndarray, dict[int, str]]:
    """Values as float64; entries that are not numbers become NaN with a message naming them."""
    if isinstance(values, pd.Series | pd.Index):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.dtype.kind in "fiu":
        return array.astype(np.float64, copy=False).ravel(), {}
    flat = array.ravel()
    numbers = pd.to_numeric(pd.Series(flat, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
    bad: dict[int, str] = {}
    for i in np.flatnonzero(np.isnan(numbers)):
        value = flat[i]
        if value is None or value is pd.NA or (isinstance(value, str) and not value.strip()):
            bad[int(i)] = f"{axis} is missing"
        elif isinstance(value, float | np.floating) or str(value).strip().lower() in ("nan", "+nan", "-nan"):
            continue  # a NaN, given or written: reported as not finite with the others
        else:
            bad[int(i)] = f"{axis} {str(value)[:40]!r} is not a number"
    return numbers, bad


def one_point(lon: Any, lat: Any, crs: Any) -> tuple[str, float, float, float, float]:
    """:func:`point_in_wgs84`, with the usual case (WGS-84 floats in range) answered without calls."""
    if type(lon) is float and type(lat) is float and type(crs) is str and crs == "wgs84":
        if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:  # NaN fails these and gets its message below
            return "wgs84", lon, lat, lon, lat
    return point_in_wgs84(lon, lat, crs)
