"""Who is responsible here? Point lookup, one point or millions, in every datum used in China.

``lookup(ds, lon, lat)`` answers one point with every duty zone that covers it, most
specific first (layer priority, then distance), and the district's fallback HQ unit
last; outside every district it says so and names the nearest zone.
``lookup_many(ds, lons, lats)`` answers arrays of points with one row each (the best
match), or every match in long form, and gives the same best answer as ``lookup``.

Both read one index per (dataset, date), built on first use and cached on the
Dataset: the geometric grid (:mod:`geo.lookup_index`) and the answer rows of the date
(:mod:`geo.lookup_answers`). Semantics are DESIGN section 5; see those modules for
how exactness is kept on zone edges and stretch cuts.

``LookupResult.to_json()`` gives the encoded answer of ``to_dict()`` (the bytes the
HTTP API sends) joined from pieces encoded once per answer row, district and grid
cell, so a single lookup over HTTP builds no dicts and encodes only its coordinates.

    >>> ds = load_dataset()
    >>> result = ds.lookup(109.03, 32.69)             # WGS-84 GPS
    >>> result.best.units[0].name, result.to_dict()["matches"]
    >>> ds.lookup(109.036, 32.687, crs="gcj02")       # an AMap / Tencent position
    >>> ds.lookup_many(lons, lats)[["feature_id", "unit_id", "distance_m"]]
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import math
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.lookup_answers import FALLBACK_RANK, TEXT_COLUMNS, AnswerIndex, Stretch, Unit, build_answers
from geo.lookup_dates import parse_day
from geo.lookup_index import EPS_M, GeometryIndex, build_geometry_index

try:  # a declared dependency; the standard library gives the same JSON where it is missing (slower)
    import orjson
except ImportError:  # pragma: no cover - exercised only where orjson is absent
    orjson = None  # type: ignore[assignment]

__all__ = [
    "CoordinateError",
    "LookupResult",
    "Match",
    "Nearest",
    "lookup",
    "lookup_index",
    "lookup_json",
    "lookup_many",
]

GEOGRAPHIC_DATUMS = frozenset({"wgs84", "cgcs2000", "gcj02", "bd09"})
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


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """One duty zone (or stretch of a line, or the district fallback) covering a point."""

    layer: str
    layer_title: str
    feature_id: str
    name: str
    stretch: Stretch | None
    units: tuple[Unit, ...]
    standard: dict[str, Any] | None
    distance_m: float
    fallback: bool
    priority: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "layer_title": self.layer_title,
            "feature_id": self.feature_id,
            "name": self.name,
            "stretch": None
            if self.stretch is None
            else {
                "from_m": self.stretch.from_m,
                "to_m": self.stretch.to_m,
                "number": self.stretch.number,
                "count": self.stretch.count,
            },
            "units": [unit.to_dict() for unit in self.units],
            "standard": None if self.standard is None else dict(self.standard),
            "distance_m": self.distance_m,
            "fallback": self.fallback,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class Nearest:
    """The nearest duty zone to a point outside every district, and how far its edge is."""

    layer: str
    layer_title: str
    feature_id: str
    name: str
    distance_m: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "layer_title": self.layer_title,
            "feature_id": self.feature_id,
            "name": self.name,
            "distance_m": self.distance_m,
        }


class LookupResult:
    """The answer for one point: matches in order, the district, the point in both datums.

    Match objects are built on first access, so a caller that only needs the JSON
    or the best unit pays for nothing else.
    """

    __slots__ = (
        "_answers",
        "_distances",
        "_matches",
        "_nearest",
        "_rows",
        "_sig",
        "crs",
        "date",
        "district_index",
        "lat",
        "lat_wgs84",
        "lon",
        "lon_wgs84",
    )

    def __init__(
        self,
        answers: AnswerIndex,
        lon: float,
        lat: float,
        crs: str,
        lon_wgs84: float,
        lat_wgs84: float,
        district_index: int,
        rows: Sequence[int],
        distances: Sequence[float],
        sig: int = -1,
    ) -> None:
        self._answers = answers
        self.lon, self.lat, self.crs = lon, lat, crs
        self.lon_wgs84, self.lat_wgs84 = lon_wgs84, lat_wgs84
        self.date: dt.date = answers.day
        self.district_index = district_index
        self._rows = rows
        self._distances = distances
        self._sig = sig  # the fixed cell's signature (its JSON is cached), -1 when resolved exactly
        self._matches: tuple[Match, ...] | None = None
        self._nearest: Nearest | bool | None = False  # False: not computed yet

    @property
    def inside_frame(self) -> bool:
        return self.district_index >= 0

    @property
    def matches(self) -> tuple[Match, ...]:
        if self._matches is None:
            self._matches = tuple(_match(self._answers, r, d) for r, d in zip(self._rows, self._distances, strict=True))
        return self._matches

    @property
    def best(self) -> Match | None:
        """The first match (the most specific zone), None when nothing covers the point."""
        return _match(self._answers, self._rows[0], self._distances[0]) if self._rows else None

    @property
    def district(self) -> dict[str, str] | None:
        if self.district_index < 0:
            return None
        answers = self._answers
        return {
            "district_id": answers.district_ids[self.district_index],
            "name": answers.district_names[self.district_index],
            "fallback_unit": answers.district_hq[self.district_index],
        }

    @property
    def nearest(self) -> Nearest | None:
        """Outside every district: the nearest zone and the distance to its edge (None inside)."""
        if self._nearest is False:
            self._nearest = None if self.inside_frame else _nearest(self._answers, self.lon_wgs84, self.lat_wgs84)
        return self._nearest  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Any:
        return iter(self.matches)

    def __getitem__(self, i: int) -> Match:
        return self.matches[i]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``respmap lookup --json`` (and of the HTTP API)."""
        nearest = self.nearest
        return {
            "point": {
                "lon": self.lon,
                "lat": self.lat,
                "crs": self.crs,
                "wgs84": {"lon": self.lon_wgs84, "lat": self.lat_wgs84},
            },
            "date": self.date.isoformat(),
            "inside_frame": self.inside_frame,
            "district": self.district,
            "matches": [m.to_dict() for m in self.matches],
            "nearest": None if nearest is None else nearest.to_dict(),
        }

    def to_json(self) -> bytes:
        """``to_dict()`` encoded as compact UTF-8 JSON, the same bytes as orjson gives for it.

        Joined from pieces encoded once (:class:`_AnswerJson`): a point in a fixed
        cell reuses the whole answer after its coordinates; elsewhere each match is
        its row's cached fragment with the distance written in.
        """
        pieces = _answer_json(self._answers)
        district = self.district_index
        return b"".join(
            (
                pieces.point(self.lon, self.lat, self.crs, self.lon_wgs84, self.lat_wgs84),
                pieces.body(self._rows, self._distances, district, self._sig),
                b"null}" if district >= 0 else _nearest_json(self.nearest),
            )
        )

    def __repr__(self) -> str:
        best = self.best
        shown = "nothing" if best is None else f"{best.layer}/{best.feature_id}"
        return f"<LookupResult ({self.lon}, {self.lat}) {self.crs}: {len(self)} matches, best {shown}>"


