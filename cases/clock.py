"""Time for the case loop: the clock (injectable for tests), the office's zone, parsing times.

The store keeps UTC. The office works in local time: ``[dataset] timezone`` in catalog.toml,
else Asia/Shanghai (every Chinese city keeps Beijing time). Dates of attribution, periods of
assessment and times shown to people are local.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def dataset_timezone(dataset_path: Path | None) -> ZoneInfo:
    """The zone the office of this dataset works in."""
    name = DEFAULT_TIMEZONE
    if dataset_path is not None:
        try:
            data = tomllib.loads((Path(dataset_path) / "catalog.toml").read_text(encoding="utf-8"))
            declared = data.get("dataset", {}).get("timezone")
            if isinstance(declared, str) and declared.strip():
                name = declared.strip()
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
            pass
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


class TimeError(ValueError):
    """A time that cannot be read; the message says what was expected."""


def parse_time(text: str | dt.datetime, zone: dt.tzinfo, *, field: str = "time") -> dt.datetime:
    """An ISO 8601 time as UTC; a time without a zone is the office's local time.

    ``2026-11-03T09:15``, ``2026-11-03 09:15:00+08:00``, ``2026-11-03T01:15:00Z`` and a bare
    date (midnight local) are accepted.
    """
    if isinstance(text, dt.datetime):
        value = text
    else:
        raw = str(text).strip()
        if not raw or len(raw) > 40 or not raw.isascii():
            raise TimeError(f"{field}: expected an ISO 8601 time such as 2026-11-03T09:15+08:00, got {raw[:40]!r}")
        try:
            value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise TimeError(f"{field}: expected an ISO 8601 time such as 2026-11-03T09:15+08:00, got {raw!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def local_iso(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """A stored UTC time as the office reads it: ``2026-11-03T09:15:00+08:00``."""
    if value is None:
        return None
    return value.astimezone(zone).isoformat(timespec="seconds")
