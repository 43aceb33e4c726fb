"""Assessment periods: a month, a quarter, a half-year, a year, or any run of dates, in local time.

The office assesses by calendar: November, the fourth quarter, the second
half-year, the year (月度, 季度, 半年, 年度考核), and during a campaign any
stretch of days (``--from 2026-11-01 --to 2026-11-07``). Cases are stored in
UTC, but a period is a *local* calendar period: November in Ankang starts at
2026-11-01 00:00 Asia/Shanghai, which is 2026-10-31 16:00 UTC. A case reported
at 23:30 local on 30 November belongs to November, not to December.

Accepted texts (:func:`parse_period`):

=============  =====================  ============================
text           kind                   covers (local dates)
=============  =====================  ============================
``2026-11``    month                  2026-11-01 .. 2026-11-30
``2026-Q4``    quarter                2026-10-01 .. 2026-12-31
``2026-H2``    half                   2026-07-01 .. 2026-12-31
``2026``       year                   2026-01-01 .. 2026-12-31
=============  =====================  ============================

and :func:`period_between` for ``--from D --to D`` (both dates included).
:meth:`Period.previous` gives the periods before, of the same kind, for trends
(the three months before November; for a run of days, runs of the same length).

The time zone: a dataset may declare ``[dataset] timezone = "Asia/Urumqi"``;
otherwise it works in Asia/Shanghai (China has one civil time), the same rule
the case store uses for the times it shows (:func:`dataset_timezone`).

Example:
    >>> p = parse_period("2026-Q4", "Asia/Shanghai")
    >>> p.start_utc, p.end_utc, p.label_zh
    (Timestamp('2026-09-30 16:00:00+0000', tz='UTC'), Timestamp('2026-12-31 16:00:00+0000', tz='UTC'), '2026年第四季度')
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

if TYPE_CHECKING:
    from geo.dataset import Dataset

PeriodKind = Literal["month", "quarter", "half", "year", "range"]
CHINA_TIMEZONE = "Asia/Shanghai"
PERIOD_FORMS = "a month (2026-11), a quarter (2026-Q4), a half-year (2026-H2) or a year (2026)"
# Longer runs than this are certainly a typo (a year 20260 ...), and would make trend charts absurd.
MAX_RANGE_DAYS = 366 * 10

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q(\d)$", re.IGNORECASE)
_HALF = re.compile(r"^(\d{4})-?H(\d)$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER_ZH = ("第一季度", "第二季度", "第三季度", "第四季度")


class PeriodError(ValueError):
    """A period or date that cannot be read; the message says what was given and what is accepted."""


@dataclass(frozen=True, slots=True)
class Period:
    """A local calendar period ``[first_day, last_day]`` (both included) in ``timezone``.

    Attributes:
        kind: month | quarter | half | year | range.
        first_day: the first local date of the period.
        last_day: the last local date of the period (included).
        timezone: an IANA time zone name (``Asia/Shanghai``).
    """

    kind: PeriodKind
    first_day: dt.date
    last_day: dt.date
    timezone: str = CHINA_TIMEZONE

    @property
    def label(self) -> str:
        """The text that names the period on the command line: ``2026-11``, ``2026-Q4``, ``2026-11-01..2026-11-07``."""
        year = self.first_day.year
        if self.kind == "month":
            return f"{year}-{self.first_day.month:02d}"
        if self.kind == "quarter":
            return f"{year}-Q{(self.first_day.month - 1) // 3 + 1}"
        if self.kind == "half":
            return f"{year}-H{(self.first_day.month - 1) // 6 + 1}"
        if self.kind == "year":
            return str(year)
        return f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"

    @property
    def label_zh(self) -> str:
        """The period as a Chinese document names it: ``2026年11月``, ``2026年第四季度``, ``2026年下半年``."""
        first, last = self.first_day, self.last_day
        if self.kind == "month":
            return f"{first.year}年{first.month}月"
        if self.kind == "quarter":
            return f"{first.year}年{_QUARTER_ZH[(first.month - 1) // 3]}"
        if self.kind == "half":
            return f"{first.year}年{'上' if first.month == 1 else '下'}半年"
        if self.kind == "year":
            return f"{first.year}年"
        return f"{first.year}年{first.month}月{first.day}日至{last.year}年{last.month}月{last.day}日"

    @property
    def days(self) -> int:
        """Number of local days in the period."""
        return (self.last_day - self.first_day).days + 1

    @property
    def start_utc(self) -> pd.Timestamp:
        """The period's first instant (local midnight of ``first_day``) in UTC."""
        return _local_midnight_utc(self.first_day, self.timezone)

    @property
    def end_utc(self) -> pd.Timestamp:
        """The instant just after the period (local midnight after ``last_day``) in UTC: the period is ``[start, end)``."""
        return _local_midnight_utc(self.last_day + dt.timedelta(days=1), self.timezone)

    def previous(self, count: int) -> list[Period]:
        """The ``count`` periods before this one, oldest first, of the same kind (same length for a range)."""
        periods: list[Period] = []
        current = self
        for _ in range(max(0, count)):
            current = current._before()
            periods.append(current)
        return periods[::-1]

    def _before(self) -> Period:
        if self.kind == "range":
            last = self.first_day - dt.timedelta(days=1)
            return Period("range", last - dt.timedelta(days=self.days - 1), last, self.timezone)
        months = {"month": 1, "quarter": 3, "half": 6, "year": 12}[self.kind]
        first = _add_months(self.first_day, -months)
        return Period(self.kind, first, self.first_day - dt.timedelta(days=1), self.timezone)

    def contains_day(self, day: dt.date) -> bool:
        """True when the local ``day`` is inside the period."""
        return self.first_day <= day <= self.last_day

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the period (instants as ISO 8601 UTC)."""
        return {
            "label": self.label,
            "label_zh": self.label_zh,
            "kind": self.kind,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "days": self.days,
            "timezone": self.timezone,
            "start_utc": self.start_utc.isoformat(),
            "end_utc": self.end_utc.isoformat(),
        }


def _local_midnight_utc(day: dt.date, timezone: str) -> pd.Timestamp:
    return pd.Timestamp(day.year, day.month, day.day).tz_localize(timezone).tz_convert("UTC")


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def check_timezone(timezone: str) -> str:
    """``timezone`` if it is a known IANA zone, else :class:`PeriodError`."""
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise PeriodError(
            f"time zone {str(timezone)[:60]!r} is unknown (use an IANA name such as Asia/Shanghai)"
        ) from exc
    return str(timezone)


def parse_period(text: str, timezone: str = CHINA_TIMEZONE) -> Period:
    """Read ``2026-11``, ``2026-Q4``, ``2026-H2`` or ``2026`` as a local calendar period.

    Raises:
        PeriodError: the text is none of these forms, or names a month 13, a quarter 5...
    """
    timezone = check_timezone(timezone)
    given = str(text).strip()
    shown = given[:40]
    if match := _MONTH.match(given):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"period {shown!r}: month {month} is not 1-12; use {PERIOD_FORMS}")
        first = dt.date(_year(year, shown), month, 1)
        return Period("month", first, _add_months(first, 1) - dt.timedelta(days=1), timezone)
    if match := _QUARTER.match(given):
        year, quarter = int(match.group(1)), int(match.group(2))
        if not 1 <= quarter <= 4:
            raise PeriodError(f"period {shown!r}: quarter {quarter} is not 1-4; use {PERIOD_FORMS}")
        first = dt.date(_year(year, shown), 3 * (quarter - 1) + 1, 1)
        return Period("quarter", first, _add_months(first, 3) - dt.timedelta(days=1), timezone)
    if match := _HALF.match(given):
        year, half = int(match.group(1)), int(match.group(2))
        if half not in (1, 2):
            raise PeriodError(f"period {shown!r}: half {half} is not 1 or 2; use {PERIOD_FORMS}")
        first = dt.date(_year(year, shown), 6 * (half - 1) + 1, 1)
        return Period("half", first, _add_months(first, 6) - dt.timedelta(days=1), timezone)
    if match := _YEAR.match(given):
        year = _year(int(match.group(1)), shown)
        return Period("year", dt.date(year, 1, 1), dt.date(year, 12, 31), timezone)
    raise PeriodError(f"period {shown!r} is not {PERIOD_FORMS}; or give --from and --to dates")


def _year(year: int, shown: str) -> int:
    if not 1900 <= year <= 2999:
        raise PeriodError(f"period {shown!r}: year {year} is out of range 1900-2999")
    return year


def parse_day(text: str | dt.date, what: str = "date") -> dt.date:
    """A local calendar date from ``YYYY-MM-DD`` (or a date); :class:`PeriodError` names ``what`` otherwise."""
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    shown = str(text).strip()[:40]
    try:
        return dt.date.fromisoformat(shown)
    except ValueError as exc:
        raise PeriodError(f"{what} {shown!r} is not a date (use YYYY-MM-DD, e.g. 2026-11-01)") from exc


def period_between(first: str | dt.date, last: str | dt.date, timezone: str = CHINA_TIMEZONE) -> Period:
    """The local dates ``first`` to ``last``, both included (``--from 2026-11-01 --to 2026-11-07``).

    Raises:
        PeriodError: a date that cannot be read, ``last`` before ``first``, or a run longer than ten years.
    """
    timezone = check_timezone(timezone)
    first_day = parse_day(first, "--from")
    last_day = parse_day(last, "--to")
    if last_day < first_day:
        raise PeriodError(f"--to {last_day.isoformat()} is before --from {first_day.isoformat()}")
    if (last_day - first_day).days >= MAX_RANGE_DAYS:
        raise PeriodError(f"--from {first_day.isoformat()} --to {last_day.isoformat()} spans more than ten years")
    return Period("range", first_day, last_day, timezone)


def resolve_period(
    period: str | None = None,
    first: str | dt.date | None = None,
    last: str | dt.date | None = None,
    timezone: str = CHINA_TIMEZONE,
) -> Period:
    """One period from the command-line / query options: ``period`` or both ``first`` and ``last``."""
    if period and (first or last):
        raise PeriodError("give either a period (2026-11) or --from and --to, not both")
    if period:
        return parse_period(period, timezone)
    if first and last:
        return period_between(first, last, timezone)
    if first or last:
        raise PeriodError("--from and --to go together: give both dates")
    raise PeriodError(f"no period given: {PERIOD_FORMS}, or --from and --to dates")


def dataset_timezone(ds: Dataset | None) -> str:
    """The office's time zone: ``[dataset] timezone`` if declared, else Asia/Shanghai (as ``cases.clock``).

    Read from ``catalog.toml`` directly (the typed catalog does not carry it).

    Raises:
        PeriodError: the catalog declares a time zone that does not exist.
    """
    if ds is None:
        return CHINA_TIMEZONE
    declared = _declared_timezone(ds.path)
    if declared:
        try:
            return check_timezone(declared)
        except PeriodError as exc:
            raise PeriodError(f"{Path(ds.path) / 'catalog.toml'}: [dataset] timezone: {exc}") from exc
    return CHINA_TIMEZONE


def _declared_timezone(root: Path | str) -> str | None:
    path = Path(root) / "catalog.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # the loader has already reported an unreadable catalog
    dataset = raw.get("dataset")
    value = dataset.get("timezone") if isinstance(dataset, dict) else None
    return str(value).strip() or None if value is not None else None