def _match(answers: AnswerIndex, row: int, distance_m: float) -> Match:
    text = answers.text
    return Match(
        layer=text["layer"][row],
        layer_title=text["layer_title"][row],
        feature_id=text["feature_id"][row],
        name=text["name"][row],
        stretch=answers.stretch[row],
        units=answers.units[row],
        standard=answers.standard[row],
        distance_m=float(distance_m),
        fallback=bool(answers.fallback[row]),
        priority=int(answers.priority[row]),
    )


def _json_default(value: Any) -> Any:
    """Numpy scalars that reach the encoder as plain Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (Chinese left readable), as the HTTP API encodes its answers."""
    if orjson is not None:
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()


def _encode_floats(values: tuple[float, ...]) -> list[bytes]:
    """Each of some finite Python floats as JSON, written as :func:`encode_json` writes them."""
    encoded = orjson.dumps(values) if orjson is not None else json.dumps(values, separators=(",", ":")).encode()
    return encoded[1:-1].split(b",")  # a number never contains a comma


def _nearest_json(nearest: Nearest | None) -> bytes:
    """The end of an answer outside every district: the nearest zone (or null) and the closing brace."""
    return encode_json(None if nearest is None else nearest.to_dict()) + b"}"


class _AnswerJson:
    """Encoded JSON pieces of one AnswerIndex, each encoded the first time a lookup needs it.

    Per row the match object split around its ``distance_m`` (the only per-point
    value); per district the answer from ``"date"`` to the opening of
    ``"matches"``; per fixed-cell signature everything after ``"point"`` up to
    ``"nearest":`` (to the very end for a cell inside a district: ``inside_endings``).
    Pieces are cut from ``Match.to_dict()`` encoded whole, so the layout has one
    definition. Filling is idempotent, so threads may race on it; every table is
    bounded by the dataset (rows, districts, signatures), never by the requests.
    """

    DISTANCE_KEY = b',"distance_m":'
    NO_NEAREST = b"null}"  # the end of every answer inside a district
    FALLBACK_KEY = b',"fallback":'
    MAX_CRS = 64  # CRS names come from requests: a bounded number of encoded ones is kept

    def __init__(self, answers: AnswerIndex) -> None:
        # Weak: these pieces live in ``answers.single_cache``; a strong reference back would be a cycle
        # that keeps the whole index (and its arrays) until the cyclic collector runs, long after a reload.
        self._answers = weakref.ref(answers)
        self.date = encode_json(answers.day.isoformat())
        n = answers.n_rows
        self.before_distance: list[bytes | None] = [None] * n
        self.after_distance: list[bytes] = [b""] * n
        self.at_zero: list[bytes | None] = [None] * n
        self.openings: dict[int, bytes] = {}
        self.fixed_cells: dict[int, bytes] = {}
        self.inside_endings: dict[int, bytes] = {}
        self.crs_keys: dict[str, bytes] = {}

    @property
    def answers(self) -> AnswerIndex:
        answers = self._answers()
        if answers is None:  # only a caller that kept these pieces but not their index gets here
            raise RuntimeError("the answer index of these JSON pieces is gone")
        return answers

    def point(self, lon: float, lat: float, crs: str, lon_wgs84: float, lat_wgs84: float) -> bytes:
        """``{"point":{...},`` for the point as given and in WGS-84 (finite Python floats)."""
        middle = self.crs_keys.get(crs)
        if middle is None:
            middle = b',"crs":' + encode_json(crs) + b',"wgs84":{"lon":'
            if len(self.crs_keys) < self.MAX_CRS:
                self.crs_keys[crs] = middle
        if lon is lon_wgs84 and lat is lat_wgs84:  # given in WGS-84 (or CGCS2000): encode once
            lon_json, lat_json = _encode_floats((lon, lat))
            lon_wgs84_json, lat_wgs84_json = lon_json, lat_json
        else:
            lon_json, lat_json, lon_wgs84_json, lat_wgs84_json = _encode_floats((lon, lat, lon_wgs84, lat_wgs84))
        return b"".join(
            (b'{"point":{"lon":', lon_json, b',"lat":', lat_json, middle, lon_wgs84_json, b',"lat":', lat_wgs84_json,
             b"}},")
        )  # fmt: skip

    def body(self, rows: Sequence[int], distances: Sequence[float], district: int, sig: int) -> bytes:
        """From ``"date"`` to ``"nearest":``; ``sig`` is the fixed cell's signature (-1: found by the exact test)."""
        return self.fixed(sig, rows, district) if sig >= 0 else self.resolved(rows, distances, district)

    def match(self, row: int, distance_m: float) -> bytes:
        """The JSON object of a row's match at ``distance_m``."""
        if distance_m == 0.0:
            whole = self.at_zero[row]
            if whole is None:
                whole = self.at_zero[row] = encode_json(_match(self.answers, row, 0.0).to_dict())
            return whole
        before = self.before_distance[row]
        if before is None:
            whole = encode_json(_match(self.answers, row, 0.0).to_dict())
            # After distance_m come only a bool and an int: the last occurrence is the key itself.
            cut = whole.rindex(self.DISTANCE_KEY) + len(self.DISTANCE_KEY)
            self.after_distance[row] = whole[whole.index(self.FALLBACK_KEY, cut) :]
            before = self.before_distance[row] = whole[:cut]
        return before + encode_json(float(distance_m)) + self.after_distance[row]

    def opening(self, district: int) -> bytes:
        """``"date":...,"inside_frame":...,"district":...,"matches":[`` for a district (-1: outside)."""
        found = self.openings.get(district)
        if found is None:
            answers = self.answers
            about = None
            if district >= 0:
                about = {
                    "district_id": answers.district_ids[district],
                    "name": answers.district_names[district],
                    "fallback_unit": answers.district_hq[district],
                }
            found = b"".join(
                (
                    b'"date":', self.date, b',"inside_frame":', b"true" if district >= 0 else b"false",
                    b',"district":', encode_json(about), b',"matches":[',
                )
            )  # fmt: skip
            self.openings[district] = found
        return found

    def resolved(self, rows: Sequence[int], distances: Sequence[float], district: int) -> bytes:
        """From ``"date"`` to ``"nearest":`` for matches found by the exact test."""
        matches = b",".join([self.match(r, d) for r, d in zip(rows, distances, strict=True)])
        return self.opening(district) + matches + b'],"nearest":'

    def fixed(self, sig: int, rows: Sequence[int], district: int) -> bytes:
        """The same for a fixed cell: every point in it has these rows at distance 0.

        Kept once per signature: inside a district (no nearest zone) as the whole
        ending, ``inside_endings``, which the HTTP path appends as it is.
        """
        ending = self.inside_endings.get(sig)
        if ending is not None:
            return ending[: -len(self.NO_NEAREST)]
        found = self.fixed_cells.get(sig)
        if found is None:
            found = self.resolved(rows, (0.0,) * len(rows), district)
            if district >= 0:
                self.inside_endings[sig] = found + self.NO_NEAREST
            else:
                self.fixed_cells[sig] = found
        return found


