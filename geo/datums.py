"""Coordinate datums used in China, vectorised with numpy.

Field staff report positions in one of three "flavours" of longitude/latitude that differ by
roughly 500 m in Ankang (32.69N 109.03E), which is more than the width of most of the streets
and plots we assign to cleaning units, so every position must be brought to one datum before a
lookup:

* **WGS-84** (``"wgs84"``): raw GPS, OpenStreetMap, international map services.  This is the
  project's internal datum.
* **CGCS2000** (``"cgcs2000"``, EPSG:4490): China's official geodetic datum.  It differs from
  WGS-84 by a few centimetres, far below GPS noise, so it is treated as identical to WGS-84.
* **GCJ-02** (``"gcj02"``, "Mars coordinates"): the legally mandated obfuscation used by
  AMap/Gaode, Tencent, Apple Maps in China, etc.  It is WGS-84 plus a smooth, non-linear offset
  of a few hundred metres.  We implement the publicly documented reconstruction of the
  algorithm (Krasovsky 1940 ellipsoid, the ``transformlat``/``transformlon`` series).
* **BD-09** (``"bd09"``): Baidu's extra obfuscation applied on top of GCJ-02.
* Any other horizontal CRS known to PROJ (``"EPSG:<code>"``), e.g. the CGCS2000 Gauss-Kruger
  projections used in survey data.  For EPSG systems the ``lon``/``lat`` arguments are simply
  the CRS's x/y in ``always_xy`` order, i.e. easting/northing for projected systems.

Only the forward GCJ-02 and BD-09 formulas are published; the reverse directions are computed
here by a vectorised fixed-point iteration (see :func:`gcj02_to_wgs84`), which inverts the
forward formulas to better than 1e-9 degree (about 0.1 mm), so a round trip reproduces the
input to well under the 0.5 m this project requires.

Return types: every conversion returns a pair of float64 numpy arrays with the broadcast shape
of the inputs (always fresh arrays, never views of the input), except that when both inputs are
scalars (Python or numpy numbers, or 0-d arrays) the pair is two plain Python ``float`` values,
which is what API handlers want to serialise.  NaN inputs give NaN outputs; no floating-point
warnings are emitted.  Values are not range-checked, with one exception: a point that an EPSG
CRS cannot represent (PROJ's conversion does not come back to it, as when a northing of 1e9 m
in Swiss LV95 wraps into a plausible place in the Mediterranean) comes back as NaN.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Callable
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer

__all__ = [
    "BD09",
    "CGCS2000",
    "GCJ02",
    "WGS84",
    "UnknownCRSError",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "haversine_m",
    "normalize_crs",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = NDArray[np.float64]
#: What conversions return for one axis: an array, or a ``float`` for scalar input.
Coord = float | FloatArray
#: An array-level conversion kernel (lon, lat) -> (lon, lat).
_Kernel = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

# Datum names, as users write them (``--crs wgs84``); WGS84_CRS is the coordinate system itself,
# the one every layer is held in (geopandas and pyproj take it as it is).
WGS84: Final = "wgs84"
WGS84_CRS: Final = CRS.from_epsg(4326)
CGCS2000: Final = "cgcs2000"
GCJ02: Final = "gcj02"
BD09: Final = "bd09"

# --- GCJ-02 constants (public reconstruction of the algorithm) -----------------------------
#: Semi-major axis of the Krasovsky 1940 ellipsoid, metres.
_KRASOVSKY_A: Final = 6378245.0
#: First eccentricity squared of the Krasovsky 1940 ellipsoid.
_KRASOVSKY_EE: Final = 0.00669342162296594323
#: The rough China bounding box outside which GCJ-02 is the identity (inclusive inside).
_CHINA_LON_MIN: Final = 72.004
_CHINA_LON_MAX: Final = 137.8347
_CHINA_LAT_MIN: Final = 0.8293
_CHINA_LAT_MAX: Final = 55.8271

# --- BD-09 constants ------------------------------------------------------------------------
_X_PI: Final = math.pi * 3000.0 / 180.0
_BD_LON_SHIFT: Final = 0.0065
_BD_LAT_SHIFT: Final = 0.006

# --- Inversion and vectorisation ------------------------------------------------------------
#: Stop iterating once every point's residual is below this many degrees (~0.1 mm).
_INVERSE_TOL_DEG: Final = 1e-9
#: Hard cap on iterations.  Typical convergence takes 3-4: the offsets' Jacobian is ~1e-3
#: (GCJ-02) or ~2e-2 (BD-09), so each step shrinks the error by that factor.
_INVERSE_MAX_ITER: Final = 30
#: Points per block.  Kernels run on blocks of this size so that their dozens of temporaries
#: stay in CPU cache (faster than whole-array evaluation at 1e6 points), and so that each
#: block of an inverse stops iterating as soon as that block has converged.
_BLOCK: Final = 1 << 14

#: Mean Earth radius (IUGG), metres, for haversine distances.
_EARTH_RADIUS_M: Final = 6371008.8

#: A PROJ conversion whose inverse misses the input by more than this is no position at all
#: (the input lies beyond what the CRS can represent).  Datum shifts round-trip to millimetres.
_ROUND_TRIP_M: Final = 1.0
#: Metres per degree of latitude, to turn the round-trip allowance into degrees.
_M_PER_DEGREE: Final = 111_320.0

# --- CRS names -------------------------------------------------------------------------------
_ALIASES: Final[dict[str, str]] = {
    "": WGS84,
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "cgcs2000": CGCS2000,
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "mars": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "baidu": BD09,
}
#: EPSG codes that have a short name of their own.
_EPSG_SHORT_NAMES: Final[dict[int, str]] = {4326: WGS84, 4490: CGCS2000}
#: "EPSG:<digits>" or bare digits, ASCII only (``str.isdigit`` would accept e.g. "²").
_EPSG_RE: Final = re.compile(r"(?:epsg *: *)?([0-9]{1,9})", re.ASCII)
#: No accepted spelling is longer than this; longer input is rejected before any parsing.
_MAX_CRS_LEN: Final = 64
#: How much of a bad value is echoed back in error messages.
_ECHO_LEN: Final = 60
_ACCEPTED: Final = (
    "accepted: None/'wgs84' ('wgs-84', 'EPSG:4326', 4326), 'cgcs2000' ('EPSG:4490'), "
    "'gcj02' ('gcj-02', 'mars'), 'bd09' ('bd-09', 'baidu'), "
    "or 'EPSG:<code>'/<code> of a horizontal CRS known to PROJ"
)


class UnknownCRSError(ValueError):
    """Raised when a CRS name or code is not recognised.

    A ``ValueError`` subclass so API layers can map it to a 4xx response.  The message echoes
    at most ~60 characters of the offending value (escaped via ``repr``) and lists the
    accepted forms.
    """


def _describe(value: object) -> str:
    """Short, log-safe description of a rejected CRS value for error messages."""
    if isinstance(value, str):
        if len(value) > _ECHO_LEN:
            return f"{value[:_ECHO_LEN]!r}... ({len(value)} chars)"
        return repr(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        # str() of a huge int is slow and may raise (int max_str_digits), so bound it first.
        return str(int(value)) if abs(int(value)) < 10**12 else "<very large integer>"
    return f"<{type(value).__name__}>"


def _unknown(value: object, reason: str = "unknown CRS") -> UnknownCRSError:
    """Build the standard error for a rejected CRS value."""
    return UnknownCRSError(f"{reason} {_describe(value)}; {_ACCEPTED}")


@functools.lru_cache(maxsize=256)
def _is_usable_epsg(code: int) -> bool:
    """True if PROJ knows EPSG:<code> as a CRS with a horizontal (2-D position) part.

    Geocentric, vertical and engineering CRSs are rejected because a lon/lat (or x/y) pair
    cannot be transformed with them.  Cached: building a CRS costs about a millisecond.
    """
    try:
        crs = CRS.from_epsg(code)
        return bool(crs.is_geographic or crs.is_projected)
    except Exception:  # any PROJ/pyproj failure just means "not usable"
        return False


def _name_for_epsg(code: int, original: object) -> str:
    """Canonical name for an EPSG code, or raise :class:`UnknownCRSError`."""
    if code in _EPSG_SHORT_NAMES:
        return _EPSG_SHORT_NAMES[code]
    if code <= 0 or not _is_usable_epsg(code):
        raise _unknown(original, "unknown or non-horizontal EPSG CRS")
    return f"EPSG:{code}"


def normalize_crs(crs: str | int | None) -> str:
    """Canonical name for a CRS given as a name, alias or EPSG code.

    Returns one of ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"`` or ``"EPSG:<code>"``
    so that callers can compare and cache on a single spelling.  Matching is case-insensitive
    and ignores surrounding whitespace.  ``None`` and ``""`` mean WGS-84, the project default;
    EPSG:4326 and EPSG:4490 map to ``"wgs84"`` and ``"cgcs2000"``.  Other EPSG codes are
    accepted only if PROJ knows them as a geographic or projected CRS.

    Raises:
        UnknownCRSError: for anything else (including non-str/int types, booleans and
            strings longer than 64 characters).  No pyproj exception escapes.
    """
    if crs is None:
        return WGS84
    if isinstance(crs, bool):  # bool is an int subclass; True is not "EPSG:1"
        raise _unknown(crs)
    if isinstance(crs, numbers.Integral):
        code = int(crs)
        if not 0 < code < 10**9:
            raise _unknown(crs, "unknown or non-horizontal EPSG CRS")
        return _name_for_epsg(code, crs)
    if not isinstance(crs, str):
        raise _unknown(crs, "unsupported CRS value")
    if len(crs) > _MAX_CRS_LEN:
        raise _unknown(crs)
    key = crs.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    match = _EPSG_RE.fullmatch(key)
    if match is None:
        raise _unknown(crs)
    return _name_for_epsg(int(match.group(1)), crs)


# ---------------------------------------------------------------------------------------------
# Array plumbing
# ---------------------------------------------------------------------------------------------


def _prepare(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    """Convert inputs to broadcast float64 arrays; also report whether both were scalars."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    scalar = lon_a.ndim == 0 and lat_a.ndim == 0
    lon_b, lat_b = np.broadcast_arrays(lon_a, lat_a)
    return lon_b, lat_b, scalar


