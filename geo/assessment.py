"""Assessment (考核): per unit and per district, what happened to the cases of a period, scored and ranked.

Pure functions over three frames (the shape ``cases.frames.case_frames`` returns,
see :class:`CaseFrames`) and the ground each unit held: no database, no web
framework, no plotting. Every figure is recomputed from the recorded events, so
the same period assessed twice gives the same answer.

**As at the period's end.** Events at or after the end are ignored: November
assessed in January is November as the office saw it on 1 December 00:00.

**Which unit a case counts for.** The units attributed to it at the period's
end (``case_units`` rows with ``since`` before the end and ``until`` empty or
not before it): a case reassigned mid-period counts for the unit it ended
with; the dispute that led to it counts for the unit that raised it (the units
attributed when the ``dispute`` event was recorded). A case attributed to a
lead and a sharing unit counts for both. Responsibility that changed in the
dataset within the period is honoured in the same way: cases keep the units
frozen on them at report time; the held ground is averaged over the period.

**Indicators** (lists of the case ids behind each are kept, see ``case_ids``):

- ``attributed``: cases reported in the period and dispatched (a public report
  still waiting, or rejected, is nobody's case);
- ``due``: cases whose deadline set at dispatch or reassignment falls in the period;
- ``postponed``: of those, the cases the office postponed (out of the denominator);
- ``closed_on_time``: due, not postponed, closed at or before the deadline (a
  close one minute after it is late; ``late`` lists the others);
- ``on_time_rate`` = closed_on_time / (due - postponed) (None when 0 / 0);
- ``closed``: attributed cases closed by the period's end; ``close_rate`` = closed / attributed;
- ``rework``: ``send_back`` events in the period (a case sent back twice is listed twice);
- ``overdue_open``: cases dispatched or postponed at the end whose deadline in
  force has passed (of any period: the backlog);
- ``avg_hours_to_rectify``: over cases last rectified in the period, hours from
  the unit getting the case (first dispatch, or the last reassignment) to that rectification;
- ``disputes``: ``dispute`` events in the period;
- ``held_length_km``, ``held_area_m2``: ground held, averaged over the period's days
  (a district HQ's fallback ground counts as held by it);
- ``cases_per_km_street``: attributed cases on line features (streets, banks,
  entrances) per km of held line; ``cases_per_10000m2``: attributed cases per
  10,000 m² of held cleaned area.

**Score and rank**: see :mod:`geo.assessment_rules`. Units that held nothing in
the period are listed but not ranked; units with no cases are ranked on their
ground. Equal scores (to 0.01) share a rank (1, 2, 2, 4) and say with whom.
Districts are assessed on the cases located in them, against all their ground
(held plus fallback).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.assessment_rules import COMPONENTS, AssessmentRules, rules_for
from geo.periods import Period

if TYPE_CHECKING:
    from geo.dataset import Dataset

ACTIONS: tuple[str, ...] = (
    "report",
    "dispatch",
    "reject",
    "rectify",
    "dispute",
    "reassign",
    "postpone",
    "close",
    "send_back",
    "comment",  # a note on the record: no indicator counts it
)
STATES: tuple[str, ...] = ("reported", "dispatched", "rejected", "rectified", "postponed", "closed")
CASE_COLUMNS = ("case_id", "reported_at", "district_id", "layer")
CASE_UNIT_COLUMNS = ("case_id", "unit_id", "since", "until")
EVENT_COLUMNS = ("case_id", "seq", "at", "action", "to_state", "due_at")
# Figures whose case ids are kept (count figures: len(case_ids[f]) == figures[f]).
COUNTED: tuple[str, ...] = (
    "attributed",
    "due",
    "postponed",
    "closed",
    "closed_on_time",
    "late",
    "rework",
    "overdue_open",
    "rectified",
    "disputes",
    "cases_on_lines",
)
FIGURES: tuple[str, ...] = (
    *COUNTED,
    "on_time_rate",
    "close_rate",
    "avg_hours_to_rectify",
    "held_length_km",
    "held_area_m2",
    "cases_per_km_street",
    "cases_per_10000m2",
)
FIGURE_NAMES_ZH: dict[str, str] = {
    "attributed": "立案数",
    "due": "应结案数",
    "postponed": "延期数",
    "closed": "结案数",
    "closed_on_time": "按期结案数",
    "late": "超期结案或未结",
    "rework": "返工数",
    "overdue_open": "超期未结",
    "rectified": "处置数",
    "disputes": "争议数",
    "cases_on_lines": "道路沿线案件",
    "on_time_rate": "按期结案率",
    "close_rate": "结案率",
    "avg_hours_to_rectify": "平均处置时长(小时)",
    "held_length_km": "责任道路(公里)",
    "held_area_m2": "责任面积(平方米)",
    "cases_per_km_street": "每公里案件数",
    "cases_per_10000m2": "每万平方米案件数",
    "score": "得分",
    "rank": "排名",
}
_NS_PER_HOUR = 3_600_000_000_000
_NAT = np.iinfo(np.int64).min
_TIE_DECIMALS = 2
# A tie's note names this many of the others (``tied_with`` lists them all).
TIES_NAMED = 5
# How many of the longest-overdue cases the overdue table details (every one is in the city's case ids).
OVERDUE_LISTED = 200


class AssessmentInputError(ValueError):
    """The case frames cannot be assessed; the message names the frame, the row and the column."""


@dataclass(frozen=True)
class CaseFrames:
    """The three frames of the case store (see ``cases.frames.case_frames``): cases, case_units, events."""

    cases: pd.DataFrame
    case_units: pd.DataFrame
    events: pd.DataFrame


@dataclass(frozen=True)
class HeldGround:
    """Ground held in a period, per unit and per district, averaged over its days.

    ``units``: unit_id, name, held_length_m, held_area_m2, held (bool: held
    something on some day). ``districts``: district_id, name, fallback_unit,
    held_length_m, held_area_m2. ``line_layers``: ids of the line layers.
    ``segments``: the (first_day, last_day) runs over which responsibility did not change.
    """

    units: pd.DataFrame
    districts: pd.DataFrame
    line_layers: frozenset[str] = frozenset()
    segments: tuple[tuple[dt.date, dt.date], ...] = ()


class CaseLists(Mapping[str, np.ndarray]):
    """Case ids behind each figure, kept as row positions and turned into ids only when asked for.

    A year of a city is a million cases: the ids of every figure of every unit are
    traceable without being copied up front.
    """

    def __init__(self, positions: dict[str, np.ndarray], case_keys: pa.Array) -> None:
        self._positions = positions
        self._case_keys = case_keys

    def __getitem__(self, figure: str) -> np.ndarray:
        positions = self._positions[figure]
        return self._case_keys.take(pa.array(positions, pa.int64())).to_numpy(zero_copy_only=False).astype(object)

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)

    def positions(self, figure: str) -> np.ndarray:
        """Rows of the ``cases`` frame behind ``figure``."""
        return self._positions[figure]


@dataclass(frozen=True)
class Standing:
    """One unit's, district's or the city's result. ``case_ids[figure]`` lists the cases behind a count."""

    level: str
    id: str
    name: str
    figures: dict[str, Any]
    case_ids: Mapping[str, np.ndarray]
    points: dict[str, float] = field(default_factory=dict)
    score: float | None = None
    rank: int | None = None
    ranked: bool = False
    tied_with: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self, *, include_cases: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "level": self.level,
            "id": self.id,
            "name": self.name,
            "ranked": self.ranked,
            "rank": self.rank,
            "score": self.score,
            "tied_with": list(self.tied_with),
            "note": self.note,
            "points": dict(self.points),
            **{name: _plain(value) for name, value in self.figures.items()},
        }
        if include_cases:
            out["cases"] = {name: [str(c) for c in ids] for name, ids in self.case_ids.items()}
        return out


