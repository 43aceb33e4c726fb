"""The day a lookup answers for: the one strict reading of a date, and the answer rows kept per date.

Dates come from people and requests (``--date``, ``?date=``, a batch body). The
API documents ``YYYY-MM-DD``, so that is exactly what is accepted: four, two and
two ASCII digits. Python's ``date.fromisoformat`` also takes ``20260301``,
``2026-W10-1`` and full-width digits (``２０２６-０３-０１``); accepting what is not
documented makes two spellings of one day and surprises whoever reads the logs.
"""

from __future__ import annotations

import datetime as dt
import re

ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
