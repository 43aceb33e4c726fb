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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

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


@dataclass(frozen=True)
class Standing:
    """One unit's, district's or the city's result. ``case_ids[figure]`` lists the cases behind a count."""

    level: str
    id: str
    name: str
    figures: dict[str, Any]
    case_ids: dict[str, np.ndarray]
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
        """The ``count`` worst ranked units, worst first, never overlapping :meth:`best`."""
        count = self.rules.best_worst if count is None else count
        ranked = self.ranked_units()
        best_ids = {s.id for s in self.best(count)}
        return [s for s in ranked[::-1][:count] if s.id not in best_ids]

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


def _codes(values: pd.Series, known: tuple[str, ...], what: str, column: str, case_ids: pd.Series) -> np.ndarray:
    """Codes of ``values`` in ``known`` (-1 for empty); an unknown value is an error naming the row and the case."""
    codes = pd.Index(known).get_indexer(values).astype(np.int8)
    bad = np.flatnonzero((codes < 0) & values.notna().to_numpy())
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
    case_index = pd.Index(cases["case_id"])
    if not case_index.is_unique:
        duplicated = case_index[case_index.duplicated()][0]
        raise AssessmentInputError(f"cases: case_id {str(duplicated)[:40]!r} appears more than once")
    reported = _utc_ns(cases, "reported_at", "cases")
    if (reported == _NAT).any():
        row = int(np.flatnonzero(reported == _NAT)[0])
        raise AssessmentInputError(f"cases row {row} (case {cases['case_id'].iloc[row]!s:.40}): reported_at is empty")

    at = _utc_ns(events, "at", "events")
    keep = (at < end) & (at != _NAT)
    events = events[keep] if not keep.all() else events
    at = at[keep]
    event_case = case_index.get_indexer(events["case_id"])
    if (event_case < 0).any():
        row = int(np.flatnonzero(event_case < 0)[0])
        raise AssessmentInputError(f"events: case {str(events['case_id'].iloc[row])[:40]!r} is not in cases")
    action = _codes(events["action"], ACTIONS, "events", "action", events["case_id"])
    to_state = _codes(events["to_state"], STATES, "events", "to_state", events["case_id"])
    due = _utc_ns(events, "due_at", "events")
    seq = events["seq"].to_numpy(dtype=np.int64)
    order = np.lexsort((seq, event_case))
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
    layers = cases["layer"].to_numpy(dtype=object)
    on_lines = attributed & (pd.Series(layers).isin(sorted(line_layers)).to_numpy() if line_layers else False)
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
    groups: np.ndarray, cases: np.ndarray, facts: _Facts, case_ids: np.ndarray, size: int
) -> tuple[dict[str, np.ndarray], dict[str, list[np.ndarray]]]:
    """Counts and case-id lists per group from (group, case) pairs sorted by group."""
    counts: dict[str, np.ndarray] = {}
    lists: dict[str, list[np.ndarray]] = {}

    def keep(name: str, selected: np.ndarray, weights: np.ndarray | None = None) -> None:
        group_of = groups[selected]
        per_group = np.bincount(group_of, minlength=size) if weights is None else None
        if weights is not None:  # a case listed once per event (rework)
            repeats = weights[selected]
            group_of = np.repeat(group_of, repeats)
            selected = np.repeat(selected, repeats)
            per_group = np.bincount(group_of, minlength=size)
        counts[name] = per_group.astype(np.int64)
        lists[name] = np.split(case_ids[cases[selected]], np.cumsum(per_group)[:-1])

    for name, mask in facts.masks.items():
        if name != "in_period":
            keep(name, np.flatnonzero(mask[cases]))
    rework = facts.rework_events[cases]
    keep("rework", np.flatnonzero(rework > 0), rework)
    hours = np.bincount(groups, weights=facts.rectify_hours[cases], minlength=size)
    counts["_rectify_hours"] = hours
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
    case_ids = cases["case_id"].to_numpy(dtype=object)
    end = period.end_utc.value

    # -- units: the units attributed at the period's end ---------------------------
    units_frame = frames.case_units
    since = _utc_ns(units_frame, "since", "case_units")
    until = _utc_ns(units_frame, "until", "case_units")
    active = (since < end) & ((until == _NAT) | (until >= end))
    pair_case = pd.Index(cases["case_id"]).get_indexer(units_frame["case_id"])
    if (pair_case < 0).any():
        row = int(np.flatnonzero(pair_case < 0)[0])
        raise AssessmentInputError(f"case_units: case {str(units_frame['case_id'].iloc[row])[:40]!r} is not in cases")
    known_units = ground.units["unit_id"].astype(str).tolist()
    pair_unit_ids = units_frame["unit_id"].to_numpy(dtype=object)
    unit_codes, unit_list = _code_with(pair_unit_ids, known_units)
    pair_case, pair_unit = pair_case[active], unit_codes[active]
    # one pair per (case, unit): a unit both lead and manual counts once
    key = np.unique(pair_unit.astype(np.int64) * max(len(cases), 1) + pair_case)
    pair_unit, pair_case = key // max(len(cases), 1), key % max(len(cases), 1)
    unit_counts, unit_lists = _grouped(pair_unit, pair_case, facts, case_ids, len(unit_list))
    _disputes_by_unit(frames, facts, unit_list, unit_counts, unit_lists, case_ids)

    # -- districts: where the case lies --------------------------------------------
    district_list = ground.districts["district_id"].astype(str).tolist()
    case_district = cases["district_id"].to_numpy(dtype=object)
    district_codes, district_list = _code_with(case_district, district_list, missing="")
    order = np.argsort(district_codes, kind="stable")
    district_counts, district_lists = _grouped(district_codes[order], order, facts, case_ids, len(district_list))
    dispute_districts = district_codes[facts.dispute_case]
    _add_disputes(district_counts, district_lists, dispute_districts, facts.dispute_case, case_ids, len(district_list))

    everyone = np.zeros(len(cases), dtype=np.int64)
    city_counts, city_lists = _grouped(everyone, np.arange(len(cases)), facts, case_ids, 1)
    _add_disputes(
        city_counts, city_lists, np.zeros(len(facts.dispute_case), dtype=np.int64), facts.dispute_case, case_ids, 1
    )

    unit_ground = ground.units.set_index(ground.units["unit_id"].astype(str))
    unit_names = unit_ground["name"].reindex(unit_list).fillna("").astype(str).to_numpy()
    unit_length = unit_ground["held_length_m"].reindex(unit_list).fillna(0.0).to_numpy(dtype=float)
    unit_area = unit_ground["held_area_m2"].reindex(unit_list).fillna(0.0).to_numpy(dtype=float)
    unit_held = unit_ground["held"].reindex(unit_list).fillna(False).to_numpy(dtype=bool)
    units = _standings(
        "unit", unit_list, unit_names, unit_counts, unit_lists, unit_length, unit_area, unit_held, period, rules
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
        rank=False,
    )[0]
    overdue = _overdue_table(frames, facts, pair_case, pair_unit, unit_list, end)
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