@dataclass(frozen=True)
class Assessment:
    """The assessment of one period: units and districts (ranked first, by rank), the city, the rules.

    ``overdue`` lists the cases overdue and open at the period's end, longest
    overdue first (case_id, hours_overdue, due_at, state, units, district_id,
    category_name, feature_name, lon, lat). ``case_table`` has one row per case
    reported in the period or open at its end: case_id, lon, lat, state (at the
    end), overdue_open, district_id, category_name.
    """

    period: Period
    rules: AssessmentRules
    units: tuple[Standing, ...]
    districts: tuple[Standing, ...]
    city: Standing
    overdue: pd.DataFrame
    case_table: pd.DataFrame
    segments: tuple[tuple[dt.date, dt.date], ...] = ()

    def unit(self, unit_id: str) -> Standing:
        return _find(self.units, unit_id, "unit")

    def district(self, district_id: str) -> Standing:
        return _find(self.districts, district_id, "district")

    def ranked_units(self) -> list[Standing]:
        return [s for s in self.units if s.ranked]

    def best(self, count: int | None = None) -> list[Standing]:
        """The ``count`` best ranked units (default the rules' ``best_worst``)."""
        return self.ranked_units()[: self.rules.best_worst if count is None else count]

    def worst(self, count: int | None = None) -> list[Standing]:
        """The ``count`` worst ranked units, worst first.

        Never one of :meth:`best` nor tied with one of them: when every unit shares
        the top score, nobody is worst.
        """
        count = self.rules.best_worst if count is None else count
        ranked = self.ranked_units()
        best_ranks = {s.rank for s in self.best(count)}
        return [s for s in ranked[::-1] if s.rank not in best_ranks][:count]

    def to_dict(self, *, include_cases: bool = True) -> dict[str, Any]:
        """JSON-ready: ``period``, ``rules``, ``city``, ``units``, ``districts``, ``overdue`` (and case ids)."""
        overdue = self.overdue.head(max(self.rules.worst_overdue, 0))
        return {
            "period": self.period.to_dict(),
            "as_of": self.period.end_utc.isoformat(),
            "rules": self.rules.to_dict(),
            "responsibility_segments": [[a.isoformat(), b.isoformat()] for a, b in self.segments],
            "city": self.city.to_dict(include_cases=include_cases),
            "units": [s.to_dict(include_cases=include_cases) for s in self.units],
            "districts": [s.to_dict(include_cases=include_cases) for s in self.districts],
            "overdue": [{k: _plain(v) for k, v in row.items()} for row in overdue.to_dict("records")],
        }