def _answer_json(answers: AnswerIndex) -> _AnswerJson:
    found = answers.single_cache.get("json")
    if found is None:
        found = answers.single_cache.setdefault("json", _AnswerJson(answers))
    return found


def _nearest(answers: AnswerIndex, lon: float, lat: float) -> Nearest | None:
    """The zone whose edge (geometry plus tolerance) is nearest to a WGS-84 point, and that distance.

    Ties go to the first feature. Exact: the candidates of the point's block
    (:class:`_NearestCandidates`) include every feature that can be nearest
    anywhere in the block, and the point's distance to each is measured.
    """
    geometry = answers.geometry
    if geometry.tree is None:
        return None
    x, y = geometry.to_metric.transform(lon, lat)
    if not (math.isfinite(x) and math.isfinite(y)):
        return None  # beyond the metric CRS's domain: no meaningful distance to any zone
    found = answers.single_cache.get("nearest")
    if found is None:
        found = answers.single_cache.setdefault("nearest", _NearestCandidates(geometry))
    feats = geometry.features
    point = shapely.Point(x, y)
    best, to_edge = -1, math.inf
    for f in found.of(x, y):
        # The arithmetic of the vectorised form: max(distance - radius, 0), the first of equals kept.
        distance = max(float(shapely.distance(point, feats.geometry[f])) - found.radius_m[f], 0.0)
        if distance < to_edge:
            best, to_edge = f, distance
    if best < 0:  # no zone feature at all
        return None
    row = int(answers.piece_start[best])
    text = answers.text
    return Nearest(
        str(text["layer"][row]),
        str(text["layer_title"][row]),
        str(text["feature_id"][row]),
        str(text["name"][row]),
        to_edge,
    )