def _code_with(values: np.ndarray, known: list[str], missing: str | None = None) -> tuple[np.ndarray, list[str]]:
    """Integer codes of ``values``, ``known`` first then any others in order of appearance."""
    values = np.asarray(values, dtype=object)
    if missing is not None:
        values = np.where(pd.isna(values), missing, values)
    codes, uniques = pd.factorize(values)
    known_set = set(known)
    listing = list(known) + [str(u) for u in uniques if str(u) not in known_set]
    position = {name: i for i, name in enumerate(listing)}
    remap = np.asarray([position[str(u)] for u in uniques], dtype=np.int64)
    return (remap[codes] if len(codes) else np.zeros(0, dtype=np.int64)), listing


def _add_disputes(
    counts: dict[str, np.ndarray],
    lists: dict[str, list[np.ndarray]],
    groups: np.ndarray,
    cases: np.ndarray,
    case_ids: np.ndarray,
    size: int,
) -> None:
    order = np.argsort(groups, kind="stable")
    per_group = np.bincount(groups, minlength=size).astype(np.int64)
    counts["disputes"] = per_group
    lists["disputes"] = np.split(case_ids[cases[order]], np.cumsum(per_group)[:-1])


def _disputes_by_unit(
    frames: CaseFrames,
    facts: _Facts,
    unit_list: list[str],
    counts: dict[str, np.ndarray],
    lists: dict[str, list[np.ndarray]],
    case_ids: np.ndarray,
) -> None:
    """A dispute counts for the units attributed when it was raised (not for the unit the case went to)."""
    if not len(facts.dispute_case):
        _add_disputes(counts, lists, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), case_ids, len(unit_list))
        return
    raised = pd.DataFrame(
        {"case_id": case_ids[facts.dispute_case], "_case": facts.dispute_case, "_at": facts.dispute_at}
    )
    holders = frames.case_units[["case_id", "unit_id"]].assign(
        _since=_utc_ns(frames.case_units, "since", "case_units"),
        _until=_utc_ns(frames.case_units, "until", "case_units"),
    )
    joined = raised.merge(holders[holders["case_id"].isin(raised["case_id"])], on="case_id")
    holding = (joined["_since"] <= joined["_at"]) & ((joined["_until"] == _NAT) | (joined["_at"] < joined["_until"]))
    joined = joined[holding].drop_duplicates(["_case", "_at", "unit_id"])
    position = {name: i for i, name in enumerate(unit_list)}
    groups = joined["unit_id"].map(lambda u: position.get(str(u), -1)).to_numpy(dtype=np.int64)
    kept = groups >= 0
    _add_disputes(counts, lists, groups[kept], joined["_case"].to_numpy(dtype=np.int64)[kept], case_ids, len(unit_list))


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
            note = f"tied at {score[i]:.2f} points with {', '.join(ties[i])}"
        standings.append(
            Standing(
                level=level,
                id=group_id,
                name=str(names[i]),
                figures=figures,
                case_ids={name: lists[name][i] for name in COUNTED},
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
    frames: CaseFrames,
    facts: _Facts,
    pair_case: np.ndarray,
    pair_unit: np.ndarray,
    unit_list: list[str],
    end: int,
) -> pd.DataFrame:
    """Cases overdue and open at the end, longest overdue first, with their units."""
    positions = np.flatnonzero(facts.masks["overdue_open"])
    cases = frames.cases
    hours = (end - facts.due_in_force[positions]) / _NS_PER_HOUR
    order = np.lexsort((cases["case_id"].to_numpy(dtype=object)[positions].astype(str), -hours))
    positions, hours = positions[order], hours[order]
    selected = np.isin(pair_case, positions)
    by_case = (
        pd.DataFrame({"case": pair_case[selected], "unit": np.asarray(unit_list, dtype=object)[pair_unit[selected]]})
        .groupby("case")["unit"]
        .agg(lambda units: ", ".join(sorted(map(str, units))))
    )
    table = pd.DataFrame(
        {
            "case_id": cases["case_id"].to_numpy(dtype=object)[positions],
            "hours_overdue": np.round(hours, 2),
            "due_at": pd.to_datetime(facts.due_in_force[positions], utc=True),
            "state": np.asarray(STATES, dtype=object)[facts.state[positions]],
            "units": by_case.reindex(positions).fillna("").to_numpy(dtype=object),
        }
    )
    for column in ("district_id", "category_name", "feature_name", "lon", "lat"):
        table[column] = cases[column].to_numpy()[positions] if column in cases.columns else None
    return table


def _case_table(cases: pd.DataFrame, facts: _Facts) -> pd.DataFrame:
    """Cases reported in the period or still overdue at its end, with their state at the end (for maps)."""
    shown = facts.masks["in_period"] | facts.masks["overdue_open"]
    positions = np.flatnonzero(shown)
    state = facts.state[positions]
    table = pd.DataFrame(
        {
            "case_id": cases["case_id"].to_numpy(dtype=object)[positions],
            "state": np.where(state >= 0, np.asarray(STATES, dtype=object)[np.maximum(state, 0)], ""),
            "overdue_open": facts.masks["overdue_open"][positions],
        }
    )
    for column in ("lon", "lat", "district_id", "category_name"):
        table[column] = cases[column].to_numpy()[positions] if column in cases.columns else None
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