def _find(standings: tuple[Standing, ...], key: str, level: str) -> Standing:
    for standing in standings:
        if standing.id == key:
            return standing
    raise KeyError(f"{level} {key!r} is not in the assessment")


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if value is pd.NaT:
        return None
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value]
    return value


# -- input ----------------------------------------------------------------------


def _utc_ns(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """A time column as int64 ns since the epoch (UTC); NaT as ``_NAT``. Naive times are taken as UTC."""
    values = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        try:
            values = pd.to_datetime(values, utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise AssessmentInputError(f"{what}: column {column!r} holds values that are not times ({exc})") from exc
    elif isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AssessmentInputError(f"{what}: missing column(s) {', '.join(missing)}")


def _text(values: pd.Series | np.ndarray | list[str] | tuple[str, ...]) -> pa.Array:
    """Values as one Arrow string array (ids may come as numbers: compared as text). Zero-copy for Arrow columns."""
    array = pa.array(values, from_pandas=True) if not isinstance(values, (pa.Array, pa.ChunkedArray)) else values
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    return array


def _positions(values: pa.Array, keys: pa.Array) -> np.ndarray:
    """Position of each value in ``keys`` (-1 when absent or empty): one hash join in Arrow, no Python per row.

    Events come grouped by case (the store orders them so): only the first row of
    each run of equal values is looked up, the others repeat its answer.
    """
    if len(values) > 1:
        changes = pc.fill_null(pc.not_equal(values.slice(1), values.slice(0, len(values) - 1)), True)
        starts = np.r_[True, changes.to_numpy(zero_copy_only=False)]
        heads = np.flatnonzero(starts)
        if len(heads) * 2 < len(values):
            found = _lookup(values.take(pa.array(heads, pa.int64())), keys)
            return found[np.cumsum(starts) - 1]
    return _lookup(values, keys)


def _lookup(values: pa.Array, keys: pa.Array) -> np.ndarray:
    found = pc.index_in(values, value_set=keys)
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _factorize(values: pa.Array) -> tuple[np.ndarray, list[str]]:
    """(codes, distinct values) of a text array; empty values get code -1."""
    encoded = pc.dictionary_encode(values)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, [str(v) for v in encoded.dictionary.to_pylist()]


def _codes(values: pd.Series, known: tuple[str, ...], what: str, column: str, case_ids: pd.Series) -> np.ndarray:
    """Codes of ``values`` in ``known`` (-1 for empty); an unknown value is an error naming the row and the case."""
    array = _text(values)
    codes = _positions(array, pa.array(known, pa.string())).astype(np.int8)
    bad = np.flatnonzero((codes < 0) & ~pc.is_null(array).to_numpy(zero_copy_only=False))
    if len(bad):
        row = int(bad[0])
        raise AssessmentInputError(
            f"{what} row {row} (case {str(case_ids.iloc[row])[:40]}): {column} {str(values.iloc[row])[:40]!r} "
            f"is not one of {', '.join(known)}"
        )
    return codes


# -- per-case facts at the period's end -------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """Per-case arrays (index = row of ``cases``) and masks of the indicators."""

    masks: dict[str, np.ndarray]
    rework_events: np.ndarray
    rectify_hours: np.ndarray
    state: np.ndarray
    due_in_force: np.ndarray
    dispute_case: np.ndarray
    dispute_at: np.ndarray


def _first_last(group: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of ``positions`` (sorted by group, then order), the first and the last of each group."""
    keys = group[positions]
    starts = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
    ends = np.r_[keys[1:] != keys[:-1], True] if len(keys) else np.zeros(0, dtype=bool)
    return positions[starts], positions[ends]


def _case_facts(frames: CaseFrames, period: Period, line_layers: frozenset[str]) -> _Facts:
    cases, events = frames.cases, frames.events
    n = len(cases)
    start, end = period.start_utc.value, period.end_utc.value
    case_keys = _text(cases["case_id"])
    if pc.count_distinct(case_keys).as_py() != len(case_keys):
        counted = pc.value_counts(case_keys)
        duplicated = counted.field("values").filter(pc.greater(counted.field("counts"), 1))[0]
        raise AssessmentInputError(f"cases: case_id {str(duplicated)[:40]!r} appears more than once")
    reported = _utc_ns(cases, "reported_at", "cases")
    if (reported == _NAT).any():
        row = int(np.flatnonzero(reported == _NAT)[0])
        raise AssessmentInputError(f"cases row {row} (case {cases['case_id'].iloc[row]!s:.40}): reported_at is empty")

    at = _utc_ns(events, "at", "events")
    event_case = _positions(_text(events["case_id"]), case_keys)
    if (event_case < 0).any():
        row = int(np.flatnonzero(event_case < 0)[0])
        raise AssessmentInputError(f"events: case {str(events['case_id'].iloc[row])[:40]!r} is not in cases")
    action = _codes(events["action"], ACTIONS, "events", "action", events["case_id"])
    to_state = _codes(events["to_state"], STATES, "events", "to_state", events["case_id"])
    due = _utc_ns(events, "due_at", "events")
    seq = events["seq"].to_numpy(dtype=np.int64)
    keep = np.flatnonzero((at < end) & (at != _NAT))
    order = keep[np.lexsort((seq[keep], event_case[keep]))]
    event_case, action, to_state, due, at = event_case[order], action[order], to_state[order], due[order], at[order]

    def rows(*names: str) -> np.ndarray:
        return np.flatnonzero(np.isin(action, [ACTIONS.index(name) for name in names]))

    def last_value(positions: np.ndarray, values: np.ndarray, fill: int = _NAT) -> np.ndarray:
        out = np.full(n, fill, dtype=values.dtype)
        _, last = _first_last(event_case, positions)
        out[event_case[last]] = values[last]
        return out

    everything = np.arange(len(event_case))
    state = last_value(everything, to_state, -1).astype(np.int8)
    handing = rows("dispatch", "reassign")
    dispatched = np.zeros(n, dtype=bool)
    dispatched[event_case[handing]] = True
    first_dispatch_rows, _ = _first_last(event_case, rows("dispatch"))
    first_dispatch = np.full(n, _NAT, dtype=np.int64)
    first_dispatch[event_case[first_dispatch_rows]] = at[first_dispatch_rows]
    last_reassign = last_value(rows("reassign"), at)
    handed_at = np.maximum(first_dispatch, last_reassign)
    handing_with_due = handing[due[handing] != _NAT]
    due_regular = last_value(handing_with_due, due)
    with_due = everything[due != _NAT]
    due_in_force = last_value(with_due, due)
    postponed_flag = np.zeros(n, dtype=bool)
    postponed_flag[event_case[rows("postpone")]] = True
    close_at = last_value(rows("close"), at)
    last_rectify = last_value(rows("rectify"), at)

    send_back = rows("send_back")
    send_back = send_back[at[send_back] >= start]
    rework_events = np.bincount(event_case[send_back], minlength=n).astype(np.int64)
    disputes = rows("dispute")
    disputes = disputes[at[disputes] >= start]

    rejected = state == STATES.index("rejected")
    in_period = (reported >= start) & (reported < end)
    attributed = in_period & dispatched & ~rejected
    due_case = dispatched & ~rejected & (due_regular != _NAT) & (due_regular >= start) & (due_regular < end)
    postponed = due_case & postponed_flag
    closed_any = close_at != _NAT
    on_time = due_case & ~postponed & closed_any & (close_at <= due_regular)
    late = due_case & ~postponed & ~on_time
    closed = attributed & closed_any
    open_state = np.isin(state, [STATES.index("dispatched"), STATES.index("postponed")])
    overdue_open = dispatched & open_state & (due_in_force != _NAT) & (due_in_force < end)
    rectified = (last_rectify != _NAT) & (last_rectify >= start) & (handed_at != _NAT) & (last_rectify >= handed_at)
    rectify_hours = np.where(rectified, (last_rectify - handed_at) / _NS_PER_HOUR, 0.0)
    on_line_layer = pc.is_in(_text(cases["layer"]), value_set=pa.array(sorted(line_layers), pa.string()))
    on_lines = attributed & pc.fill_null(on_line_layer, False).to_numpy(zero_copy_only=False)
    return _Facts(
        masks={
            "attributed": attributed,
            "due": due_case,
            "postponed": postponed,
            "closed": closed,
            "closed_on_time": on_time,
            "late": late,
            "overdue_open": overdue_open,
            "rectified": rectified,
            "cases_on_lines": np.asarray(on_lines, dtype=bool),
            "in_period": in_period,
        },
        rework_events=rework_events,
        rectify_hours=rectify_hours,
        state=state,
        due_in_force=due_in_force,
        dispute_case=event_case[disputes],
        dispute_at=at[disputes],
    )


# -- aggregation ------------------------------------------------------------------


def _grouped(
    groups: np.ndarray, cases: np.ndarray, facts: _Facts, size: int
) -> tuple[dict[str, np.ndarray], dict[str, list[np.ndarray]]]:
    """Counts and case positions per group from (group, case) pairs sorted by group."""
    counts: dict[str, np.ndarray] = {}
    lists: dict[str, list[np.ndarray]] = {}

    def keep(name: str, selected: np.ndarray, repeats: np.ndarray | None = None) -> None:
        if repeats is not None:  # a case listed once per event (rework)
            selected = np.repeat(selected, repeats[selected])
        per_group = np.bincount(groups[selected], minlength=size).astype(np.int64)
        counts[name] = per_group
        lists[name] = np.split(cases[selected], np.cumsum(per_group)[:-1])

    for name, mask in facts.masks.items():
        if name != "in_period":
            keep(name, np.flatnonzero(mask[cases]))
    rework = facts.rework_events[cases]
    keep("rework", np.flatnonzero(rework > 0), rework)
    counts["_rectify_hours"] = np.bincount(groups, weights=facts.rectify_hours[cases], minlength=size)
    return counts, lists


def assess(
    frames: CaseFrames,
    period: Period,
    ground: HeldGround,
    rules: AssessmentRules | None = None,
) -> Assessment:
    """Assess ``period``: indicators per unit, district and city, scores and ranks. See the module docstring.

    Args:
        frames: cases, case_units and events (times UTC).
        period: the local calendar period (:mod:`geo.periods`).
        ground: what each unit and district held in the period (:func:`held_ground`).
        rules: weights and thresholds; default :class:`AssessmentRules`.

    Raises:
        AssessmentInputError: a frame lacks a column, or holds an unknown action, state or case.
    """
    rules = rules or AssessmentRules()
    _require(frames.cases, CASE_COLUMNS, "cases")
    _require(frames.case_units, CASE_UNIT_COLUMNS, "case_units")
    _require(frames.events, EVENT_COLUMNS, "events")
    facts = _case_facts(frames, period, ground.line_layers)
    cases = frames.cases
    case_keys = _text(cases["case_id"])
    end = period.end_utc.value

    # -- units: the units attributed at the period's end ---------------------------
    units_frame = frames.case_units
    since = _utc_ns(units_frame, "since", "case_units")
    until = _utc_ns(units_frame, "until", "case_units")
    active = (since < end) & ((until == _NAT) | (until >= end))
    row_case = _positions(_text(units_frame["case_id"]), case_keys)
    if (row_case < 0).any():
        row = int(np.flatnonzero(row_case < 0)[0])
        raise AssessmentInputError(f"case_units: case {str(units_frame['case_id'].iloc[row])[:40]!r} is not in cases")
    known_units = ground.units["unit_id"].astype(str).tolist()
    unit_codes, unit_list = _code_with(_text(units_frame["unit_id"]), known_units)
    active &= unit_codes >= 0  # a row without a unit attributes nothing
    pair_case, pair_unit = row_case[active], unit_codes[active]
    # one pair per (case, unit): a unit both lead and manual counts once
    key = np.sort(pair_unit.astype(np.int64) * max(len(cases), 1) + pair_case)
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    pair_unit, pair_case = key // max(len(cases), 1), key % max(len(cases), 1)
    unit_counts, unit_lists = _grouped(pair_unit, pair_case, facts, len(unit_list))
    dispute_unit, dispute_case = _dispute_holders(facts, row_case, unit_codes, since, until)
    _add_disputes(unit_counts, unit_lists, dispute_unit, dispute_case, len(unit_list))

    # -- districts: where the case lies --------------------------------------------
    district_list = ground.districts["district_id"].astype(str).tolist()
    district_codes, district_list = _code_with(_text(cases["district_id"]), district_list, missing="")
    order = np.argsort(district_codes, kind="stable")
    district_counts, district_lists = _grouped(district_codes[order], order, facts, len(district_list))
    dispute_districts = district_codes[facts.dispute_case]
    _add_disputes(district_counts, district_lists, dispute_districts, facts.dispute_case, len(district_list))

    everyone = np.zeros(len(cases), dtype=np.int64)
    city_counts, city_lists = _grouped(everyone, np.arange(len(cases)), facts, 1)
    _add_disputes(city_counts, city_lists, np.zeros(len(facts.dispute_case), dtype=np.int64), facts.dispute_case, 1)

    unit_ground = ground.units.set_index(ground.units["unit_id"].astype(str))
    unit_names = unit_ground["name"].reindex(unit_list).fillna("").astype(str).to_numpy()
    unit_length = unit_ground["held_length_m"].reindex(unit_list).fillna(0.0).to_numpy(dtype=float)
    unit_area = unit_ground["held_area_m2"].reindex(unit_list).fillna(0.0).to_numpy(dtype=float)
    unit_held = unit_ground["held"].reindex(unit_list).fillna(False).to_numpy(dtype=bool)
    units = _standings(
        "unit",
        unit_list,
        unit_names,
        unit_counts,
        unit_lists,
        unit_length,
        unit_area,
        unit_held,
        period,
        rules,
        case_keys,
    )

    district_ground = ground.districts.set_index(ground.districts["district_id"].astype(str))
    district_names = district_ground["name"].reindex(district_list).fillna("").astype(str).to_numpy()
    district_names = np.where(np.asarray(district_list) == "", "片区外", district_names)
    district_length = district_ground["held_length_m"].reindex(district_list).fillna(0.0).to_numpy(dtype=float)
    district_area = district_ground["held_area_m2"].reindex(district_list).fillna(0.0).to_numpy(dtype=float)
    district_held = np.asarray([d != "" and d in district_ground.index for d in district_list], dtype=bool)
    districts = _standings(
        "district",
        district_list,
        district_names,
        district_counts,
        district_lists,
        district_length,
        district_area,
        district_held,
        period,
        rules,
        case_keys,
    )
    city = _standings(
        "city",
        ["city"],
        np.asarray(["全市"]),
        city_counts,
        city_lists,
        np.asarray([unit_length.sum()]),
        np.asarray([unit_area.sum()]),
        np.asarray([True]),
        period,
        rules,
        case_keys,
        rank=False,
    )[0]
    overdue = _overdue_table(cases, case_keys, facts, pair_case, pair_unit, unit_list, end)
    case_table = _case_table(cases, facts)
    return Assessment(
        period=period,
        rules=rules,
        units=tuple(units),
        districts=tuple(d for d in districts if d.id != "" or d.figures["attributed"] or d.figures["overdue_open"]),
        city=city,
        overdue=overdue,
        case_table=case_table,
        segments=ground.segments,
    )


def _code_with(values: pa.Array, known: list[str], missing: str | None = None) -> tuple[np.ndarray, list[str]]:
    """Integer codes of ``values``, ``known`` first then any others in order of appearance.

    Empty values get the code of ``missing`` when given (else -1, which the caller must not count).
    """
    if missing is not None:
        values = pc.fill_null(values, missing)
    codes, uniques = _factorize(values)
    known_set = set(known)
    listing = list(known) + [u for u in uniques if u not in known_set]
    position = {name: i for i, name in enumerate(listing)}
    remap = np.asarray([position[u] for u in uniques] + [-1], dtype=np.int64)
    return remap[codes], listing


def _add_disputes(
    counts: dict[str, np.ndarray],
    lists: dict[str, list[np.ndarray]],
    groups: np.ndarray,
    cases: np.ndarray,
    size: int,
) -> None:
    order = np.argsort(groups, kind="stable")
    per_group = np.bincount(groups, minlength=size).astype(np.int64)
    counts["disputes"] = per_group
    lists["disputes"] = np.split(cases[order], np.cumsum(per_group)[:-1])


def _dispute_holders(
    facts: _Facts, row_case: np.ndarray, row_unit: np.ndarray, since: np.ndarray, until: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(unit, case) of each dispute, for each unit attributed when it was raised (not the unit the case went to)."""
    rows = np.flatnonzero(np.isin(row_case, facts.dispute_case) & (row_unit >= 0))
    dispute_order = np.argsort(facts.dispute_case, kind="stable")
    disputes_case, disputes_at = facts.dispute_case[dispute_order], facts.dispute_at[dispute_order]
    # every (dispute, unit row) pair of the same case: one row per dispute and unit row
    first = np.searchsorted(disputes_case, row_case[rows], side="left")
    count = np.searchsorted(disputes_case, row_case[rows], side="right") - first
    pair_row = np.repeat(rows, count)
    run_start = np.repeat(np.cumsum(count) - count, count)
    pair_dispute = np.repeat(first, count) + (np.arange(len(pair_row)) - run_start)
    at = disputes_at[pair_dispute]
    holding = (since[pair_row] <= at) & ((until[pair_row] == _NAT) | (at < until[pair_row]))
    unit, case, event = row_unit[pair_row][holding], row_case[pair_row][holding], pair_dispute[holding]
    if not len(unit):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # one count per dispute event and unit: a unit holding the case by two rows counts once,
    # two disputes (even at the same instant) count twice
    key = np.unique(np.stack([unit, event, case]), axis=1)
    return key[0], key[2]


def _standings(
    level: str,
    ids: list[str],
    names: np.ndarray,
    counts: dict[str, np.ndarray],
    lists: dict[str, list[np.ndarray]],
    length_m: np.ndarray,
    area_m2: np.ndarray,
    held: np.ndarray,
    period: Period,
    rules: AssessmentRules,
    case_keys: pa.Array,
    *,
    rank: bool = True,
) -> list[Standing]:
    """Figures, points, score and rank of each group, ranked ones first (by rank, then id)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        on_time_rate = counts["closed_on_time"] / (counts["due"] - counts["postponed"])
        close_rate = counts["closed"] / counts["attributed"]
        avg_hours = counts["_rectify_hours"] / counts["rectified"]
        length_km = length_m / 1000.0
        per_km = np.where(length_km > 0, counts["cases_on_lines"] / length_km, np.nan)
        per_10000 = np.where(area_m2 > 0, counts["attributed"] / (area_m2 / 10_000.0), np.nan)
    per_month = per_10000 * 30.0 / period.days
    points = {
        "on_time_rate": rules.on_time_rate.points(on_time_rate),
        "close_rate": rules.close_rate.points(close_rate),
        "overdue_open": rules.overdue_open.points(counts["overdue_open"]),
        "rework": rules.rework.points(counts["rework"]),
        "density": rules.density.points(per_month),
    }
    score = np.round(sum(points[name] for name in COMPONENTS), _TIE_DECIMALS)
    ranked = held & rank
    ranks, ties = _ranks(score, ranked, ids)
    standings = []
    for i, group_id in enumerate(ids):
        figures: dict[str, Any] = {name: int(counts[name][i]) for name in COUNTED}
        figures.update(
            on_time_rate=_rate(on_time_rate[i]),
            close_rate=_rate(close_rate[i]),
            avg_hours_to_rectify=_rate(avg_hours[i]),
            held_length_km=float(length_km[i]),
            held_area_m2=float(area_m2[i]),
            cases_per_km_street=_rate(per_km[i]),
            cases_per_10000m2=_rate(per_10000[i]),
        )
        note = ""
        if not ranked[i] and rank:
            note = "held nothing in the period: not ranked" if level == "unit" else "outside every district: not ranked"
        elif ties[i]:
            named = ", ".join(ties[i][:TIES_NAMED])
            more = f" and {len(ties[i]) - TIES_NAMED} more" if len(ties[i]) > TIES_NAMED else ""
            note = f"tied at {score[i]:.2f} points with {named}{more}"
        standings.append(
            Standing(
                level=level,
                id=group_id,
                name=str(names[i]),
                figures=figures,
                case_ids=CaseLists({name: lists[name][i] for name in COUNTED}, case_keys),
                points={name: round(float(points[name][i]), 4) for name in COMPONENTS},
                score=float(score[i]) if ranked[i] or not rank else None,
                rank=int(ranks[i]) if ranked[i] else None,
                ranked=bool(ranked[i]),
                tied_with=tuple(ties[i]),
                note=note,
            )
        )
    standings.sort(key=lambda s: (not s.ranked, s.rank or 0, s.id))
    return standings


def _rate(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _ranks(score: np.ndarray, ranked: np.ndarray, ids: list[str]) -> tuple[np.ndarray, list[list[str]]]:
    """Competition ranks (1, 2, 2, 4) of the ranked scores, best first, and who each one is tied with."""
    ranks = np.zeros(len(score), dtype=np.int64)
    ties: list[list[str]] = [[] for _ in ids]
    positions = np.flatnonzero(ranked)
    if not len(positions):
        return ranks, ties
    ordered = positions[np.lexsort((np.asarray(ids, dtype=object)[positions].astype(str), -score[positions]))]
    values = score[ordered]
    first_of_value = np.r_[True, values[1:] != values[:-1]]
    rank_of = np.maximum.accumulate(np.where(first_of_value, np.arange(1, len(ordered) + 1), 0))
    ranks[ordered] = rank_of
    groups = pd.Series(ordered).groupby(rank_of).apply(list)
    for members in groups:
        if len(members) > 1:
            for member in members:
                ties[member] = [ids[other] for other in members if other != member]
    return ranks, ties


def _overdue_table(
    cases: pd.DataFrame,
    case_keys: pa.Array,
    facts: _Facts,
    pair_case: np.ndarray,
    pair_unit: np.ndarray,
    unit_list: list[str],
    end: int,
) -> pd.DataFrame:
    """The ``OVERDUE_LISTED`` cases longest overdue and open at the end, with their units (all are in ``case_ids``)."""
    positions = np.flatnonzero(facts.masks["overdue_open"])
    hours = (end - facts.due_in_force[positions]) / _NS_PER_HOUR
    overdue_ids = case_keys.take(pa.array(positions, pa.int64())).to_numpy(zero_copy_only=False).astype(str)
    order = np.lexsort((overdue_ids, -hours))[:OVERDUE_LISTED]
    positions, hours, overdue_ids = positions[order], hours[order], overdue_ids[order]
    selected = np.isin(pair_case, positions)
    by_case = (
        pd.DataFrame({"case": pair_case[selected], "unit": np.asarray(unit_list, dtype=object)[pair_unit[selected]]})
        .groupby("case")["unit"]
        .agg(lambda units: ", ".join(sorted(map(str, units))))
    )
    table = pd.DataFrame(
        {
            "case_id": overdue_ids.astype(object),
            "hours_overdue": np.round(hours, 2),
            "due_at": pd.to_datetime(facts.due_in_force[positions], utc=True),
            "state": np.asarray(STATES, dtype=object)[facts.state[positions]],
            "units": by_case.reindex(positions).fillna("").to_numpy(dtype=object),
        }
    )
    for column in ("district_id", "category_name", "feature_name", "lon", "lat"):
        table[column] = cases[column].iloc[positions].to_numpy() if column in cases.columns else None
    return table


def _case_table(cases: pd.DataFrame, facts: _Facts) -> pd.DataFrame:
    """Cases reported in the period or still overdue at its end, with their state at the end (for maps)."""
    positions = np.flatnonzero(facts.masks["in_period"] | facts.masks["overdue_open"])
    columns = [c for c in ("case_id", "lon", "lat", "district_id", "category_name") if c in cases.columns]
    table = cases[columns].iloc[positions].reset_index(drop=True)
    state = facts.state[positions]
    table["state"] = np.where(state >= 0, np.asarray(STATES, dtype=object)[np.maximum(state, 0)], "")
    table["overdue_open"] = facts.masks["overdue_open"][positions]
    return table


# -- held ground from the dataset -----------------------------------------------------


def held_ground(ds: Dataset, period: Period) -> HeldGround:
    """Ground held per unit and district in ``period``, averaged over its days (from the coverage workload).

    Responsibility that changes within the period (an assignment's
    ``valid_from`` or the day after its ``valid_until``) splits it into
    segments; each segment's coverage is weighted by its number of days. A
    district HQ holds its own ground plus the fallback ground nobody else holds.
    """
    zones = ds.duty_zones
    changes: set[dt.date] = {period.first_day}
    for column, shift in (("valid_from", 0), ("valid_until", 1)):
        if column in zones.columns and len(zones):
            for when in pd.to_datetime(zones[column]).dropna().unique():
                day = (pd.Timestamp(when) + pd.Timedelta(days=shift)).date()
                if period.first_day < day <= period.last_day:
                    changes.add(day)
    starts = sorted(changes)
    segments = tuple(
        (first, (starts[k + 1] - dt.timedelta(days=1)) if k + 1 < len(starts) else period.last_day)
        for k, first in enumerate(starts)
    )
    unit_parts, district_parts = [], []
    for first, last in segments:
        report = ds.coverage(first)
        weight = ((last - first).days + 1) / period.days
        units = report.units
        counts = [c for c in units.columns if c.startswith("n_")]
        unit_parts.append(
            pd.DataFrame(
                {
                    "unit_id": units["unit_id"].astype(str),
                    "name": units["name"].astype(str),
                    "held_length_m": (units["length_m"] + units["fallback_length_m"]) * weight,
                    "held_area_m2": (units["area_m2"] + units["fallback_area_m2"]) * weight,
                    "held": (units[counts].sum(axis=1) > 0) | (units["fallback_districts"] > 0),
                }
            )
        )
        districts = report.districts
        district_parts.append(
            pd.DataFrame(
                {
                    "district_id": districts["district_id"].astype(str),
                    "name": districts["name"].astype(str),
                    "fallback_unit": districts["fallback_unit"].astype(str),
                    "held_length_m": (districts["length_m"] + districts["unheld_length_m"]) * weight,
                    "held_area_m2": (districts["held_area_m2"] + districts["unheld_area_m2"]) * weight,
                }
            )
        )
    units = (
        pd.concat(unit_parts)
        .groupby("unit_id", sort=False)
        .agg(
            name=("name", "first"),
            held_length_m=("held_length_m", "sum"),
            held_area_m2=("held_area_m2", "sum"),
            held=("held", "any"),
        )
        .reset_index()
    )
    districts = (
        pd.concat(district_parts)
        .groupby("district_id", sort=False)
        .agg(
            name=("name", "first"),
            fallback_unit=("fallback_unit", "first"),
            held_length_m=("held_length_m", "sum"),
            held_area_m2=("held_area_m2", "sum"),
        )
        .reset_index()
    )
    line_layers = frozenset(spec.id for spec in (ds.catalog.layers if ds.catalog else ()) if spec.geometry == "line")
    return HeldGround(units=units, districts=districts, line_layers=line_layers, segments=segments)


def assess_dataset(ds: Dataset, frames: CaseFrames, period: Period, rules: AssessmentRules | None = None) -> Assessment:
    """:func:`assess` with the dataset's held ground and its ``[assessment]`` rules."""
    return assess(frames, period, held_ground(ds, period), rules or rules_for(ds))