class _NearestCandidates:
    """Per block of ``BLOCK_M`` metres: the features that can be the nearest zone to a point in it.

    Distances move by at most ``h`` (half the block's diagonal) between the block's
    centre c and any point p of it, and so do the distances to zone edges
    e(p) = max(distance - radius, 0). The nearest feature at p has e(p) <= m + h,
    where m is the least e(c), hence e(c) <= m + 2h: the features within that bound
    of the centre are the candidates, usually one or two. Finding them costs two
    tree queries once per block; a point then measures only them. Blocks come from
    requests, so at most ``MAX_BLOCKS`` are kept (all are dropped when full).
    """

    BLOCK_M = 50.0  # about 1.5 candidates a block on the demo (4 at 250 m); blocks are cheap to build
    MAX_BLOCKS = 16_384  # a few MB at most
    SLACK_M = 1e-6  # rounding of the bounds: a candidate too many costs nothing, one too few would be wrong

    def __init__(self, geometry: GeometryIndex) -> None:
        self.geometry = geometry
        feats = geometry.features
        self.radius_m: list[float] = feats.radius_m.tolist()
        self.max_radius_m = float(feats.radius_m[: feats.n_zone].max()) if feats.n_zone else 0.0
        self.half_diagonal_m = self.BLOCK_M * math.sqrt(0.5)
        self.blocks: dict[tuple[int, int], list[int]] = {}

    def of(self, x_m: float, y_m: float) -> list[int]:
        """Candidate features (ascending) for a metric point."""
        key = (math.floor(x_m / self.BLOCK_M), math.floor(y_m / self.BLOCK_M))
        found = self.blocks.get(key)
        if found is None:
            found = self._build((key[0] + 0.5) * self.BLOCK_M, (key[1] + 0.5) * self.BLOCK_M)
            if len(self.blocks) >= self.MAX_BLOCKS:
                self.blocks.clear()
            self.blocks[key] = found
        return found

    def _build(self, cx: float, cy: float) -> list[int]:
        tree, feats = self.geometry.tree, self.geometry.features
        centre = shapely.Point(cx, cy)
        radius = feats.radius_m

        def to_edge(features: np.ndarray) -> np.ndarray:
            return np.maximum(shapely.distance(centre, feats.geometry[features]) - radius[features], 0.0)

        first = int(tree.nearest(centre))
        # Every feature whose edge is nearest the centre lies within this distance of it.
        reach = float(shapely.distance(centre, feats.geometry[first])) + self.max_radius_m
        least = float(to_edge(tree.query(centre, predicate="dwithin", distance=reach)).min())
        bound = least + 2.0 * self.half_diagonal_m + self.SLACK_M
        wide = np.sort(tree.query(centre, predicate="dwithin", distance=bound + self.max_radius_m))
        return wide[to_edge(wide) <= bound].tolist()