def _finish(lon: FloatArray, lat: FloatArray, scalar: bool) -> tuple[Coord, Coord]:
    """Plain floats for scalar input, otherwise the (already fresh) arrays."""
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def _quiet() -> np.errstate:
    """Silence floating-point warnings: NaN/inf inputs are legitimate and propagate."""
    return np.errstate(all="ignore")


def _blockwise(kernel: _Kernel, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Apply an array kernel to same-shape arrays in blocks of ``_BLOCK`` points.

    Each kernel call is fully vectorised; the loop runs over blocks, not points.  Always
    returns new arrays of the input shape (never views of the input).
    """
    shape = lon.shape
    flat_lon = lon.reshape(-1)
    flat_lat = lat.reshape(-1)
    n = flat_lon.size
    out_lon = np.empty(n, dtype=np.float64)
    out_lat = np.empty(n, dtype=np.float64)
    for start in range(0, n, _BLOCK):
        block = slice(start, start + _BLOCK)
        out_lon[block], out_lat[block] = kernel(flat_lon[block], flat_lat[block])
    return out_lon.reshape(shape), out_lat.reshape(shape)


def _convert(kernel: _Kernel, lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """Shared body of the public conversions: coerce, run ``kernel`` quietly, shape output."""
    lon_a, lat_a, scalar = _prepare(lon, lat)
    with _quiet():
        return _finish(*_blockwise(kernel, lon_a, lat_a), scalar)


# ---------------------------------------------------------------------------------------------
# GCJ-02
# ---------------------------------------------------------------------------------------------


def _out_of_china(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    """Array version of :func:`out_of_china`."""
    return (lon < _CHINA_LON_MIN) | (lon > _CHINA_LON_MAX) | (lat < _CHINA_LAT_MIN) | (lat > _CHINA_LAT_MAX)


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points lie outside the rough China box where GCJ-02 applies.

    The box is the one used by the public GCJ-02 algorithm (lon 72.004-137.8347, lat
    0.8293-55.8271, edges inside); it is deliberately coarse and also covers neighbouring
    countries.  GCJ-02 is the identity outside it.  NaN counts as *not* outside, so NaN
    propagates through the conversions instead of being passed through unchanged by accident.

    Returns a boolean array of the broadcast shape (0-d for scalar input; ``bool(result)``
    works).
    """
    lon_a, lat_a, _ = _prepare(lon, lat)
    return np.asarray(_out_of_china(lon_a, lat_a))


def _sines(t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """sin(pi t / 12), sin(pi t / 3), sin(pi t), sin(2 pi t), sin(6 pi t) from one sin/cos pair.

    Transcendental calls are a large part of the cost of GCJ-02, so the higher harmonics are
    built with the exact double- and triple-angle identities instead of separate ``np.sin``
    calls.  Each identity step grows the rounding error only by its multiplier (72x in total),
    i.e. to ~1e-14, which is ~1e-13 m after scaling by the series' 13 m amplitudes; the tests
    compare against the literal series.
    """
    theta = t * (math.pi / 12.0)
    s12 = np.sin(theta)
    c12 = np.cos(theta)
    s6 = 2.0 * s12 * c12  # sin(pi t / 6)
    c6 = 1.0 - 2.0 * s12 * s12
    s3 = 2.0 * s6 * c6  # sin(pi t / 3)
    c3 = 1.0 - 2.0 * s6 * s6
    s1 = s3 * (3.0 - 4.0 * s3 * s3)  # sin(pi t)
    c1 = c3 * (4.0 * c3 * c3 - 3.0)
    s_2 = 2.0 * s1 * c1  # sin(2 pi t)
    s_6 = s_2 * (3.0 - 4.0 * s_2 * s_2)  # sin(6 pi t)
    return s12, s3, s1, s_2, s_6


def _gcj02_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees, ignoring the China box.

    The public series gives the shift in metres (north_m, east_m below, the ``transformlat``
    and ``transformlon`` of the usual write-ups) as smooth functions of x = lon - 105 and
    y = lat - 35; it is converted to degrees with the Krasovsky ellipsoid's meridional radius
    of curvature M and prime-vertical radius N: dlat = north_m / M and
    dlon = east_m / (N cos(lat)), in radians.  The sines are those of the series, computed
    via :func:`_sines`.
    """
    x = lon - 105.0
    y = lat - 35.0
    x_s12, x_s3, x_s1, x_s2, x_s6 = _sines(x)
    y_s12, y_s3, y_s1, _, _ = _sines(y)
    x_s30 = np.sin(x * (math.pi / 30.0))
    y_s30 = np.sin(y * (math.pi / 30.0))
    two_thirds = 2.0 / 3.0
    # This term appears identically in both series; compute it once.
    common = (20.0 * x_s6 + 20.0 * x_s2) * two_thirds
    sqrt_abs_x = np.sqrt(np.abs(x))
    xy = x * y
    north_m = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * xy
        + 0.2 * sqrt_abs_x
        + common
        + (20.0 * y_s1 + 40.0 * y_s3) * two_thirds
        + (160.0 * y_s12 + 320.0 * y_s30) * two_thirds
    )
    east_m = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * xy
        + 0.1 * sqrt_abs_x
        + common
        + (20.0 * x_s1 + 40.0 * x_s3) * two_thirds
        + (150.0 * x_s12 + 300.0 * x_s30) * two_thirds
    )
    sin_phi = np.sin(np.radians(lat))
    sin2_phi = sin_phi * sin_phi
    cos_phi = np.sqrt(1.0 - sin2_phi)  # >= 0 for |lat| <= 90, which covers the China box
    w = 1.0 - _KRASOVSKY_EE * sin2_phi
    sqrt_w = np.sqrt(w)
    m_radius = _KRASOVSKY_A * (1.0 - _KRASOVSKY_EE) / (w * sqrt_w)
    n_radius = _KRASOVSKY_A / sqrt_w
    dlat = np.degrees(north_m / m_radius)
    dlon = np.degrees(east_m / (n_radius * cos_phi))
    return dlon, dlat


def _wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Array kernel of :func:`wgs84_to_gcj02`."""
    dlon, dlat = _gcj02_offset(lon, lat)
    outside = _out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def _gcj02_unmasked(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS-84 -> GCJ-02 without the China box: the smooth map the inversion works on."""
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert(
    forward: _Kernel,
    target_lon: FloatArray,
    target_lat: FloatArray,
    guess_lon: FloatArray,
    guess_lat: FloatArray,
    active: NDArray[np.bool_] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(p) == target`` for p by fixed-point iteration, vectorised.

    Both obfuscations are the identity plus a slowly varying offset (Jacobian of the offset
    ~1e-3 for GCJ-02, ~2e-2 for BD-09), so the update ``p -= forward(p) - target`` is a
    contraction and converges geometrically from the public one-step guess.  A point is
    frozen after the update made with a residual below ``_INVERSE_TOL_DEG`` (that update
    leaves an error far smaller still), so its result does not depend on which other points
    share the batch.  Stops when all points are frozen or after ``_INVERSE_MAX_ITER`` steps.
    Inactive points (e.g. outside China) and NaN points are never updated; the caller
    overwrites the former, and the latter stay NaN.
    """
    lon = guess_lon.copy()
    lat = guess_lat.copy()
    done = np.zeros(lon.shape, dtype=bool) if active is None else ~active
    for _ in range(_INVERSE_MAX_ITER):
        f_lon, f_lat = forward(lon, lat)
        r_lon = f_lon - target_lon
        r_lat = f_lat - target_lat
        lon -= np.where(done, 0.0, r_lon)
        lat -= np.where(done, 0.0, r_lat)
        # "not >= tol" rather than "< tol" so that NaN residuals count as finished.
        done |= ~(np.maximum(np.abs(r_lon), np.abs(r_lat)) >= _INVERSE_TOL_DEG)
        if done.all():
            break
    return lon, lat


def _gcj02_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Array kernel of :func:`gcj02_to_wgs84`."""
    outside = _out_of_china(lon, lat)
    dlon, dlat = _gcj02_offset(lon, lat)
    w_lon, w_lat = _invert(_gcj02_unmasked, lon, lat, lon - dlon, lat - dlat, active=~outside)
    return np.where(outside, lon, w_lon), np.where(outside, lat, w_lat)


# ---------------------------------------------------------------------------------------------
# BD-09
# ---------------------------------------------------------------------------------------------


def _gcj02_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Array kernel of :func:`gcj02_to_bd09`: the public formula, applied everywhere.

    In polar form about the origin, the radius grows by 2e-5 sin(lat x_pi) degrees and the
    angle by 3e-6 cos(lon x_pi) radians; then a constant shift of (0.0065, 0.006) degrees.
    """
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + _BD_LON_SHIFT, z * np.sin(theta) + _BD_LAT_SHIFT


def _bd09_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Array kernel of :func:`bd09_to_gcj02`: public approximate inverse, then refined."""
    x = lon - _BD_LON_SHIFT
    y = lat - _BD_LAT_SHIFT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(_gcj02_to_bd09, lon, lat, z * np.cos(theta), z * np.sin(theta))


def _wgs84_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Array kernel of :func:`wgs84_to_bd09`."""
    return _gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))


def _bd09_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Array kernel of :func:`bd09_to_wgs84`."""
    return _gcj02_to_wgs84(*_bd09_to_gcj02(lon, lat))


# ---------------------------------------------------------------------------------------------
# Public point conversions
# ---------------------------------------------------------------------------------------------


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """WGS-84 -> GCJ-02 with the public algorithm (identity outside the China box)."""
    return _convert(_wgs84_to_gcj02, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """GCJ-02 -> WGS-84 by iteratively inverting :func:`wgs84_to_gcj02`.

    The widespread one-step formula (subtract the offset evaluated at the GCJ-02 point) is off
    by up to ~5 m; here it is only the starting guess.  A vectorised fixed-point iteration
    (3-4 steps in practice, at most 30) then drives the residual
    ``wgs84_to_gcj02(result) - input`` below 1e-9 degree (~0.1 mm) everywhere inside the China
    box.  Measured over 1e6 random points in the box: residual <= 7e-12 degree, WGS-84 ->
    GCJ-02 -> WGS-84 round-trip error <= 6e-7 m (the project needs 0.5 m).  Points
    outside the box are returned unchanged.  Within ~0.011 degree of the box edges (all far
    outside China's borders) the forward map can push a point across an edge, and such a point
    cannot be recovered; no inhabited Chinese area is affected.
    """
    return _convert(_gcj02_to_wgs84, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """GCJ-02 -> BD-09 with the public formula (applied everywhere, not only in China)."""
    return _convert(_gcj02_to_bd09, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """BD-09 -> GCJ-02, inverting :func:`gcj02_to_bd09` to a residual below 1e-9 degree.

    The public reverse formula is only approximate (errors up to ~0.25 m); it is used as the
    starting guess of the same fixed-point iteration as :func:`gcj02_to_wgs84`.  Measured
    GCJ-02 -> BD-09 -> GCJ-02 round-trip error over China: <= 3e-6 m.
    """
    return _convert(_bd09_to_gcj02, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """WGS-84 -> BD-09 (via GCJ-02)."""
    return _convert(_wgs84_to_bd09, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """BD-09 -> WGS-84 (via GCJ-02), both steps inverted iteratively to below 1e-9 degree."""
    return _convert(_bd09_to_wgs84, lon, lat)


# ---------------------------------------------------------------------------------------------
# Generic entry points
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _transformer(epsg: str, to_wgs: bool) -> Transformer:
    """Cached pyproj transformer between ``epsg`` and EPSG:4326, lon/lat (x/y) order.

    Building a Transformer costs milliseconds, so it is done once per CRS and direction.
    pyproj >= 3.1 Transformers are thread-safe, so sharing them between request threads is
    fine.  Datums without a published EPSG transformation to WGS-84 (Beijing 1954, Xian 1980)
    get PROJ's "ballpark" transformation, which ignores the datum shift (errors can reach
    ~100 m); CGCS2000-based systems are exact to centimetres.
    """
    try:
        if to_wgs:
            return Transformer.from_crs(epsg, "EPSG:4326", always_xy=True)
        return Transformer.from_crs("EPSG:4326", epsg, always_xy=True)
    except Exception as exc:
        raise _unknown(epsg, "cannot transform") from exc


def _pyproj_transform(transformer: Transformer, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Run a transformer on arrays of any shape; failed points (PROJ's inf) become NaN."""
    out_x, out_y = transformer.transform(np.ravel(x), np.ravel(y))
    out_x = np.array(out_x, dtype=np.float64).reshape(x.shape)
    out_y = np.array(out_y, dtype=np.float64).reshape(y.shape)
    bad = ~(np.isfinite(out_x) & np.isfinite(out_y))
    out_x[bad] = np.nan
    out_y[bad] = np.nan
    return out_x, out_y


@functools.lru_cache(maxsize=32)
def _round_trip_allowance(epsg: str, to_wgs: bool) -> float:
    """:data:`_ROUND_TRIP_M` in the units of the side a conversion starts from."""
    if not to_wgs:
        return _ROUND_TRIP_M / _M_PER_DEGREE
    crs = CRS.from_user_input(epsg)
    if crs.is_geographic:
        return _ROUND_TRIP_M / _M_PER_DEGREE
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return _ROUND_TRIP_M / (factor or 1.0)


def _unrepresentable_to_nan(
    name: str, to_wgs: bool, x: FloatArray, y: FloatArray, out_x: FloatArray, out_y: FloatArray
) -> None:
    """Set to NaN the converted points whose inverse conversion misses the input.

    Some projections (oblique Mercator, Web Mercator, Gauss-Krüger) invert any
    number PROJ is given, so a typo'd northing becomes a real-looking place and a
    lookup answers for it. A position converts back to where it came from.
    """
    back_x, back_y = _pyproj_transform(_transformer(name, not to_wgs), out_x, out_y)
    dx = back_x - x
    if not to_wgs:  # longitudes 360 degrees apart are the same place
        dx = (dx + 180.0) % 360.0 - 180.0
    missed = ~(np.hypot(dx, back_y - y) <= _round_trip_allowance(name, to_wgs))  # True for NaN too
    out_x[missed] = np.nan
    out_y[missed] = np.nan


def _convert_crs(lon: ArrayLike, lat: ArrayLike, crs: str | int | None, to_wgs: bool) -> tuple[Coord, Coord]:
    """Shared body of :func:`to_wgs84` and :func:`from_wgs84`."""
    name = normalize_crs(crs)
    if name == GCJ02:
        return _convert(_gcj02_to_wgs84 if to_wgs else _wgs84_to_gcj02, lon, lat)
    if name == BD09:
        return _convert(_bd09_to_wgs84 if to_wgs else _wgs84_to_bd09, lon, lat)
    lon_a, lat_a, scalar = _prepare(lon, lat)
    if name in (WGS84, CGCS2000):
        return _finish(np.array(lon_a, copy=True), np.array(lat_a, copy=True), scalar)
    with _quiet():
        out_x, out_y = _pyproj_transform(_transformer(name, to_wgs), lon_a, lat_a)
        _unrepresentable_to_nan(name, to_wgs, lon_a, lat_a, out_x, out_y)
        return _finish(out_x, out_y, scalar)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str | int | None = WGS84) -> tuple[Coord, Coord]:
    """Convert coordinates in ``crs`` (anything :func:`normalize_crs` accepts) to WGS-84.

    CGCS2000 is returned unchanged: its difference from WGS-84 is a few centimetres, below GPS
    noise.  GCJ-02 and BD-09 use the iterative inverses (round trip < 1e-5 m).  For EPSG
    projected systems, ``lon``/``lat`` are easting/northing; points PROJ cannot transform, or
    whose conversion does not invert back to them (beyond what the CRS represents), come back
    as NaN.  Scalars in -> floats out, arrays in -> new float64 arrays of the same shape.

    Raises:
        UnknownCRSError: if ``crs`` is not recognised.
    """
    return _convert_crs(lon, lat, crs, to_wgs=True)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str | int | None) -> tuple[Coord, Coord]:
    """Convert WGS-84 coordinates to ``crs``; the inverse of :func:`to_wgs84`.

    Same conventions as :func:`to_wgs84` (CGCS2000 treated as WGS-84, EPSG systems via PROJ,
    scalars in -> floats out).

    Raises:
        UnknownCRSError: if ``crs`` is not recognised.
    """
    return _convert_crs(lon, lat, crs, to_wgs=False)


# ---------------------------------------------------------------------------------------------
# Distances
# ---------------------------------------------------------------------------------------------


def haversine_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Coord:
    """Great-circle distance in metres between points given in degrees (vectorised).

    Uses a sphere of the mean Earth radius (6371008.8 m): accurate to ~0.5 % of the distance,
    plenty for checking offsets and tolerances.  Float for scalar input, else an array.
    """
    a = [np.asarray(v, dtype=np.float64) for v in (lon1, lat1, lon2, lat2)]
    scalar = all(v.ndim == 0 for v in a)
    with _quiet():
        lam1, phi1, lam2, phi2 = (np.radians(v) for v in a)
        h = np.sin((phi2 - phi1) / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2.0) ** 2
        d = 2.0 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return float(d) if scalar else np.asarray(d, dtype=np.float64)
