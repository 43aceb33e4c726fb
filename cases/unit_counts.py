"""How many cases each unit holds now, by state: kept with every write, read for a unit's list total.

A unit's clerk opens a list of 100 cases out of the 100,000 the unit held in a year; counting
those rows on every page cost more than the page itself (7 ms on SQLite, 18 ms on PostgreSQL,
which reads the whole table for it). :class:`cases.models.UnitCaseCount` holds the counts
instead, changed by :func:`adjust` in the same transaction as the case, so they are exactly
the count of ``case_units`` rows held now at every commit (tested against :func:`recount`).

Counter rows are updated in a fixed order (unit, state) so that two transactions touching the
same units cannot deadlock on PostgreSQL.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cases.models import CaseUnit, UnitCaseCount

Holding = tuple[str, str]  # (unit_id, case_state)


def change(before: Iterable[Holding], after: Iterable[Holding]) -> dict[Holding, int]:
    """What a write does to the counts: the (unit, state) pairs held after it minus those before."""
    delta = Counter(after)
    delta.subtract(Counter(before))
    return {key: n for key, n in delta.items() if n}


def adjust(session: Session, delta: dict[Holding, int]) -> None:
    """Add ``delta`` to the counts (one upsert per pair, in a fixed order), inside the caller's transaction."""
    if not delta:
        return
    connection = session.connection()  # the session's transaction, without the ORM's per-statement work
    rows = [{"unit_id": unit, "case_state": state, "cases": n} for (unit, state), n in sorted(delta.items())]
    connection.execute(_upsert(connection.dialect.name), rows)


@functools.cache
def _upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE adding to the count; built once per dialect (then cached compiled)."""
    make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = make_insert(UnitCaseCount)
    return statement.on_conflict_do_update(
        index_elements=[UnitCaseCount.unit_id, UnitCaseCount.case_state],
        set_={"cases": UnitCaseCount.cases + statement.excluded.cases},
    )


def unit_total(session: Session, unit_id: str, states: Iterable[str]) -> int:
    """Cases ``unit_id`` holds now in ``states``."""
    query = select(func.coalesce(func.sum(UnitCaseCount.cases), 0)).where(
        UnitCaseCount.unit_id == unit_id, UnitCaseCount.case_state.in_(list(states))
    )
    return int(session.execute(query).scalar_one())


def counted_rows(connection: Connection | Session) -> dict[Holding, int]:
    """The counts as they should be: ``case_units`` rows held now, by unit and state."""
    query = (
        select(CaseUnit.unit_id, CaseUnit.case_state, func.count())
        .where(CaseUnit.until.is_(None))
        .group_by(CaseUnit.unit_id, CaseUnit.case_state)
    )
    return {(unit, state): n for unit, state, n in connection.execute(query)}


def stored_counts(connection: Connection | Session) -> dict[Holding, int]:
    rows = connection.execute(select(UnitCaseCount.unit_id, UnitCaseCount.case_state, UnitCaseCount.cases))
    return {(unit, state): n for unit, state, n in rows if n}


def recount(connection: Connection) -> None:
    """Set every count from ``case_units`` (after rows were written around the service, e.g. a bulk load)."""
    connection.execute(delete(UnitCaseCount))
    rows = [{"unit_id": u, "case_state": s, "cases": n} for (u, s), n in counted_rows(connection).items()]
    if rows:
        connection.execute(insert(UnitCaseCount), rows)