# ---------------------------------------------------------------------------------------------
# The index of a dataset and date
# ---------------------------------------------------------------------------------------------


def as_date(ds: Any, date: Any) -> pd.Timestamp:
    """``date`` as a midnight Timestamp (None: the dataset's reference date, today)."""
    if date is None:
        return ds.reference_date
    if isinstance(date, pd.Timestamp | dt.date):
        return pd.Timestamp(date).normalize()
    return pd.Timestamp(parse_day(str(date)))


def geometry_index(ds: Any) -> GeometryIndex:
    """The grid index of a dataset (built once, cached on the Dataset)."""
    return ds.cached("lookup_geometry_index", lambda: build_geometry_index(ds))


def lookup_index(ds: Any, date: Any = None) -> AnswerIndex:
    """The lookup index of ``ds`` on ``date``: geometry (shared by all dates) plus answer rows."""
    last = _last_dates
    dates = last[1]() if last is not None and last[0]() is ds else None
    return (dates or _date_cache(ds)).get(date)


# The date cache of the dataset used last: a server asks for the same one on every request, and this
# skips the Dataset cache's lock. Both references are weak (the date cache belongs to the Dataset and
# holds it), so an old dataset is not kept alive by them after a reload.
_last_dates: tuple[weakref.ref[Any], weakref.ref[_DateCache]] | None = None


def _date_cache(ds: Any) -> _DateCache:
    global _last_dates
    dates: _DateCache = ds.cached("lookup_dates", lambda: _DateCache(ds))
    try:
        _last_dates = (weakref.ref(ds), weakref.ref(dates))
    except TypeError:  # not weakly referenceable: always ask the Dataset cache
        pass
    return dates


class _DateCache:
    """Answer rows per date, the most recent ``MAX_DATES`` kept (dates come from requests).

    Looked up first by the date exactly as given (so the hot path does no parsing),
    then by the parsed day; building one costs tens of milliseconds for the demo.
    """

    MAX_DATES = 32

    def __init__(self, ds: Any) -> None:
        # Weak: the Dataset holds this cache, and a strong reference back would make a cycle that only
        # the cyclic collector frees; a server that reloads would keep every old snapshot until then.
        self._ds = weakref.ref(ds)
        self.by_key: OrderedDict[Any, AnswerIndex] = OrderedDict()
        self.lock = threading.Lock()
        # No date means today: (the epoch second today ends, its answers), so the clock is read, not the calendar.
        self.today: tuple[float, AnswerIndex] | None = None

    def get(self, date: Any) -> AnswerIndex:
        if date is None:
            today = self.today
            if today is not None and time.time() < today[0]:
                return today[1]
            day = dt.date.today()
            found = self._get(day)
            # The end of the local day (naive datetimes are local time for timestamp()).
            self.today = (dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp(), found)
            return found
        return self._get(date)

    def _get(self, date: Any) -> AnswerIndex:
        key = date if isinstance(date, str | dt.date) else str(date)
        found = self.by_key.get(key)
        if found is not None:
            return found
        ds = self._ds()
        if ds is None:  # only a caller that kept this cache but not its Dataset gets here
            raise RuntimeError("the dataset of this lookup cache is gone")
        when = as_date(ds, date)
        with self.lock:
            found = self.by_key.get(when)
        if found is None:
            found = build_answers(ds, geometry_index(ds), when)
        with self.lock:
            for k in (when, key):
                self.by_key[k] = found
                self.by_key.move_to_end(k)
            while len(self.by_key) > 2 * self.MAX_DATES:
                _, evicted = self.by_key.popitem(last=False)
                if self.today is not None and self.today[1] is evicted:
                    self.today = None  # not kept alive beside the cache: today is looked up again
        return found


