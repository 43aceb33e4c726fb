"""Cases, their units and events as pandas frames, for assessment and reports.

The frames follow the contract ``geo.assessment`` computes on (pure functions, no database):

* ``cases``: case_id, category, category_name, severity, source, reported_at (UTC), state,
  district_id, lon, lat, layer, feature_id, feature_name, fallback, due_at (UTC or NaT);
* ``case_units``: case_id, unit_id, role, since, until (NaT: still attributed);
* ``events``: case_id, seq, at, action, from_state, to_state, due_at, unit_id, by_role.

A period ``[start, end)`` takes the cases reported before ``end`` that were still open at
``start`` or were reported or changed within it: everything that can count in the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, or_, select

from cases import workflow
from cases.models import Case, CaseUnit, Event
from cases.store import Store

CASE_COLUMNS = (
    "case_id",
    "category",
    "category_name",
    "severity",
    "source",
    "reported_at",
    "state",
    "district_id",
    "lon",
    "lat",
    "layer",
    "feature_id",
    "feature_name",
    "fallback",
    "due_at",
)
UNIT_COLUMNS = ("case_id", "unit_id", "role", "since", "until")
EVENT_COLUMNS = ("case_id", "seq", "at", "action", "from_state", "to_state", "due_at", "unit_id", "by_role")
TIME_COLUMNS = {"reported_at", "due_at", "since", "until", "at"}


@dataclass(frozen=True)
class CaseFrames:
    cases: pd.DataFrame
    case_units: pd.DataFrame
    events: pd.DataFrame


def case_frames(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None) -> CaseFrames:
    """The cases that can count in ``[start, end)`` (UTC; None = unbounded), with units and events."""
    touched = select(Event.case_pk)
    if start is not None:
        touched = touched.where(Event.at >= start)
    if end is not None:
        touched = touched.where(Event.at < end)
    conditions = []
    if end is not None:
        conditions.append(Case.reported_at < end)
    if start is not None:
        conditions.append(or_(Case.state.in_(workflow.OPEN_STATES), Case.reported_at >= start, Case.id.in_(touched)))
    wanted = select(Case.id).where(and_(*conditions)) if conditions else select(Case.id)
    case_query = select(Case.id.label("pk"), *[getattr(Case, c).label(c) for c in CASE_COLUMNS]).where(
        Case.id.in_(wanted)
    )
    unit_query = (
        select(Case.case_id, *[getattr(CaseUnit, c) for c in UNIT_COLUMNS[1:]])
        .join(Case, Case.id == CaseUnit.case_pk)
        .where(CaseUnit.case_pk.in_(wanted))
    )
    event_query = (
        select(Case.case_id, *[getattr(Event, c) for c in EVENT_COLUMNS[1:]])
        .join(Case, Case.id == Event.case_pk)
        .where(Event.case_pk.in_(wanted))
        .order_by(Event.case_pk, Event.seq)
    )
    with store.reading() as session:
        cases = _frame(session.execute(case_query).all(), ("pk", *CASE_COLUMNS)).drop(columns="pk")
        units = _frame(session.execute(unit_query).all(), UNIT_COLUMNS)
        events = _frame(session.execute(event_query).all(), EVENT_COLUMNS)
    return CaseFrames(cases, units, events)


def _frame(rows: list, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(columns))
    for column in TIME_COLUMNS.intersection(columns):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    if "fallback" in frame:
        frame["fallback"] = frame["fallback"].astype(bool)
    return frame
