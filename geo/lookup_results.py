"""What a lookup answers: Match, Nearest and LookupResult, built lazily from answer rows.

A :class:`LookupResult` keeps the answer rows and distances of one point; its
Match objects are made on first access, so a caller that only needs the best unit
(or the JSON, which :mod:`api.lookup_json` splices from cached pieces) pays for
nothing else. ``to_dict()`` is the object of ``respmap lookup --json`` and of the
HTTP API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geo.lookup_answers import AnswerIndex, Stretch, Unit
from geo.lookup_nearest import nearest_zone

__all__ = ["LookupResult", "Match", "Nearest", "match_of"]


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
            self._matches = tuple(
                match_of(self._answers, r, d) for r, d in zip(self._rows, self._distances, strict=True)
            )
        return self._matches

    @property
    def best(self) -> Match | None:
        """The first match (the most specific zone), None when nothing covers the point."""
        return match_of(self._answers, self._rows[0], self._distances[0]) if self._rows else None

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
            self._nearest = None if self.inside_frame else nearest_zone(self._answers, self.lon_wgs84, self.lat_wgs84)
        return self._nearest  # type: ignore[return-value]

    @property
    def answers(self) -> AnswerIndex:
        """The answer rows this result points into (for encoders such as api.lookup_json)."""
        return self._answers

    @property
    def rows(self) -> Sequence[int]:
        """Answer rows of the matches, in order."""
        return self._rows

    @property
    def distances(self) -> Sequence[float]:
        """Distance of each match, metres."""
        return self._distances

    @property
    def signature(self) -> int:
        """The fixed grid cell's signature, -1 when the matches came from the exact test."""
        return self._sig

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

    def __repr__(self) -> str:
        best = self.best
        shown = "nothing" if best is None else f"{best.layer}/{best.feature_id}"
        return f"<LookupResult ({self.lon}, {self.lat}) {self.crs}: {len(self)} matches, best {shown}>"


def match_of(answers: AnswerIndex, row: int, distance_m: float) -> Match:
    """The Match of an answer row at ``distance_m``."""
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