# ---------------------------------------------------------------------------------------------
# Coordinates
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# One point
# ---------------------------------------------------------------------------------------------


def lookup(ds: Any, lon: Any, lat: Any, crs: Any = "wgs84", date: Any = None) -> LookupResult:
    """Every duty zone covering a point, most specific first, and the district fallback last.

    Args:
        ds: the Dataset.
        lon, lat: the point in ``crs`` (for projected EPSG systems: easting, northing).
        crs: wgs84 (GPS, default), cgcs2000, gcj02 (AMap, Tencent), bd09 (Baidu) or EPSG:n.
        date: the date the answer is for (default today); assignments are dated.

    Raises:
        CoordinateError: NaN, infinite or out-of-range coordinates.
        geo.datums.UnknownCRSError: an unknown CRS.
        ValueError: a date that is not YYYY-MM-DD.
    """
    answers = lookup_index(ds, date)
    crs_name, x, y, lon_w, lat_w = _one_point(lon, lat, crs)
    rows, distances, district, sig = _locate_one(answers, lon_w, lat_w, _cell_code(answers.geometry, lon_w, lat_w))
    return LookupResult(answers, x, y, crs_name, lon_w, lat_w, district, rows, distances, sig)


def lookup_json(ds: Any, lon: Any, lat: Any, crs: Any = "wgs84", date: Any = None) -> bytes:
    """``lookup(...).to_json()`` without building the result: the HTTP API's single lookup.

    The same arguments, errors and bytes; it skips the LookupResult object, which
    a server answering thousands of points a second has no use for.
    """
    answers = lookup_index(ds, date)
    pieces = _answer_json(answers)
    crs_name, x, y, lon_w, lat_w = _one_point(lon, lat, crs)
    geometry = answers.geometry
    code = _cell_code(geometry, lon_w, lat_w)
    # Most requests: a cell of the grid that one set of zones covers whole, inside a district,
    # seen before. Everything after the point is then one cached piece.
    ending = pieces.inside_endings.get(code)
    if ending is not None:
        return pieces.point(x, y, crs_name, lon_w, lat_w) + ending
    rows, distances, district, sig = _locate_one(answers, lon_w, lat_w, code)
    return b"".join(
        (
            pieces.point(x, y, crs_name, lon_w, lat_w),
            pieces.body(rows, distances, district, sig),
            b"null}" if district >= 0 else _nearest_json(_nearest(answers, lon_w, lat_w)),
        )
    )


def _one_point(lon: Any, lat: Any, crs: Any) -> tuple[str, float, float, float, float]:
    """:func:`point_in_wgs84`, with the usual case (WGS-84 floats in range) answered without calls."""
    if type(lon) is float and type(lat) is float and type(crs) is str and crs == "wgs84":
        if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:  # NaN fails these and gets its message below
            return "wgs84", lon, lat, lon, lat
    return point_in_wgs84(lon, lat, crs)


def _cell_code(geometry: GeometryIndex, lon: float, lat: float) -> int:
    """The grid's code of a WGS-84 point: >= 0 a fixed cell's signature, < 0 a mixed cell."""
    return geometry.cells.item(geometry.grid.cell_of(lon, lat))


def _locate_one(
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
    ds: Any, lons: Any, lats: Any, crs: Any = "wgs84", date: Any = None, *, all_matches: bool = False
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
