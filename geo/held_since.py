"""Since when each unit has held a place: the start of its unbroken holding, through re-cuts.

An assignment row starts on its ``valid_from``; but a unit whose stretch was re-cut on
2027-01-01 (one row closed the day before, one opened on it) has held the street without a break
since its first row began. :func:`holders_since` answers, for a place on a date, every unit in
force with the day its unbroken holding began (``since``; None when it holds it since the data
begins) and the start of the row in force (``row_from``: the change that made the present row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.dataset import Dataset


@dataclass(frozen=True, slots=True)
class HeldSince:
    """One unit holding a place on a date, and since when."""

    unit_id: str
    role: str
    from_m: float | None
    to_m: float | None
    since: dt.date | None
    row_from: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["row_from"] = self.row_from.isoformat() if self.row_from else None
        return data


def _day(value: Any) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def holders_since(ds: Dataset, layer: str, feature_id: str, date: dt.date) -> list[HeldSince]:
    """Every assignment of the place in force on ``date``, with the start of its unit's unbroken holding.

    Rows of the same unit and role that follow one another without a gap (one ends the day before
    the next starts, or they overlap) count as one holding, whatever their stretches.
    """
    table = ds.assignments
    if table is None or table.empty:
        return []
    rows = table[(table["layer"] == layer) & (table["feature_id"] == feature_id)]
    result = []
    for record in rows.itertuples(index=False):
        start, end = _day(record.valid_from), _day(record.valid_until)
        if (start is not None and start > date) or (end is not None and end < date):
            continue
        same = rows[(rows["unit_id"] == record.unit_id) & (rows["role"] == record.role)]
        periods = sorted(
            ((_day(a), _day(b)) for a, b in zip(same["valid_from"], same["valid_until"], strict=True)),
            key=lambda p: p[0] or dt.date.min,
        )
        since = start
        # Walk back through periods that reach up to the day before the current beginning.
        changed = True
        while changed and since is not None:
            changed = False
            for a, b in periods:
                if (a is None or a < since) and (b is None or b >= since - dt.timedelta(days=1)):
                    since, changed = a, True
                    break
        result.append(
            HeldSince(
                unit_id=record.unit_id,
                role=record.role,
                from_m=None if np.isnan(record.from_m) else float(record.from_m),
                to_m=None if np.isnan(record.to_m) else float(record.to_m),
                since=since,
                row_from=start,
            )
        )
    return sorted(result, key=lambda h: (h.role != "lead", h.from_m or 0.0, h.unit_id))
