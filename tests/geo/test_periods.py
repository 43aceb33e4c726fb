"""Assessment periods: local calendar periods, their UTC bounds, previous periods and clear errors."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from geo import Dataset, load_dataset
from geo.periods import (
    PeriodError,
    dataset_timezone,
    parse_period,
    period_between,
    resolve_period,
)

UTC = "UTC"


@pytest.mark.parametrize(
    ("text", "kind", "first", "last", "label_zh"),
    [
        ("2026-11", "month", "2026-11-01", "2026-11-30", "2026年11月"),  # a 30-day month
        ("2028-2", "month", "2028-02-01", "2028-02-29", "2028年2月"),  # leap February, month without zero
        ("2026-Q4", "quarter", "2026-10-01", "2026-12-31", "2026年第四季度"),
        ("2026q1", "quarter", "2026-01-01", "2026-03-31", "2026年第一季度"),  # lower case, no dash
        ("2026-H2", "half", "2026-07-01", "2026-12-31", "2026年下半年"),
        ("2026-H1", "half", "2026-01-01", "2026-06-30", "2026年上半年"),
        ("2026", "year", "2026-01-01", "2026-12-31", "2026年"),
    ],
)
def test_periods_are_local_calendar_periods(text: str, kind: str, first: str, last: str, label_zh: str) -> None:
    period = parse_period(text)
    assert period.kind == kind
    assert (period.first_day.isoformat(), period.last_day.isoformat()) == (first, last)
    assert period.label_zh == label_zh


def test_bounds_are_local_midnights_in_utc() -> None:
    period = parse_period("2026-11", "Asia/Shanghai")
    # 2026-11-01 00:00 +08:00 is 2026-10-31 16:00 UTC
    assert period.start_utc == pd.Timestamp("2026-10-31T16:00:00Z")
    assert period.end_utc == pd.Timestamp("2026-11-30T16:00:00Z")
    assert period.days == 30
    assert parse_period("2026-11", UTC).start_utc == pd.Timestamp("2026-11-01T00:00:00Z")


def test_a_zone_with_summer_time_keeps_calendar_days() -> None:
    # Europe/Berlin leaves summer time on 2026-10-25: October has one 25-hour day.
    period = parse_period("2026-10", "Europe/Berlin")
    hours = (period.end_utc - period.start_utc) / pd.Timedelta(hours=1)
    assert hours == 31 * 24 + 1


def test_labels_round_trip() -> None:
    for text in ("2026-11", "2026-Q4", "2026-H2", "2026"):
        assert parse_period(parse_period(text).label).label == text


@pytest.mark.parametrize(
    ("text", "count", "labels"),
    [
        ("2026-02", 3, ["2025-11", "2025-12", "2026-01"]),  # crosses a year
        ("2026-Q1", 2, ["2025-Q3", "2025-Q4"]),
        ("2026-H1", 2, ["2025-H1", "2025-H2"]),
        ("2026", 2, ["2024", "2025"]),
        ("2026-11", 0, []),
    ],
)
def test_previous_periods_for_trends(text: str, count: int, labels: list[str]) -> None:
    assert [p.label for p in parse_period(text).previous(count)] == labels


def test_a_run_of_days_and_the_runs_before_it() -> None:
    period = period_between("2026-11-01", "2026-11-07")
    assert period.kind == "range" and period.days == 7
    assert period.label == "2026-11-01..2026-11-07"
    assert period.label_zh == "2026年11月1日至2026年11月7日"
    before = period.previous(2)
    assert [(p.first_day, p.last_day) for p in before] == [
        (dt.date(2026, 10, 18), dt.date(2026, 10, 24)),
        (dt.date(2026, 10, 25), dt.date(2026, 10, 31)),
    ]
    one_day = period_between("2026-11-05", "2026-11-05")
    assert one_day.days == 1 and one_day.end_utc - one_day.start_utc == pd.Timedelta(days=1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_period("2026-13"), "month 13 is not 1-12"),
        (lambda: parse_period("2026-Q5"), "quarter 5 is not 1-4"),
        (lambda: parse_period("2026-H3"), "half 3 is not 1 or 2"),
        (lambda: parse_period("November"), "'November' is not a month (2026-11)"),
        (lambda: parse_period("0999"), "year 999 is out of range"),
        (lambda: parse_period("2026-11", "Mars/Olympus"), "time zone 'Mars/Olympus' is unknown"),
        (lambda: period_between("2026-11-07", "2026-11-01"), "--to 2026-11-01 is before --from 2026-11-07"),
        (lambda: period_between("2026-11-31", "2026-12-01"), "--from '2026-11-31' is not a date"),
        (lambda: resolve_period("2026-11", "2026-11-01", "2026-11-02"), "not both"),
        (lambda: resolve_period(None, "2026-11-01", None), "go together"),
        (lambda: resolve_period(), "no period given"),
    ],
)
def test_errors_say_what_was_wrong(call: Callable[[], object], message: str) -> None:
    with pytest.raises(PeriodError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_resolve_period_takes_either_form() -> None:
    assert resolve_period("2026-Q4").label == "2026-Q4"
    assert resolve_period(None, "2026-11-01", "2026-11-30").days == 30


def test_dataset_timezone(mini_ds: Dataset, tmp_path: Path) -> None:
    # a Chinese dataset without a declaration works in China's civil time
    assert dataset_timezone(mini_ds) == "Asia/Shanghai"
    copy = tmp_path / "mini"
    shutil.copytree(mini_ds.path, copy)
    catalog = copy / "catalog.toml"
    catalog.write_text(
        catalog.read_text(encoding="utf-8").replace("[dataset]\n", '[dataset]\ntimezone = "Asia/Urumqi"\n', 1),
        encoding="utf-8",
    )
    assert dataset_timezone(load_dataset(copy)) == "Asia/Urumqi"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("Asia/Urumqi", "Asia/Nowhere"), encoding="utf-8")
    with pytest.raises(PeriodError, match=r"catalog.toml: \[dataset\] timezone: time zone 'Asia/Nowhere'"):
        dataset_timezone(load_dataset(copy))
