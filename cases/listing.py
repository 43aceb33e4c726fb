"""Lists of cases, most urgent first, as a few index-range queries.

The order every list shows (the office's, a unit's, an inspector's):

1. overdue running cases, the oldest deadline first;
2. the other open cases by deadline (those without one last);
3. finished cases (closed, rejected), the newest report first.

Whether a case is overdue depends on the clock, so no stored column can carry that order. Each
tier is a query of its own, ordered the way an index already is, and a page reads only as many
rows as it shows. Counting a tier is only needed to skip it (``offset`` past its end).

A list about one unit (a unit's clerk, or the office filtering by unit) is read from
``case_units``, whose rows carry copies of their case's state, deadline and report time (see
:class:`cases.models.CaseUnit`): the unit's rows are one range of a partial index, however many
cases other units hold. Filters on what only ``cases`` has (district, category, bbox...) join it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from cases import workflow
from cases.models import Case, CaseUnit
from cases.unit_counts import unit_total

# A unit sees a case once the office dispatched it, and never one the office turned down. Said as
# the states it sees: an IN list is a few ranges of ix_case_units_unit_state, read without the rows.
HIDDEN_FROM_UNITS = ("reported", "rejected")
VISIBLE_TO_UNITS = tuple(state for state in workflow.STATES if state not in HIDDEN_FROM_UNITS)


@dataclass(frozen=True)
class Columns:
    """Where a list reads a case's key, state, deadline and report time: ``cases`` or the unit's copies."""

    pk: Any
    state: Any
    due_at: Any
    reported_at: Any
    open_flag: Any | None = None  # case_units.case_open: the index's second column

    def is_open(self, wanted: bool) -> Any:
        if self.open_flag is not None:  # an equality, so the planner keeps the index's order
            return self.open_flag == (true() if wanted else false())
        return self.state.in_(workflow.OPEN_STATES) if wanted else self.state.in_(workflow.FINAL_STATES)


CASE_COLUMNS = Columns(Case.id, Case.state, Case.due_at, Case.reported_at)
UNIT_COLUMNS = Columns(CaseUnit.case_pk, CaseUnit.case_state, CaseUnit.due_at, CaseUnit.reported_at, CaseUnit.case_open)


@dataclass(frozen=True)
class Tier:
    where: Any
    order: tuple[Any, ...]
    counted: bool = True  # the last tier is never skipped by counting


def late(columns: Columns, now: dt.datetime) -> Any:
    """Running (the unit's clock runs) and past its deadline."""
    return and_(columns.state.in_(workflow.RUNNING_STATES), columns.due_at < now)


def urgency_tiers(columns: Columns, now: dt.datetime) -> list[Tier]:
    """The three tiers (see the module's docstring) over ``columns``."""
    not_late = or_(columns.state.not_in(workflow.RUNNING_STATES), columns.due_at.is_(None), columns.due_at >= now)
    return [
        Tier(and_(columns.is_open(True), late(columns, now)), (columns.due_at.asc(), columns.pk.asc())),
        Tier(
            and_(columns.is_open(True), not_late),
            (columns.due_at.asc().nulls_last(), columns.reported_at.desc(), columns.pk.desc()),
        ),
        Tier(columns.is_open(False), (columns.reported_at.desc(), columns.pk.desc()), counted=False),
    ]


def held_by(unit_id: str) -> Any:
    """Cases ``unit_id`` holds now (a condition on ``cases``)."""
    # IN, not a correlated EXISTS: SQLite then reads the unit's case ids once from the covering
    # index ix_case_units_unit_state instead of probing it once per case.
    held = select(CaseUnit.case_pk).where(CaseUnit.unit_id == unit_id, CaseUnit.until.is_(None))
    return Case.id.in_(held)


@dataclass(frozen=True)
class ListQuery:
    """What to list: the cases of ``unit_id`` (from its copies) or all cases, with conditions on each table."""

    unit_id: str | None
    on_columns: Sequence[Any]  # conditions on the list's columns (``UNIT_COLUMNS`` or ``CASE_COLUMNS``)
    on_cases: Sequence[Any]  # conditions only ``cases`` can answer (joined when listing by unit)
    # When the list is exactly the unit's cases in these states, its total is read from the
    # stored counts (cases.unit_counts) instead of counting the rows.
    counted_states: tuple[str, ...] | None = None

    @property
    def columns(self) -> Columns:
        return UNIT_COLUMNS if self.unit_id is not None else CASE_COLUMNS

    def select(self, *what: Any) -> Any:
        if self.unit_id is None:
            return select(*what).where(*self.on_columns, *self.on_cases)
        query = select(*what).where(CaseUnit.unit_id == self.unit_id, CaseUnit.until.is_(None), *self.on_columns)
        if self.on_cases:
            query = query.join(Case, Case.id == CaseUnit.case_pk).where(*self.on_cases)
        return query


def case_page(session: Session, query: ListQuery, now: dt.datetime, limit: int, offset: int) -> tuple[list[int], int]:
    """The keys of the cases on one page, most urgent first, and how many cases the list has in all."""
    columns = query.columns
    if query.unit_id is not None and query.counted_states is not None:
        total = unit_total(session, query.unit_id, query.counted_states)
    else:
        total = session.execute(query.select(func.count(columns.pk))).scalar_one()
    keys: list[int] = []
    if offset >= total:
        return keys, total
    for tier in urgency_tiers(columns, now):
        if len(keys) >= limit:
            break
        if offset and tier.counted:
            in_tier = session.execute(query.select(func.count(columns.pk)).where(tier.where)).scalar_one()
            if offset >= in_tier:
                offset -= in_tier
                continue
        rows = session.execute(
            query.select(columns.pk).where(tier.where).order_by(*tier.order).limit(limit - len(keys)).offset(offset)
        ).scalars()
        keys.extend(rows)
        offset = 0
    return keys, total
