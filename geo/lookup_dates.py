"""The day a lookup answers for: the one strict reading of a date, and the answer rows kept per date.

:func:`lookup_index` gives the index of a Dataset on a date: the grid (built once
per Dataset, :mod:`geo.lookup_index`) and the answer rows of that date
(:mod:`geo.lookup_answers`), kept in a bounded cache per Dataset (:class:`DateCache`).

Dates come from people and requests (``--date``, ``?date=``, a batch body). The
API documents ``YYYY-MM-DD``, so that is exactly what is accepted: four, two and
two ASCII digits. Python's ``date.fromisoformat`` also takes ``20260301``,
``2026-W10-1`` and full-width digits (``２０２６-０３-０１``); accepting what is not
documented makes two spellings of one day and surprises whoever reads the logs.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo.index_cache import load_or_build
from geo.lookup_answers import AnswerIndex, build_answers
from geo.lookup_index import GeometryIndex, build_geometry_index

if TYPE_CHECKING:
    from geo.dataset import Dataset

ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Cells of the coarse grid a one-off lookup builds (the server's grid has up to 8 million).
ONE_OFF_MAX_CELLS = 10_000


def parse_day(text: str) -> dt.date:
    """``YYYY-MM-DD`` (ASCII digits, surrounding spaces ignored) as a date.

    Raises:
        ValueError: anything else, with a message naming the value and the form to use.
    """
    stripped = text.strip()
    if ISO_DAY.fullmatch(stripped):
        try:
            return dt.date.fromisoformat(stripped)
        except ValueError:
            pass
    raise ValueError(f"date {stripped[:40]!r} is not a date: use YYYY-MM-DD")


def as_date(ds: Dataset, date: Any) -> pd.Timestamp:
    """``date`` as a midnight Timestamp (None: the dataset's reference date, today)."""
    if date is None:
        return ds.reference_date
    if isinstance(date, pd.Timestamp | dt.date):
        return pd.Timestamp(date).normalize()
    return pd.Timestamp(parse_day(str(date)))


def geometry_index(ds: Dataset, *, one_off: bool = False, cache_dir: Path | None = None) -> GeometryIndex:
    """The grid index of a dataset (built once, cached on the Dataset).

    ``cache_dir``: a folder where the fine grid is kept on disk between processes
    (:mod:`geo.index_cache`); the first call on a Dataset reads it from there, or
    builds and writes it. Later calls, with or without it, get the same index.

    ``one_off``: a coarse grid (at most :data:`ONE_OFF_MAX_CELLS` cells) for a
    process that asks about a point or two (``respmap lookup``). It answers exactly
    as the fine grid does (a cell that is not wholly inside one set of zones is
    resolved by the exact test either way) but builds in a few hundredths of a
    second instead of about a second on the demo, and far more on detailed real
    boundaries; per point it tests more segments, which one point does not notice.
    """
    if one_off:
        return ds.cached("lookup_geometry_index_one_off", lambda: build_geometry_index(ds, max_cells=ONE_OFF_MAX_CELLS))
    if cache_dir is not None:
        return ds.cached("lookup_geometry_index", lambda: load_or_build(ds, cache_dir).index)
    return ds.cached("lookup_geometry_index", lambda: build_geometry_index(ds))


def lookup_index(ds: Dataset, date: Any = None, *, one_off: bool = False) -> AnswerIndex:
    """The lookup index of ``ds`` on ``date``: geometry (shared by all dates) plus answer rows.

    ``one_off``: on the coarse grid of :func:`geometry_index`, for a process that
    answers a point or two and would otherwise spend most of its time building.
    """
    if one_off:
        return ds.cached("lookup_dates_one_off", lambda: DateCache(ds, one_off=True)).get(date)
    last = _last_dates
    dates = last[1]() if last is not None and last[0]() is ds else None
    return (dates or _date_cache(ds)).get(date)


# The date cache of the dataset used last: a server asks for the same one on every request, and this
# skips the Dataset cache's lock. Both references are weak (the date cache belongs to the Dataset and
# holds it), so an old dataset is not kept alive by them after a reload.
_last_dates: tuple[weakref.ref[Dataset], weakref.ref[DateCache]] | None = None


def _date_cache(ds: Dataset) -> DateCache:
    global _last_dates
    dates: DateCache = ds.cached("lookup_dates", lambda: DateCache(ds))
    try:
        _last_dates = (weakref.ref(ds), weakref.ref(dates))
    except TypeError:  # not weakly referenceable: always ask the Dataset cache
        pass
    return dates


class DateCache:
    """Answer rows per date, the most recent ``MAX_DATES`` kept (dates come from requests).

    Looked up first by the date exactly as given (so the hot path does no parsing),
    then by the parsed day; building one costs tens of milliseconds for the demo.
    """

    MAX_DATES = 32

    def __init__(self, ds: Dataset, *, one_off: bool = False) -> None:
        self.one_off = one_off
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
            found = build_answers(ds, geometry_index(ds, one_off=self.one_off), when)
        with self.lock:
            for k in (when, key):
                self.by_key[k] = found
                self.by_key.move_to_end(k)
            while len(self.by_key) > 2 * self.MAX_DATES:
                _, evicted = self.by_key.popitem(last=False)
                if self.today is not None and self.today[1] is evicted:
                    self.today = None  # not kept alive beside the cache: today is looked up again
        return found
