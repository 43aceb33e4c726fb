"""The HTTP answer of a single lookup as bytes, spliced from pieces encoded once per answer row.

``GET /lookup`` is the field staff's hot path. :func:`lookup_json` gives exactly the
bytes of ``dumps(lookup(...).to_dict())`` without building the dicts: per answer row
the match object is encoded once and split around its ``distance_m``; per district
the answer's opening; per fixed grid cell (inside a district) the whole ending. A
point in a cell seen before costs one cache hit and the encoding of its coordinates.

Wire encoding lives here, beside the other answers (:mod:`api.responses`, whose
:func:`~api.responses.dumps` is the one encoder), so that :mod:`geo` knows nothing of
HTTP. The pieces are kept on the :class:`geo.lookup_answers.AnswerIndex` they are
cut from (its ``single_cache``), so they live and die with the Dataset.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from api.responses import dumps
from geo import Dataset
from geo.lookup import cell_code, locate_one, lookup_index
from geo.lookup_answers import AnswerIndex
from geo.lookup_nearest import nearest_zone
from geo.lookup_points import one_point
from geo.lookup_results import LookupResult, Nearest, match_of

__all__ = ["AnswerJson", "answer_json", "lookup_json", "result_json"]


def lookup_json(ds: Dataset, lon: Any, lat: Any, crs: Any = "wgs84", date: Any = None) -> bytes:
    """``dumps(lookup(ds, lon, lat, crs, date).to_dict())`` without building the result.

    The same arguments, errors and bytes as :func:`geo.lookup.lookup`; it skips the
    LookupResult object, which a server answering thousands of points a second has
    no use for.
    """
    answers = lookup_index(ds, date)
    pieces = answer_json(answers)
    crs_name, x, y, lon_w, lat_w = one_point(lon, lat, crs)
    code = cell_code(answers.geometry, lon_w, lat_w)
    # Most requests: a cell of the grid that one set of zones covers whole, inside a district,
    # seen before. Everything after the point is then one cached piece.
    ending = pieces.inside_endings.get(code)
    if ending is not None:
        return pieces.point(x, y, crs_name, lon_w, lat_w) + ending
    rows, distances, district, sig = locate_one(answers, lon_w, lat_w, code)
    return b"".join(
        (
            pieces.point(x, y, crs_name, lon_w, lat_w),
            pieces.body(rows, distances, district, sig),
            b"null}" if district >= 0 else nearest_json(nearest_zone(answers, lon_w, lat_w)),
        )
    )


def result_json(result: LookupResult) -> bytes:
    """``dumps(result.to_dict())``, joined from the cached pieces of its answer rows."""
    pieces = answer_json(result.answers)
    district = result.district_index
    return b"".join(
        (
            pieces.point(result.lon, result.lat, result.crs, result.lon_wgs84, result.lat_wgs84),
            pieces.body(result.rows, result.distances, district, result.signature),
            b"null}" if district >= 0 else nearest_json(result.nearest),
        )
    )


def encode_floats(values: tuple[float, ...]) -> list[bytes]:
    """Each of some finite Python floats as JSON, written as :func:`api.responses.dumps` writes them."""
    return dumps(values)[1:-1].split(b",")  # a number never contains a comma


def nearest_json(nearest: Nearest | None) -> bytes:
    """The end of an answer outside every district: the nearest zone (or null) and the closing brace."""
    return dumps(None if nearest is None else nearest.to_dict()) + b"}"


class AnswerJson:
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
        self.date = dumps(answers.day.isoformat())
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
            middle = b',"crs":' + dumps(crs) + b',"wgs84":{"lon":'
            if len(self.crs_keys) < self.MAX_CRS:
                self.crs_keys[crs] = middle
        if lon is lon_wgs84 and lat is lat_wgs84:  # given in WGS-84 (or CGCS2000): encode once
            lon_json, lat_json = encode_floats((lon, lat))
            lon_wgs84_json, lat_wgs84_json = lon_json, lat_json
        else:
            lon_json, lat_json, lon_wgs84_json, lat_wgs84_json = encode_floats((lon, lat, lon_wgs84, lat_wgs84))
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
                whole = self.at_zero[row] = dumps(match_of(self.answers, row, 0.0).to_dict())
            return whole
        before = self.before_distance[row]
        if before is None:
            whole = dumps(match_of(self.answers, row, 0.0).to_dict())
            # After distance_m come only a bool and an int: the last occurrence is the key itself.
            cut = whole.rindex(self.DISTANCE_KEY) + len(self.DISTANCE_KEY)
            self.after_distance[row] = whole[whole.index(self.FALLBACK_KEY, cut) :]
            before = self.before_distance[row] = whole[:cut]
        return before + dumps(float(distance_m)) + self.after_distance[row]

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
                    b',"district":', dumps(about), b',"matches":[',
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


def answer_json(answers: AnswerIndex) -> AnswerJson:
    """The encoded pieces of ``answers`` (made once, kept in the index's own cache)."""
    found = answers.single_cache.get("json")
    if found is None:
        found = answers.single_cache.setdefault("json", AnswerJson(answers))
    return found
