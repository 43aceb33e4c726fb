"""Who holds what on a date, laid out as rows the lookup index can point at.

The grid index (:mod:`geo.lookup_index`) says which *features* cover a point; this
module turns features into *answer rows* for one date: one row per stretch of each
feature (a feature without stretches is one row), one fallback row per district
(its HQ unit) and one empty row. Each row carries everything a lookup reports
(layer, names, units in the order lead, shared, supervisor, standard), so a batch
answer is a column of row numbers and every output column is one ``take``.

Stretches: the assignments in force on the date cut a line at every ``from_m`` and
``to_m``; each elementary piece between two cuts is a stretch, held by every
assignment whose range contains it (a whole-line assignment, e.g. a supervisor,
holds every piece). A point belongs to the piece where its projection onto the line
falls; exactly on a cut it belongs to both pieces (as a point on a shared polygon
edge belongs to both polygons), the earlier piece first.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.lookup_index import EPS_M, KIND_LINE, GeometryIndex
from geo.table_checks import STANDARD_FIGURES
from geo.zones import zones_on

ROLE_ORDER: tuple[str, ...] = ("lead", "shared", "supervisor")
FALLBACK_ROLE = "fallback"
# Sorting rank of fallback and empty rows: after every real priority.
FALLBACK_RANK = np.iinfo(np.int64).max - 1
NONE_RANK = np.iinfo(np.int64).max
TEXT_COLUMNS: tuple[str, ...] = (
    "layer",
    "layer_title",
    "feature_id",
    "name",
    "unit_id",
    "unit_name",
    "role",
    "unit_ids",
    "standard_id",
    "grade",
)


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit answering for a piece of ground, in the role it has there."""

    unit_id: str
    name: str
    role: str
    kind: str
    contact: str
    phone: str

    def to_dict(self) -> dict[str, str]:
        return {
            "unit_id": self.unit_id,
            "name": self.name,
            "role": self.role,
            "kind": self.kind,
            "contact": self.contact,
            "phone": self.phone,
        }


@dataclass(frozen=True, slots=True)
class Stretch:
    """A piece of a line between two cuts: number (1-based) of how many, metres along the line."""

    number: int
    count: int
    from_m: float
    to_m: float


