"""Assessment on hand-made case sets: every indicator, the score and the rank, from known events.

The book below is November 2026 in Ankang time. Unit U1 holds compound C1 (100 m²)
and street S1 0-400 m (5 m wide: 2,000 m²) in tests/data/mini; U2 holds C2 and S1
400-1000 m (3,100 m²); U3 holds S2 (500 m x 8 m) since 2026-01-01.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geo import Dataset
from geo.assessment import (
    COUNTED,
    Assessment,
    AssessmentInputError,
    CaseFrames,
    HeldGround,
    assess,
    assess_dataset,
    held_ground,
)
from geo.assessment_rules import AssessmentRules, AssessmentRulesError, rules_from_toml
from geo.periods import parse_period, period_between
from tests.geo.case_book import CaseBook, empty_frames

NOVEMBER = parse_period("2026-11", "Asia/Shanghai")


def november_book() -> CaseBook:
    book = CaseBook()
    # A: closed exactly at its deadline (24 h): on time
    book.report("A", "11-02 09:00", layer="streets").act("A", "11-02 15:00", "rectify").act("A", "11-03 09:00", "close")
    # B: closed one minute after its deadline: late
    book.report("B", "11-04 09:00", layer="streets").act("B", "11-05 08:00", "rectify").act("B", "11-05 09:01", "close")
    # C: postponed by the office to 11-20, resumed, done in time: out of the on-time denominator
    book.report("C", "11-06 09:00").act("C", "11-06 12:00", "postpone", due="11-20 09:00")
    book.act("C", "11-18 09:00", "dispatch").act("C", "11-19 09:00", "rectify").act("C", "11-19 10:00", "close")
    # D: sent back once (rework), then done in time; last rectification 6 h after dispatch
    book.report("D", "11-08 09:00").act("D", "11-08 11:00", "rectify").act("D", "11-08 12:00", "send_back")
    book.act("D", "11-08 15:00", "rectify").act("D", "11-08 16:00", "close")
    # E: nothing done; due 11-29: overdue and open at the end
    book.report("E", "11-28 09:00")
    # F: reported on the last evening, due in December: counts as attributed only
    book.report("F", "11-30 20:00")
    # A2: due 11-26, closed only on 12-02: as at the period's end it is overdue and open
    book.report("A2", "11-25 09:00").act("A2", "12-02 10:00", "rectify").act("A2", "12-02 11:00", "close")
    # G: October's case (rectified in October) closed on 11-01: no figure of November
    book.report("G", "10-30 09:00").act("G", "10-31 20:00", "rectify").act("G", "11-01 09:00", "close")
    # H: a public report still waiting; I: a public report rejected: nobody's case
    book.report("H", "11-10 09:00", source="public")
    book.report("I", "11-11 09:00", source="public").act("I", "11-11 10:00", "reject")
    # J: reported after the period (00:30 local on 1 December, still 30 November in UTC)
    book.report("J", "12-01 00:30")
    # K: U1 disputes, the office reassigns to U2 (new 24 h deadline), U2 does it in time
    book.report("K", "11-12 09:00", district="D2").act("K", "11-12 12:00", "dispute")
    book.reassign("K", "11-12 14:00", "U2").act("K", "11-13 10:00", "rectify").act("K", "11-13 11:00", "close")
    return book


@pytest.fixture(scope="module")
def november(mini_ds: Dataset) -> Assessment:
    return assess_dataset(mini_ds, november_book().frames(), NOVEMBER)


def ids(assessment: Assessment, unit_id: str, figure: str) -> list[str]:
    return sorted(assessment.unit(unit_id).case_ids[figure].tolist())


def test_every_indicator_of_u1(november: Assessment) -> None:
    u1 = november.unit("U1").figures
    assert ids(november, "U1", "attributed") == ["A", "A2", "B", "C", "D", "E", "F"]
    assert ids(november, "U1", "due") == ["A", "A2", "B", "C", "D", "E"]  # F is due in December
    assert ids(november, "U1", "postponed") == ["C"]
    assert ids(november, "U1", "closed_on_time") == ["A", "D"]  # A exactly at the deadline
    assert ids(november, "U1", "late") == ["A2", "B", "E"]  # B one minute late
    assert u1["on_time_rate"] == pytest.approx(2 / (6 - 1))
    assert ids(november, "U1", "closed") == ["A", "B", "C", "D"]
    assert u1["close_rate"] == pytest.approx(4 / 7)
    assert ids(november, "U1", "rework") == ["D"] and u1["rework"] == 1
    assert ids(november, "U1", "overdue_open") == ["A2", "E"]
    # A 6 h, B 23 h, C 312 h (from the first dispatch, postponement included), D 6 h (to the last rectification)
    assert ids(november, "U1", "rectified") == ["A", "B", "C", "D"]
    assert u1["avg_hours_to_rectify"] == pytest.approx((6 + 23 + 312 + 6) / 4)
    assert ids(november, "U1", "disputes") == ["K"]  # U1 raised it, though K now counts for U2
    assert ids(november, "U1", "cases_on_lines") == ["A", "B"]
    assert u1["held_length_km"] == pytest.approx(0.4)
    assert u1["held_area_m2"] == pytest.approx(2_100)
    assert u1["cases_per_km_street"] == pytest.approx(2 / 0.4)
    assert u1["cases_per_10000m2"] == pytest.approx(7 / 0.21)


def test_every_count_is_its_list_of_cases(november: Assessment) -> None:
    for standing in (*november.units, *november.districts, november.city):
        for figure in COUNTED:
            assert len(standing.case_ids[figure]) == standing.figures[figure], (standing.id, figure)


def test_reassigned_case_counts_for_the_unit_it_ended_with(november: Assessment) -> None:
    u2 = november.unit("U2")
    assert ids(november, "U2", "attributed") == ["K"]
    assert ids(november, "U2", "closed_on_time") == ["K"]
    assert u2.figures["on_time_rate"] == 1.0
    assert u2.figures["avg_hours_to_rectify"] == pytest.approx(20.0)  # from the reassignment at 14:00
    assert u2.figures["disputes"] == 0
    assert "K" not in ids(november, "U1", "attributed")


def test_score_from_the_default_rules(november: Assessment) -> None:
    u1 = november.unit("U1")
    # on time 40 % -> 50 - (70 - 40) = 20; close rate 57.1 % -> 20 - 32.9 -> 0;
    # 2 overdue -> 15 - 2 = 13; 1 rework -> 5 - 0.5 = 4.5; 7 cases on 0.21 ha in 30 days -> far above 2: 0
    assert u1.points == {
        "on_time_rate": 20.0,
        "close_rate": 0.0,
        "overdue_open": 13.0,
        "rework": 4.5,
        "density": 0.0,
    }
    assert u1.score == 37.5
    # U2: one case, on time, closed; 1 case on 0.31 ha -> 3.23 / 10,000 m² -> 10 - 1.23
    u2 = november.unit("U2")
    assert u2.score == pytest.approx(50 + 20 + 15 + 5 + 10 - (1 / 0.31 - 2), abs=0.005)


def test_ranking_ties_and_units_not_ranked(november: Assessment) -> None:
    ranked = [(s.id, s.rank) for s in november.ranked_units()]
    # U3 (S2) and the district HQs (fallback ground) had no case: full marks, tied first
    assert ranked == [("HQ1", 1), ("HQ2", 1), ("U3", 1), ("U2", 4), ("U1", 5)]
    hq1 = november.unit("HQ1")
    assert hq1.tied_with == ("HQ2", "U3") and "tied at 100.00 points with HQ2, U3" in hq1.note
    u4 = november.unit("U4")  # a company holding nothing
    assert not u4.ranked and u4.rank is None and "held nothing" in u4.note
    assert [s.id for s in november.best(2)] == ["HQ1", "HQ2"]
    assert [s.id for s in november.worst(2)] == ["U1", "U2"]


def test_district_and_city_figures(november: Assessment) -> None:
    d1, d2 = november.district("D1"), november.district("D2")
    assert sorted(d1.case_ids["attributed"].tolist()) == ["A", "A2", "B", "C", "D", "E", "F"]
    assert d2.case_ids["attributed"].tolist() == ["K"]
    assert d2.figures["disputes"] == 1  # disputes of districts: where the case lies
    assert november.city.figures["attributed"] == 8
    assert november.city.figures["on_time_rate"] == pytest.approx(3 / 6)
    assert d1.ranked and d2.ranked and november.city.rank is None


def test_overdue_list_longest_first(november: Assessment) -> None:
    overdue = november.overdue
    assert overdue["case_id"].tolist() == ["A2", "E"]
    # A2 was due 11-26 09:00, the period ends 12-01 00:00: 111 h
    assert overdue["hours_overdue"].tolist() == [111.0, 39.0]
    assert overdue["units"].tolist() == ["U1", "U1"]


def test_as_at_the_period_end_later_events_do_not_change_it(mini_ds: Dataset) -> None:
    book = november_book()
    book.act("E", "12-05 09:00", "rectify").act("E", "12-05 10:00", "close")  # long after November
    again = assess_dataset(mini_ds, book.frames(), NOVEMBER)
    assert again.to_dict() == assess_dataset(mini_ds, november_book().frames(), NOVEMBER).to_dict()


def test_json_is_plain_and_traceable(november: Assessment) -> None:
    data = json.loads(json.dumps(november.to_dict()))
    u1 = next(u for u in data["units"] if u["id"] == "U1")
    assert u1["attributed"] == 7 and sorted(u1["cases"]["attributed"]) == ["A", "A2", "B", "C", "D", "E", "F"]
    assert data["period"]["label"] == "2026-11" and data["rules"]["max_score"] == 100
    assert [u["id"] for u in data["units"]][:5] == ["HQ1", "HQ2", "U3", "U2", "U1"]
    assert data["overdue"][0]["case_id"] == "A2"


def test_a_period_with_no_cases(mini_ds: Dataset) -> None:
    result = assess_dataset(mini_ds, empty_frames(), NOVEMBER)
    assert result.city.figures["attributed"] == 0 and result.city.figures["on_time_rate"] is None
    # everyone holding ground is ranked on it, with full marks, and tied
    ranked = result.ranked_units()
    assert {s.id for s in ranked} == {"HQ1", "HQ2", "U1", "U2", "U3"}
    assert {s.score for s in ranked} == {100.0} and {s.rank for s in ranked} == {1}
    assert result.worst() == []  # all share the top score: nobody is worst
    hq1 = result.unit("HQ1")
    assert hq1.tied_with == ("HQ2", "U1", "U2", "U3") and hq1.note == "tied at 100.00 points with HQ2, U1, U2, U3"
    assert len(result.overdue) == 0 and len(result.case_table) == 0


def test_a_unit_that_changed_ground_mid_period(mini_ds: Dataset) -> None:
    # S2 (500 m x 8 m) passed from U1 to U3 on 2026-01-01: half of a 30-day run each
    period = period_between("2025-12-17", "2026-01-15", "Asia/Shanghai")
    ground = held_ground(mini_ds, period)
    units = ground.units.set_index("unit_id")
    assert [(a.isoformat(), b.isoformat()) for a, b in ground.segments] == [
        ("2025-12-17", "2025-12-31"),
        ("2026-01-01", "2026-01-15"),
    ]
    assert units.at["U1", "held_length_m"] == pytest.approx(400 + 250)
    assert units.at["U1", "held_area_m2"] == pytest.approx(100 + 2_000 + 2_000)
    assert units.at["U3", "held_length_m"] == pytest.approx(250)
    # a case on S2 in December was frozen on U1 and stays U1's after the change
    book = CaseBook().report("S2-dec", "2025-12-20 09:00", layer="streets")
    book.report("S2-jan", "2026-01-05 09:00", ("U3",), layer="streets")
    result = assess(book.frames(), period, ground)
    assert result.unit("U1").case_ids["attributed"].tolist() == ["S2-dec"]
    assert result.unit("U3").case_ids["attributed"].tolist() == ["S2-jan"]
    assert result.unit("U1").figures["cases_per_km_street"] == pytest.approx(1 / 0.65)


def test_rules_from_the_catalog_change_the_score(november: Assessment, mini_ds: Dataset) -> None:
    rules = rules_from_toml(
        {
            "assessment": {
                "on_time_rate": {"weight": 60, "full_at_percent": 90, "points_per_percent": 2},
                "density": {"weight": 0},
                "best_worst": 1,
            }
        }
    )
    assert rules.max_score == 60 + 20 + 15 + 5
    result = assess_dataset(mini_ds, november_book().frames(), NOVEMBER, rules)
    # on time 40 %: 60 - 2 x (90 - 40) = -40 -> 0
    assert result.unit("U1").points["on_time_rate"] == 0.0 and result.unit("U1").score == 17.5
    assert len(result.best()) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"assessment": {"on_time_rate": {"weight": "fifty"}}},
            r"\[assessment.on_time_rate\] weight: must be a number",
        ),
        ({"assessment": {"on_time_rate": {"wieght": 50}}}, r"\[assessment.on_time_rate\] wieght: unknown key"),
        ({"assessment": {"speed": {}}}, r"\[assessment\] speed: unknown key"),
        ({"assessment": {"close_rate": {"full_at_percent": 120}}}, r"full_at_percent: 120 is more than 100"),
        ({"assessment": {"rework": {"points_per_case": -1}}}, r"points_per_case: must be a number >= 0, not -1"),
        ({"assessment": {"best_worst": 2.5}}, r"best_worst: must be a whole number"),
        (
            {
                "assessment": {
                    name: {"weight": 0} for name in ("on_time_rate", "close_rate", "overdue_open", "rework", "density")
                }
            },
            "add up to 0",
        ),
    ],
)
def test_rule_mistakes_are_named(raw: dict, message: str) -> None:
    with pytest.raises(AssessmentRulesError, match=message):
        rules_from_toml(raw, "layers/x/catalog.toml")


def test_default_rules_without_a_section() -> None:
    assert rules_from_toml({}) == AssessmentRules()
    assert AssessmentRules().max_score == 100


@pytest.mark.parametrize(
    ("table", "column", "value", "message"),
    [
        ("events", "action", "fix", r"events row 2 \(case A\): action 'fix' is not one of report"),
        ("events", "to_state", "done", r"events row 2 \(case A\): to_state 'done' is not one of"),
        ("events", "case_id", "ZZ", r"events: case 'ZZ' is not in cases"),
        ("case_units", "case_id", "ZZ", r"case_units: case 'ZZ' is not in cases"),
        ("events", "at", "yesterday", r"events: column 'at' holds values that are not times"),
    ],
)
def test_bad_frames_are_named(mini_ds: Dataset, table: str, column: str, value: object, message: str) -> None:
    book = CaseBook().report("A", "11-02 09:00").act("A", "11-02 15:00", "rectify")
    frames = book.frames()
    frame = getattr(frames, table).astype({column: object})
    frame.loc[2 if table == "events" else 0, column] = value
    frames = CaseFrames(**{**frames.__dict__, table: frame})
    with pytest.raises(AssessmentInputError, match=message):
        assess(frames, NOVEMBER, held_ground(mini_ds, NOVEMBER))


def test_missing_column_is_named(mini_ds: Dataset) -> None:
    frames = november_book().frames()
    frames = CaseFrames(frames.cases.drop(columns="reported_at"), frames.case_units, frames.events)
    with pytest.raises(AssessmentInputError, match="cases: missing column"):
        assess(frames, NOVEMBER, held_ground(mini_ds, NOVEMBER))


def test_a_hand_made_ground_without_a_dataset() -> None:
    ground = HeldGround(
        units=pd.DataFrame(
            {
                "unit_id": ["U1", "U2"],
                "name": ["甲", "乙"],
                "held_length_m": [0.0, 0.0],
                "held_area_m2": [5e4, 5e4],
                "held": [True, True],
            }
        ),
        districts=pd.DataFrame(
            {
                "district_id": ["D1"],
                "name": ["一片区"],
                "fallback_unit": ["U1"],
                "held_length_m": [0.0],
                "held_area_m2": [1e5],
            }
        ),
    )
    book = CaseBook().report("X", "11-02 09:00", ("U2",)).act("X", "11-04 09:00", "rectify")
    result = assess(book.frames(), NOVEMBER, ground)
    # U2: due 11-03 09:00, still rectified-not-closed: late, not overdue-open (the unit has done its part)
    assert result.unit("U2").figures["late"] == 1 and result.unit("U2").figures["overdue_open"] == 0
    assert result.unit("U2").figures["on_time_rate"] == 0.0
    assert [s.id for s in result.ranked_units()] == ["U1", "U2"]
    assert np.isclose(result.unit("U2").figures["cases_per_10000m2"], 0.2)


def test_row_order_of_the_frames_does_not_matter(mini_ds: Dataset, november: Assessment) -> None:
    frames = november_book().frames()
    shuffled = CaseFrames(
        frames.cases.sample(frac=1, random_state=1).reset_index(drop=True),
        frames.case_units.sample(frac=1, random_state=2).reset_index(drop=True),
        frames.events.sample(frac=1, random_state=3).reset_index(drop=True),
    )
    again = assess_dataset(mini_ds, shuffled, NOVEMBER).to_dict()
    expected = november.to_dict()
    for data in (again, expected):  # case lists compared as sets: their order follows the rows
        for standing in (*data["units"], *data["districts"], data["city"]):
            standing["cases"] = {k: sorted(v) for k, v in standing["cases"].items()}
    assert again == expected


def test_two_disputes_by_two_units_of_one_case(mini_ds: Dataset) -> None:
    book = CaseBook().report("M", "11-03 09:00", ("U1", "U2")).act("M", "11-03 10:00", "dispute")
    book.act("M", "11-03 11:00", "dispute").reassign("M", "11-03 12:00", "U3").act("M", "11-04 09:00", "dispute")
    result = assess_dataset(mini_ds, book.frames(), NOVEMBER)
    # two disputes while U1 and U2 held it (each counts for both), one after U3 got it
    assert result.unit("U1").case_ids["disputes"].tolist() == ["M", "M"]
    assert result.unit("U2").figures["disputes"] == 2 and result.unit("U3").figures["disputes"] == 1
    assert result.city.figures["disputes"] == 3
    assert result.unit("U3").case_ids["attributed"].tolist() == ["M"] and result.unit("U1").figures["attributed"] == 0


def test_a_long_tie_names_five_and_counts_the_rest() -> None:
    ids = [f"U{k}" for k in range(1, 9)]
    ground = HeldGround(
        units=pd.DataFrame(
            {"unit_id": ids, "name": ids, "held_length_m": 0.0, "held_area_m2": 1e4, "held": True}
        ),
        districts=pd.DataFrame(
            {"district_id": ["D1"], "name": ["一"], "fallback_unit": ["U1"], "held_length_m": [0.0],
             "held_area_m2": [8e4]}
        ),
    )  # fmt: skip
    result = assess(empty_frames(), NOVEMBER, ground)
    u1 = result.unit("U1")
    assert len(u1.tied_with) == 7 and u1.note == "tied at 100.00 points with U2, U3, U4, U5, U6 and 2 more"
