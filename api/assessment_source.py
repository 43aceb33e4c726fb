"""From the case store to an assessment: the frames of a period, the assessment, the photos.

Shared by ``respmap assess``, ``respmap bulletin``, ``GET /assessment`` and
``/dashboard`` so that all of them assess exactly the same cases the same way.
The work itself is in :mod:`geo.assessment` (pure); this module only reads the
store (:func:`cases.frames.case_frames`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select

from geo.assessment import Assessment, CaseFrames, assess, held_ground
from geo.assessment_rules import rules_for
from geo.periods import Period, dataset_timezone, resolve_period

if TYPE_CHECKING:
    from cases.store import Store
    from geo import Dataset

# Cases last touched this long before a period can still be due in it (a deadline set at
# dispatch falls inside the period); longer than any category's deadline.
LOOKBACK = dt.timedelta(days=60)
# How many periods before the chosen one the dashboard's trend shows.
TREND_PERIODS = 5


def period_of(ds: Dataset, period: str | None, first: str | None, last: str | None) -> Period:
    """The period asked for, in the dataset's office time zone (raises :class:`geo.periods.PeriodError`)."""
    return resolve_period(period, first, last, dataset_timezone(ds))


def period_frames(store: Store, period: Period) -> CaseFrames:
    """Every case that can count in ``period`` (see :data:`LOOKBACK`), with its units and events.

    No upper bound is passed to ``case_frames``: a case open at the end of a past period but closed
    since is "still open" only in its later events, which an upper bound would cut away. The
    assessment itself ignores whatever happened after the period's end.
    """
    from cases.frames import case_frames

    start = (period.start_utc - LOOKBACK).to_pydatetime()
    found = case_frames(store, start, None)
    return CaseFrames(cases=found.cases, case_units=found.case_units, events=found.events)


def assess_period(store: Store, ds: Dataset, period: Period) -> Assessment:
    """The assessment of ``period`` from the store, with the dataset's held ground and rules."""
    return assess(period_frames(store, period), period, held_ground(ds, period), rules_for(ds))


def trend(store: Store, ds: Dataset, period: Period, count: int = TREND_PERIODS) -> list[Assessment]:
    """The assessments of the ``count`` periods before ``period`` and of ``period`` itself, oldest first."""
    return [assess_period(store, ds, p) for p in [*period.previous(count), period]]


def case_photos(store: Store, case_ids: Sequence[str]) -> dict[str, list[Path]]:
    """The photo files of these cases, oldest first (a JPEG or PNG original, else its JPEG thumbnail)."""
    from cases.models import Case, Photo
    from cases.photos import photo_path

    wanted = [str(c) for c in case_ids]
    if not wanted:
        return {}
    query = (
        select(Case.case_id, Photo.sha256, Photo.media_type)
        .join(Photo, Photo.case_pk == Case.id)
        .where(Case.case_id.in_(wanted))
        .order_by(Photo.id)
    )
    found: dict[str, list[Path]] = {}
    with store.reading() as session:
        for case_id, sha256, media_type in session.execute(query).all():
            extension = {"image/jpeg": "jpg", "image/png": "png"}.get(media_type)
            if extension is not None:
                path = photo_path(store.data_dir, sha256, extension)
            else:  # WebP and others: Word and the PDF take the JPEG thumbnail
                path = photo_path(store.data_dir, sha256, "jpg", thumb=True)
            found.setdefault(str(case_id), []).append(path)
    return found


def cases_geojson(assessment: Assessment) -> dict[str, Any]:
    """The period's cases (and the overdue ones still open) as points with their state at the end."""
    table = assessment.case_table
    features = []
    for row in table.to_dict("records"):
        lon, lat = row.get("lon"), row.get("lat")
        geometry = (
            {"type": "Point", "coordinates": [float(lon), float(lat)]}
            if lon is not None and lat is not None and pd.notna(lon) and pd.notna(lat)
            else None
        )
        properties = {
            k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in row.items() if k not in ("lon", "lat")
        }
        properties["overdue_open"] = bool(properties.get("overdue_open"))
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}