@dataclass(frozen=True, eq=False)
class AnswerIndex:
    """Answer rows for one date and how features, stretches and signatures map onto them."""

    date: pd.Timestamp
    geometry: GeometryIndex
    frame_layer: str
    frame_priority: int
    # rows -----------------------------------------------------------------------------
    text: dict[str, np.ndarray]  # object arrays per TEXT_COLUMNS
    from_m: np.ndarray
    to_m: np.ndarray
    priority: np.ndarray  # int64 layer priority of the row (frame priority for fallbacks, 0 for the empty row)
    rank: np.ndarray  # int64 sort rank: priority, fallbacks after, empty row last
    fallback: np.ndarray  # bool
    units: tuple[tuple[Unit, ...], ...]
    stretch: tuple[Stretch | None, ...]
    standard: tuple[dict[str, Any] | None, ...]
    none_row: int
    fallback_row0: int  # the fallback row of district d is fallback_row0 + d
    # features -> rows -------------------------------------------------------------------
    piece_start: np.ndarray  # int64 per zone feature
    bounds: np.ndarray  # interior cuts of every line, shifted by bounds_offset so the whole is sorted
    bounds_start: np.ndarray  # int64 per zone feature
    bounds_offset: np.ndarray  # float per zone feature
    has_cuts: np.ndarray  # bool per zone feature: a line cut into stretches
    # signatures -> rows -----------------------------------------------------------------
    sig_best_row: np.ndarray  # int64
    sig_rows_ptr: np.ndarray
    sig_rows: np.ndarray  # the sure rows of each signature, in answer order
    # districts ------------------------------------------------------------------------
    district_ids: np.ndarray  # object, frame order
    district_names: np.ndarray
    district_hq: np.ndarray
    # filled on demand -------------------------------------------------------------------
    categories: dict[str, tuple[np.ndarray, pd.CategoricalDtype]] = field(default_factory=dict)
    fixed_cache: dict[int, tuple[tuple[int, ...], int]] = field(default_factory=dict)
    # What single lookups derive on demand (geo.lookup): encoded JSON pieces, nearest-zone candidates.
    single_cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.rank)

    def fallback_rows(self, district: np.ndarray) -> np.ndarray:
        """Fallback row of each district index (the empty row for -1)."""
        return np.where(district >= 0, self.fallback_row0 + district, self.none_row)

    def piece_rows(self, feature: np.ndarray, along_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the stretch where each projection falls: (first row, last row).

        Equal except exactly on a cut (within ``EPS_M``), where the point belongs to
        the pieces on both sides.
        """
        along = np.where(self.has_cuts[feature], along_m, 0.0)
        shifted = along + self.bounds_offset[feature]
        start = self.bounds_start[feature]
        lo = np.searchsorted(self.bounds, shifted - EPS_M, side="left") - start
        hi = np.searchsorted(self.bounds, shifted + EPS_M, side="right") - start
        first = self.piece_start[feature]
        return first + lo, first + hi

    def codes(self, column: str) -> tuple[np.ndarray, pd.CategoricalDtype]:
        """Per row, a code into the distinct values of a text column: for Categorical columns."""
        found = self.categories.get(column)
        if found is None:
            codes, uniques = pd.factorize(self.text[column])
            found = (codes.astype(_code_type(len(uniques))), pd.CategoricalDtype([str(u) for u in uniques]))
            self.categories[column] = found
        return found

    def district_codes(self) -> tuple[np.ndarray, pd.CategoricalDtype]:
        """Codes of district ids indexed by district + 1 (index 0: outside, '')."""
        found = self.categories.get("district_id")
        if found is None:
            codes, uniques = pd.factorize(np.append(self.district_ids, "").astype(object))
            # district -1 (outside) reads the last entry: the ''.
            found = (codes.astype(_code_type(len(uniques))), pd.CategoricalDtype([str(u) for u in uniques]))
            self.categories["district_id"] = found
        return found

    @functools.cached_property
    def day(self) -> dt.date:
        """The date as a ``datetime.date`` (each single lookup reports it; a Timestamp converts slowly)."""
        return self.date.date()

    @functools.cached_property
    def sig_best_distance(self) -> np.ndarray:
        """Distance of each signature's best row (0, or NaN for nothing), so a batch gathers it directly."""
        return self.fixed_distance[self.sig_best_row]

    @functools.cached_property
    def fixed_distance(self) -> np.ndarray:
        """Distance of a row answered by a fixed cell: 0 (inside), NaN for the empty row."""
        return np.where(self.rank == NONE_RANK, np.nan, 0.0)

    @functools.cached_property
    def python_tables(self) -> tuple[list[Any], ...]:
        """rank, piece_start, has_cuts, bounds, bounds_start, bounds_offset as lists (single lookups)."""
        return (
            self.rank.tolist(),
            self.piece_start.tolist(),
            self.has_cuts.tolist(),
            self.bounds.tolist(),
            self.bounds_start.tolist(),
            self.bounds_offset.tolist(),
        )

    @functools.cached_property
    def priority_or_nan(self) -> np.ndarray:
        return np.where(self.rank == NONE_RANK, np.nan, self.priority.astype(np.float64))


def _code_type(count: int) -> type:
    """The smallest integer type for categorical codes of ``count`` values (less memory to move)."""
    return np.int8 if count < 127 else np.int16 if count < 32_000 else np.int32


def build_answers(ds: Any, geometry: GeometryIndex, date: pd.Timestamp) -> AnswerIndex:
    """The answer rows of ``ds`` on ``date`` for ``geometry``'s features."""
    feats = geometry.features
    n_zone = feats.n_zone
    zones = ds.duty_zones
    first = zones.drop_duplicates(["layer", "feature_id"]) if len(zones) else zones
    names = first["name"].to_numpy(dtype=object) if n_zone else np.empty(0, dtype=object)
    standard_ids = first["standard_id"].to_numpy(dtype=object) if n_zone else np.empty(0, dtype=object)
    grades = first["grade"].to_numpy(dtype=object) if n_zone else np.empty(0, dtype=object)
    position = {key: i for i, key in enumerate(zip(feats.layer[:n_zone], feats.feature_id[:n_zone], strict=True))}

    held: list[list[tuple[str, str, float, float]]] = [[] for _ in range(n_zone)]
    # Not ds.zones_on: it keeps its dates in the Dataset's cache, and dates here come from requests
    # (their answers are kept, bounded, by the lookup's own date cache).
    current = zones_on(ds.duty_zones, date)
    for layer, feature_id, unit_id, role, from_m, to_m in zip(
        current["layer"],
        current["feature_id"],
        current["unit_id"],
        current["role"],
        current["from_m"],
        current["to_m"],
        strict=True,
    ):
        if unit_id:
            held[position[(layer, feature_id)]].append((unit_id, role, float(from_m), float(to_m)))

    unit_table = _unit_table(ds.units)
    standards = _standard_table(ds.standards)
    lang = ds.lang
    titles = {spec.id: spec.title_in(lang) for spec in ds.catalog.layers} if ds.catalog else {}

    text: dict[str, list[str]] = {column: [] for column in TEXT_COLUMNS}
    from_col: list[float] = []
    to_col: list[float] = []
    priority: list[int] = []
    rank: list[int] = []
    fallback: list[bool] = []
    units_col: list[tuple[Unit, ...]] = []
    stretch_col: list[Stretch | None] = []
    standard_col: list[dict[str, Any] | None] = []
    piece_start = np.zeros(n_zone, dtype=np.int64)
    bounds: list[float] = []
    bounds_start = np.zeros(n_zone, dtype=np.int64)
    bounds_offset = np.zeros(n_zone, dtype=np.float64)
    is_line = feats.kind[:n_zone] == KIND_LINE
    has_cuts = np.zeros(n_zone, dtype=bool)
    offset = 0.0

    def add_row(
        values: dict[str, str],
        units: tuple[Unit, ...],
        piece: Stretch | None,
        standard: Any,
        row_priority: int,
        row_rank: int,
        is_fallback: bool,
    ) -> None:
        for column in TEXT_COLUMNS:
            text[column].append(values.get(column, ""))
        text["unit_id"][-1] = units[0].unit_id if units else ""
        text["unit_name"][-1] = units[0].name if units else ""
        text["role"][-1] = units[0].role if units else ""
        text["unit_ids"][-1] = ";".join(u.unit_id for u in units)
        from_col.append(piece.from_m if piece else math.nan)
        to_col.append(piece.to_m if piece else math.nan)
        priority.append(row_priority)
        rank.append(row_rank)
        fallback.append(is_fallback)
        units_col.append(units)
        stretch_col.append(piece)
        standard_col.append(standard)

    for f in range(n_zone):
        assignments = held[f]
        layer = feats.layer[f]
        base = {
            "layer": layer,
            "layer_title": titles.get(layer, layer),
            "feature_id": feats.feature_id[f],
            "name": names[f],
            "standard_id": standard_ids[f],
            "grade": grades[f],
        }
        standard = standards.get(standard_ids[f])
        cuts = _cuts(feats.geometry[f], assignments) if is_line[f] else None
        piece_start[f] = len(rank)
        bounds_start[f] = len(bounds)
        bounds_offset[f] = offset
        prio = int(feats.priority[f])
        if cuts is None:
            add_row(base, _units(assignments, None, None, unit_table), None, standard, prio, prio, False)
        else:
            count = len(cuts) - 1
            for i in range(count):
                piece = Stretch(i + 1, count, float(cuts[i]), float(cuts[i + 1]))
                units = _units(assignments, piece.from_m, piece.to_m, unit_table)
                add_row(base, units, piece, standard, prio, prio, False)
            bounds.extend(offset + c for c in cuts[1:-1])
            has_cuts[f] = True
            offset += float(cuts[-1])
        offset += 1.0

    fallback_row0 = len(rank)
    frame_layer = ds.catalog.frame.layer if ds.catalog and ds.catalog.frame else ""
    frame_priority = ds.catalog.layer(frame_layer).priority if frame_layer else 0
    frame = ds.frame
    n_district = len(feats) - n_zone
    for d in range(n_district):
        hq = frame["fallback_unit"].iat[d] if frame is not None else ""
        units = ()
        if hq:
            info = unit_table.get(hq, ("", "", "", ""))
            units = (Unit(hq, info[0], FALLBACK_ROLE, info[1], info[2], info[3]),)
        add_row(
            {
                "layer": frame_layer,
                "layer_title": titles.get(frame_layer, frame_layer),
                "feature_id": frame["district_id"].iat[d],
                "name": frame["name"].iat[d],
            },
            units,
            None,
            None,
            frame_priority,
            FALLBACK_RANK,
            True,
        )
    none_row = len(rank)
    add_row({}, (), None, None, 0, NONE_RANK, False)

    rank_arr = np.asarray(rank, dtype=np.int64)
    sig_best, sig_ptr, sig_rows = _signature_rows(geometry, piece_start, rank_arr, fallback_row0, none_row)
    return AnswerIndex(
        date=date,
        geometry=geometry,
        frame_layer=frame_layer,
        frame_priority=frame_priority,
        text={column: np.asarray(values, dtype=object) for column, values in text.items()},
        from_m=np.asarray(from_col, dtype=np.float64),
        to_m=np.asarray(to_col, dtype=np.float64),
        priority=np.asarray(priority, dtype=np.int64),
        rank=rank_arr,
        fallback=np.asarray(fallback, dtype=bool),
        units=tuple(units_col),
        stretch=tuple(stretch_col),
        standard=tuple(standard_col),
        none_row=none_row,
        fallback_row0=fallback_row0,
        piece_start=piece_start,
        bounds=np.asarray(bounds, dtype=np.float64),
        bounds_start=bounds_start,
        bounds_offset=bounds_offset,
        has_cuts=has_cuts,
        sig_best_row=sig_best,
        sig_rows_ptr=sig_ptr,
        sig_rows=sig_rows,
        district_ids=_frame_column(frame, "district_id", n_district),
        district_names=_frame_column(frame, "name", n_district),
        district_hq=_frame_column(frame, "fallback_unit", n_district),
    )


def _frame_column(frame: pd.DataFrame | None, column: str, n: int) -> np.ndarray:
    if frame is None or not n:
        return np.empty(0, dtype=object)
    return np.asarray([_text(v) for v in frame[column]], dtype=object)


def line_length_m(line: Any) -> float:
    """Length of a line as stretches measure it: ``shapely.length`` (parts of a multi-line, no gaps)."""
    return float(shapely.length(line))


def _cuts(line: Any, assignments: list[tuple[str, str, float, float]]) -> list[float] | None:
    """Sorted cut positions of a line (0 and its length included), None without stretches."""
    stretched = [(a, b) for _, _, a, b in assignments if math.isfinite(a)]
    if not stretched:
        return None
    length = line_length_m(line)
    if length <= 0:
        return None
    cuts = {0.0, length}
    for a, b in stretched:
        cuts.add(min(max(a, 0.0), length))
        cuts.add(min(max(b, 0.0), length))
    return sorted(cuts)


def _units(
    assignments: list[tuple[str, str, float, float]],
    from_m: float | None,
    to_m: float | None,
    unit_table: dict[str, tuple[str, str, str, str]],
) -> tuple[Unit, ...]:
    """Units holding a piece (whole feature when from_m is None): lead, shared, supervisor."""
    chosen: list[tuple[int, int, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for order, (unit_id, role, a, b) in enumerate(assignments):
        if from_m is not None and math.isfinite(a):
            # The assignment's range must contain the piece (cuts make it all or nothing).
            if not (a <= from_m + EPS_M and b >= to_m - EPS_M):
                continue
        if (unit_id, role) in seen:
            continue
        seen.add((unit_id, role))
        rank = ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)
        chosen.append((rank, order, unit_id, role))
    chosen.sort()
    result = []
    for _, _, unit_id, role in chosen:
        name, kind, contact, phone = unit_table.get(unit_id, ("", "", "", ""))
        result.append(Unit(unit_id, name, role, kind, contact, phone))
    return tuple(result)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _unit_table(units: pd.DataFrame) -> dict[str, tuple[str, str, str, str]]:
    columns = [
        units[c] if c in units.columns else pd.Series([""] * len(units)) for c in ("name", "kind", "contact", "phone")
    ]
    return {
        str(unit_id): tuple(_text(v) for v in values)  # type: ignore[misc]
        for unit_id, *values in zip(units["unit_id"], *columns, strict=True)
    }


def _standard_table(standards: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """standard_id -> {standard_id, grade, figures..., notes}; missing figures are None."""
    table: dict[str, dict[str, Any]] = {}
    for record in standards.to_dict("records"):
        standard_id = _text(record.get("standard_id"))
        if not standard_id:
            continue
        entry: dict[str, Any] = {"standard_id": standard_id, "grade": _text(record.get("grade"))}
        for figure in STANDARD_FIGURES:
            value = record.get(figure)
            entry[figure] = float(value) if value is not None and not pd.isna(value) else None
        entry["notes"] = _text(record.get("notes"))
        table[standard_id] = entry
    return table


def _signature_rows(
    geometry: GeometryIndex, piece_start: np.ndarray, rank: np.ndarray, fallback_row0: int, none_row: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per signature: its sure rows in answer order, and its best row (else fallback, else empty)."""
    sizes = np.diff(geometry.sig_ptr)
    n_sig = len(sizes)
    owner = np.repeat(np.arange(n_sig), sizes)
    rows = piece_start[geometry.sig_features] if len(geometry.sig_features) else np.empty(0, np.int64)
    order = np.lexsort((rows, rank[rows], owner)) if len(rows) else np.empty(0, np.int64)
    rows = rows[order]
    district = geometry.sig_district.astype(np.int64)
    best = np.where(district >= 0, fallback_row0 + district, none_row)
    has = sizes > 0
    best[has] = rows[geometry.sig_ptr[:-1][has]]
    return best.astype(np.int64), geometry.sig_ptr, rows.astype(np.int64)
