"""The vectorised assessment against a plain per-case reading of its definitions, on random histories.

Hypothesis writes case histories that follow the state machine (report, dispatch,
reject, rectify, dispute, reassign, postpone, close, send_back, comment) at random
times around November; :func:`oracle` counts each unit's figures case by case, the
slow obvious way, straight from the definitions in ``geo.assessment``'s docstring.
Both must agree on every count and every list of cases.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.assessment import CaseFrames, HeldGround, assess
from geo.periods import parse_period

NOVEMBER = parse_period("2026-11", "Asia/Shanghai")
START, END = NOVEMBER.start_utc, NOVEMBER.end_utc
UNITS = ("U1", "U2", "U3")
# Which actions each state allows (cases.workflow), and the state after each.
NEXT: dict[str, dict[str, str]] = {
    "reported": {"dispatch": "dispatched", "reject": "rejected", "reassign": "dispatched", "comment": "reported"},
    "dispatched": {
        "rectify": "rectified",
        "dispute": "dispatched",
        "reassign": "dispatched",
        "postpone": "postponed",
        "comment": "dispatched",
    },
    "postponed": {"dispatch": "dispatched", "rectify": "rectified", "reassign": "dispatched", "dispute": "postponed"},
    "rectified": {"close": "closed", "send_back": "dispatched", "comment": "rectified"},
    "rejected": {},
    "closed": {},
}
GROUND = HeldGround(
    units=pd.DataFrame(
        {
            "unit_id": list(UNITS),
            "name": ["甲", "乙", "丙"],
            "held_length_m": [400.0, 0.0, 1000.0],
            "held_area_m2": [2000.0, 0.0, 30000.0],
            "held": [True, False, True],
        }
    ),
    districts=pd.DataFrame(
        {
            "district_id": ["D1", "D2"],
            "name": ["一", "二"],
            "fallback_unit": ["U3", "U3"],
            "held_length_m": [400.0, 1000.0],
            "held_area_m2": [10000.0, 20000.0],
        }
    ),
    line_layers=frozenset({"streets"}),
)


@st.composite
def histories(draw: st.DrawFn) -> CaseFrames:
    cases, units, events = [], [], []
    for number in range(draw(st.integers(1, 12))):
        case_id = f"K{number}"
        at = pd.Timestamp("2026-10-20T00:00Z") + pd.Timedelta(hours=draw(st.integers(0, 24 * 50)))
        public = draw(st.booleans())
        holders = draw(st.lists(st.sampled_from(UNITS), min_size=1, max_size=2, unique=True))
        deadline = pd.Timedelta(hours=draw(st.sampled_from([2, 24, 72])))
        cases.append(
            {"case_id": case_id, "reported_at": at, "district_id": draw(st.sampled_from(["D1", "D2", None])),
             "layer": draw(st.sampled_from(["streets", "compounds", None])), "lon": 109.0, "lat": 32.7}
        )  # fmt: skip
        rows = [{"unit_id": u, "since": at, "until": pd.NaT} for u in holders]
        seq = 1
        events.append(_event(case_id, seq, at, "report", "reported"))
        state, dispatched_once = "reported", False
        if not public:
            seq += 1
            events.append(_event(case_id, seq, at, "dispatch", "dispatched", at + deadline))
            state, dispatched_once = "dispatched", True
        for _ in range(draw(st.integers(0, 6))):
            allowed = sorted(NEXT[state])
            if not allowed:
                break
            action = draw(st.sampled_from(allowed))
            # now and then exactly at the deadline in force, or a minute after: the edges of "on time"
            in_force = [e["due_at"] for e in events if e["case_id"] == case_id and not pd.isna(e["due_at"])]
            edge = draw(st.sampled_from(["free", "free", "at_due", "after_due"]))
            if in_force and edge != "free" and in_force[-1] + pd.Timedelta(minutes=1) > at:
                at = max(at, in_force[-1] + pd.Timedelta(minutes=1 if edge == "after_due" else 0))
            else:
                at = at + pd.Timedelta(minutes=draw(st.integers(1, 60 * 80)))
            seq += 1
            due, unit = pd.NaT, None
            if action == "dispatch" and not dispatched_once:
                due, dispatched_once = at + deadline, True
            elif action == "reassign":
                unit = draw(st.sampled_from(UNITS))
                due, dispatched_once = at + deadline, True
                for row in rows:
                    if pd.isna(row["until"]):
                        row["until"] = at
                rows.append({"unit_id": unit, "since": at, "until": pd.NaT})
            elif action == "postpone":
                due = at + pd.Timedelta(hours=draw(st.integers(1, 200)))
            state = NEXT[state][action]
            events.append(_event(case_id, seq, at, action, state, due, unit))
        units.extend({"case_id": case_id, **row} for row in rows)
    frames = [pd.DataFrame(cases), pd.DataFrame(units), pd.DataFrame(events)]
    for frame, columns in zip(frames, (("reported_at",), ("since", "until"), ("at", "due_at")), strict=True):
        for column in columns:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return CaseFrames(*frames)


def _event(
    case_id: str, seq: int, at: pd.Timestamp, action: str, to_state: str, due: object = pd.NaT, unit: object = None
) -> dict:
    return {"case_id": case_id, "seq": seq, "at": at, "action": action, "to_state": to_state, "due_at": due,
            "unit_id": unit}  # fmt: skip


def oracle(frames: CaseFrames) -> dict[str, dict[str, Counter]]:
    """Per unit, per figure: a Counter of case ids (a case twice for two send-backs), case by case."""
    result: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    events = frames.events[frames.events["at"] < END].sort_values(["case_id", "seq"])
    for case in frames.cases.itertuples():
        mine = events[events["case_id"] == case.case_id]
        if mine.empty:
            continue
        state = mine["to_state"].iloc[-1]
        handing = mine[mine["action"].isin(["dispatch", "reassign"])]
        dispatched = not handing.empty
        regular = handing["due_at"].dropna()
        due_regular = regular.iloc[-1] if len(regular) else None
        in_force = mine["due_at"].dropna()
        due_in_force = in_force.iloc[-1] if len(in_force) else None
        closes = mine.loc[mine["action"] == "close", "at"]
        close_at = closes.iloc[-1] if len(closes) else None
        live = dispatched and state != "rejected"
        figures: dict[str, int] = {}
        figures["attributed"] = live and START <= case.reported_at < END
        figures["due"] = live and due_regular is not None and START <= due_regular < END
        figures["postponed"] = figures["due"] and (mine["action"] == "postpone").any()
        on_time = figures["due"] and not figures["postponed"] and close_at is not None and close_at <= due_regular
        figures["closed_on_time"] = on_time
        figures["late"] = figures["due"] and not figures["postponed"] and not on_time
        figures["closed"] = figures["attributed"] and close_at is not None
        figures["overdue_open"] = (
            dispatched and state in ("dispatched", "postponed") and due_in_force is not None and due_in_force < END
        )
        figures["cases_on_lines"] = figures["attributed"] and case.layer == "streets"
        figures["rework"] = int(((mine["action"] == "send_back") & (mine["at"] >= START)).sum())
        # rectified: the last rectification in the period, after the unit got the case (first dispatch or reassignment)
        handed = [t for t in (mine.loc[mine["action"] == "dispatch", "at"].min(),
                              mine.loc[mine["action"] == "reassign", "at"].max()) if not pd.isna(t)]  # fmt: skip
        rectifications = mine.loc[mine["action"] == "rectify", "at"]
        last_rectify = rectifications.iloc[-1] if len(rectifications) else None
        figures["rectified"] = bool(handed) and last_rectify is not None and last_rectify >= max(START, max(handed))
        hours = (last_rectify - max(handed)) / pd.Timedelta(hours=1) if figures["rectified"] else 0.0
        holders = frames.case_units[frames.case_units["case_id"] == case.case_id]
        at_end = holders[(holders["since"] < END) & (holders["until"].isna() | (holders["until"] >= END))]
        for unit in set(at_end["unit_id"]):
            for name, count in figures.items():
                if count:
                    result[unit][name][case.case_id] += int(count)
            result[unit]["_hours"][case.case_id] += hours
        for dispute_at in mine.loc[(mine["action"] == "dispute") & (mine["at"] >= START), "at"]:
            then = holders[
                (holders["since"] <= dispute_at) & (holders["until"].isna() | (dispute_at < holders["until"]))
            ]
            for unit in set(then["unit_id"]):
                result[unit]["disputes"][case.case_id] += 1
    return result


FIGURES_CHECKED = (
    "attributed", "due", "postponed", "closed_on_time", "late", "closed", "overdue_open", "cases_on_lines", "rework",
    "disputes", "rectified",
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_every_unit_figure_matches_the_case_by_case_reading(frames: CaseFrames) -> None:
    result = assess(frames, NOVEMBER, GROUND)
    expected = oracle(frames)
    for unit in UNITS:
        standing = result.unit(unit)
        for name in FIGURES_CHECKED:
            got = Counter(standing.case_ids[name].tolist())
            assert got == expected[unit][name], (unit, name)
            assert standing.figures[name] == sum(expected[unit][name].values())
        rectified = standing.figures["rectified"]
        hours = sum(expected[unit]["_hours"].values())
        assert standing.figures["avg_hours_to_rectify"] == (None if not rectified else pytest.approx(hours / rectified))
        due, postponed = standing.figures["due"], standing.figures["postponed"]
        assert standing.figures["closed_on_time"] + standing.figures["late"] == due - postponed
        rate = standing.figures["on_time_rate"]
        assert (
            rate is None
            if due == postponed
            else rate == pytest.approx(standing.figures["closed_on_time"] / (due - postponed))
        )
