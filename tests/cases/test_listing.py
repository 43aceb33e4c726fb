"""A unit's list (read from the case state copied onto case_units, the total from the stored counts) against an order worked out here.

Random histories of reports and actions (rectify, close, send back, postpone, reassign, dispute,
reject) at a moving clock; then every list (a unit's own, the office's by unit, with filters,
page by page) must equal the cases the reader may see, sorted by the documented rule from each
case's full record. The copies on ``case_units`` must equal their case after every step.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import delete, select

from cases import unit_counts, workflow
from cases.errors import CaseNotFoundError, ConflictError, ForbiddenError, InvalidCaseError
from cases.models import Case, CaseUnit, UnitCaseCount
from cases.service import CaseFilter
from cases.users import PUBLIC

M = "EPSG:4545"
ON_S1_FIRST_STRETCH = (600200.0, 3618800.0)  # U1
ON_S1_SECOND_STRETCH = (600700.0, 3618800.0)  # U2
IN_C1_ONLY = (600102.0, 3618102.0)  # U1
POINTS = (ON_S1_FIRST_STRETCH, ON_S1_SECOND_STRETCH, IN_C1_ONLY)
CATEGORIES = ("exposed_garbage", "dirty_road", "facility_damaged", "illegal_ads")


def _history(service, people, clock, seed: int, cases: int = 40) -> None:
    rng = random.Random(seed)
    ids: list[str] = []
    for _ in range(cases):
        point = rng.choice(POINTS)
        reporter = PUBLIC if rng.random() < 0.15 else people.inspector
        case = service.create(reporter, lon=point[0], lat=point[1], crs=M, category=rng.choice(CATEGORIES))
        ids.append(case["case_id"])
        clock.advance(minutes=rng.randint(5, 300))
        for _ in range(rng.randint(0, 3)):
            case_id = rng.choice(ids)
            action, actor, extra = rng.choice(
                [
                    ("rectify", people.admin, {"note": "done"}),
                    ("close", people.inspector, {}),
                    ("send_back", people.inspector, {"note": "not clean"}),
                    ("postpone", people.admin, {"due_at": clock() + dt.timedelta(days=rng.randint(1, 5))}),
                    ("reassign", people.admin, {"unit_id": rng.choice(["U1", "U2"]), "note": "theirs"}),
                    ("dispute", people.admin, {"note": "not ours"}),
                    ("dispatch", people.admin, {}),
                    ("reject", people.admin, {"note": "no"}),
                ]
            )
            try:
                service.act(actor, case_id, action, **extra)
            except (CaseNotFoundError, ConflictError, ForbiddenError, InvalidCaseError):
                pass  # not allowed in that state, or a public report the inspector cannot see: go on
            clock.advance(minutes=rng.randint(1, 200))


def _expected(service, people, reader, unit: str, now: dt.datetime, keep=lambda case: True) -> list[str]:
    everything, _ = service.list(people.admin, CaseFilter(limit=1000))
    full = [service.get(people.admin, c["case_id"]) for c in everything]
    held = [c for c in full if unit in {u["unit_id"] for u in c["units"]} and keep(c)]
    if reader.role == "unit":
        held = [c for c in held if c["state"] not in ("reported", "rejected")]

    def key(case: dict) -> tuple:
        due = dt.datetime.fromisoformat(case["due_at"]) if case["due_at"] else None
        reported = dt.datetime.fromisoformat(case["reported_at"]).timestamp()
        pk = int(case["case_id"].split("-")[1])
        if case["state"] in workflow.RUNNING_STATES and due is not None and due < now:
            return (0, due.timestamp(), pk)
        if case["state"] in workflow.OPEN_STATES:
            return (1, due.timestamp() if due else float("inf"), -reported, -pk)
        return (2, -reported, -pk)

    return [c["case_id"] for c in sorted(held, key=key)]


@pytest.mark.parametrize("seed", [1, 2])
def test_unit_lists_follow_the_documented_order_page_by_page(service, people, clock, seed):
    _history(service, people, clock, seed)
    now = clock()
    for reader, unit in ((people.unit_u1, "U1"), (people.unit_u2, "U2"), (people.admin, "U1"), (people.admin, "U2")):
        expected = _expected(service, people, reader, unit, now)
        assert expected, "the history gives every unit some cases"
        listed, total = service.list(reader, CaseFilter(unit_id=unit, limit=1000))
        assert [c["case_id"] for c in listed] == expected and total == len(expected)
        for size in (1, 3, 7):
            pages = [
                c["case_id"]
                for offset in range(0, len(expected) + size, size)
                for c in service.list(reader, CaseFilter(unit_id=unit, limit=size, offset=offset))[0]
            ]
            assert pages == expected, (reader.role, unit, size)


def test_unit_lists_with_filters_equal_the_filtered_order(service, people, clock):
    _history(service, people, clock, seed=3, cases=50)
    now = clock()
    start = now - dt.timedelta(hours=30)
    checks = [
        (CaseFilter(state=("dispatched", "postponed")), lambda c: c["state"] in ("dispatched", "postponed")),
        (CaseFilter(overdue=True), lambda c: c["overdue"]),
        (CaseFilter(overdue=False), lambda c: not c["overdue"]),
        (CaseFilter(start=start), lambda c: dt.datetime.fromisoformat(c["reported_at"]) >= start),
        (CaseFilter(category="dirty_road"), lambda c: c["category"] == "dirty_road"),
        (CaseFilter(source="public"), lambda c: c["source"] == "public"),  # judged on the office's view
    ]
    for filters, keep in checks:
        for reader in (people.unit_u1, people.admin):
            if filters.source and reader.role == "unit":
                continue
            expected = _expected(service, people, reader, "U1", now, keep)
            listed, total = service.list(reader, CaseFilter(**{**filters.__dict__, "unit_id": "U1", "limit": 1000}))
            assert [c["case_id"] for c in listed] == expected and total == len(expected), (filters, reader.role)


def test_the_copies_on_case_units_equal_their_case_after_every_step(service, people, clock, store):
    _history(service, people, clock, seed=4)
    with store.reading() as session:
        rows = session.execute(select(CaseUnit, Case).join(Case, Case.id == CaseUnit.case_pk)).all()
    assert rows
    for unit_row, case in rows:
        assert unit_row.case_state == case.state
        assert unit_row.case_open == (case.state in workflow.OPEN_STATES)
        assert unit_row.due_at == case.due_at
        assert unit_row.reported_at == case.reported_at
    with store.reading() as session:
        assert unit_counts.stored_counts(session) == unit_counts.counted_rows(session)


def test_stored_counts_survive_a_recount_and_give_the_same_totals(service, people, clock, store):
    _history(service, people, clock, seed=6, cases=25)
    before = [
        service.list(people.unit_u1, CaseFilter(limit=1))[1],
        service.list(people.admin, CaseFilter(unit_id="U2", limit=1))[1],
    ]
    with store.engine.begin() as connection:
        connection.execute(delete(UnitCaseCount))
    emptied = service.list(people.unit_u1, CaseFilter(limit=1))[1]
    assert emptied == 0  # the total really is read from the stored counts
    with store.engine.begin() as connection:
        unit_counts.recount(connection)
    after = [
        service.list(people.unit_u1, CaseFilter(limit=1))[1],
        service.list(people.admin, CaseFilter(unit_id="U2", limit=1))[1],
    ]
    assert after == before and min(before) > 0


def test_a_unit_never_lists_another_units_cases_even_when_it_asks(service, people, clock):
    _history(service, people, clock, seed=5, cases=20)
    mine, _ = service.list(people.unit_u1, CaseFilter(limit=1000))
    asked, total = service.list(people.unit_u1, CaseFilter(unit_id="U2", limit=1000))
    u1 = {c["case_id"] for c in mine}
    assert {c["case_id"] for c in asked} <= u1 and total == len(asked)
    for case in asked:  # only cases both hold (none here: no place is shared) could appear
        assert {"U1", "U2"} <= {u["unit_id"] for u in case["units"]}
