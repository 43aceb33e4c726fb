"""The case engine on both backends: attribution equal to lookup, every transition, overdue, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from cases import workflow
from cases.errors import CaseNotFoundError, ConflictError, ForbiddenError, InvalidCaseError
from cases.models import Event
from cases.service import CaseFilter
from geo.datums import from_wgs84, to_wgs84

M = "EPSG:4545"  # tests/data/mini is drawn in these metres
ON_S1_FIRST_STRETCH = (600200.0, 3618800.0)  # S1 0-400 m: U1 leads
ON_S1_SECOND_STRETCH = (600700.0, 3618800.0)  # S1 400-1000 m: U2 leads
IN_C1_ONLY = (600102.0, 3618102.0)  # compound C1: U1
UNHELD_C3 = (601550.0, 3618550.0)  # compound C3: nobody -> district D2's HQ
OUTSIDE = (605000.0, 3618500.0)  # east of every district


def _units(case: dict) -> list[tuple[str, str]]:
    return [(u["unit_id"], u["role"]) for u in case["units"]]


@pytest.mark.parametrize(
    ("point", "expected_units", "expected_feature", "fallback"),
    [
        # a street split into stretches: the stretch under the point decides
        (ON_S1_FIRST_STRETCH, [("U1", "lead")], "S1", False),
        (ON_S1_SECOND_STRETCH, [("U2", "lead")], "S1", False),
        # a compound held by one unit
        (IN_C1_ONLY, [("U1", "lead")], "C1", False),
        # a place nobody holds: the district's headquarters answers (属地兜底)
        (UNHELD_C3, [("HQ2", "fallback")], "C3", True),
    ],
)
def test_attribution_equals_lookup(service, people, mini_ds, point, expected_units, expected_feature, fallback):
    case = service.create(people.inspector, lon=point[0], lat=point[1], crs=M, category="exposed_garbage")
    assert _units(case) == expected_units
    assert case["feature"]["feature_id"] == expected_feature
    assert case["fallback"] is fallback
    assert case["state"] == "dispatched"
    answer = mini_ds.lookup(point[0], point[1], crs=M, date=dt.date(2026, 3, 2))
    holders = [u for m in answer.matches for u in m.units if u.role in ("lead", "shared")]
    if not fallback:
        assert [(u.unit_id, u.role) for u in holders][: len(expected_units)] == expected_units
    assert case["lon"] == pytest.approx(answer.lon_wgs84) and case["lat"] == pytest.approx(answer.lat_wgs84)
    assert case["dataset_hash"] == mini_ds.content_hash


def test_gcj02_input_is_converted_as_lookup_does(service, people):
    lon, lat = to_wgs84(*ON_S1_SECOND_STRETCH, M)
    gcj_lon, gcj_lat = from_wgs84(lon, lat, "gcj02")
    case = service.create(people.inspector, lon=gcj_lon, lat=gcj_lat, crs="gcj02", category="dirty_road")
    assert _units(case) == [("U2", "lead")]
    assert case["given"]["crs"] == "gcj02"
    assert case["lon"] == pytest.approx(lon, abs=1e-7)


def test_attribution_follows_the_date_of_the_report(service, people, clock):
    # S2 passed from U1 to U3 on 2026-01-01; a case seen (offline) in December stays with U1.
    point = (601500.0, 3618400.0)
    late = service.create(people.inspector, lon=point[0], lat=point[1], crs=M, category="dirty_road")
    early = service.create(
        people.inspector,
        lon=point[0],
        lat=point[1],
        crs=M,
        category="dirty_road",
        at=dt.datetime(2025, 12, 20, 2, 0, tzinfo=dt.UTC),
    )
    assert _units(late) == [("U3", "lead")]
    assert _units(early) == [("U1", "lead")]
    assert early["attribution_date"] == "2025-12-20"


def test_outside_every_district_is_refused_naming_the_nearest(service, people):
    with pytest.raises(InvalidCaseError) as refused:
        service.create(people.inspector, lon=OUTSIDE[0], lat=OUTSIDE[1], crs=M, category="exposed_garbage")
    assert "D2" in refused.value.message and "outside every district" in refused.value.message
    assert refused.value.details["nearest_district"]["district_id"] == "D2"
    forced = service.create(
        people.admin, lon=OUTSIDE[0], lat=OUTSIDE[1], crs=M, category="exposed_garbage", force_unit="U4"
    )
    assert _units(forced) == [("U4", "manual")] and forced["forced"] is True
    with pytest.raises(ForbiddenError):
        service.create(
            people.inspector, lon=OUTSIDE[0], lat=OUTSIDE[1], crs=M, category="exposed_garbage", force_unit="U4"
        )


def test_public_report_waits_for_the_office(service, people):
    from cases.users import PUBLIC

    case = service.create(PUBLIC, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="illegal_ads")
    assert case["state"] == "reported" and case["due_at"] is None
    # a unit does not see it until it is dispatched
    assert service.list(people.unit_u1, CaseFilter())[1] == 0
    dispatched = service.act(people.admin, case["case_id"], "dispatch")
    assert dispatched["state"] == "dispatched" and dispatched["due_at"] is not None
    assert service.list(people.unit_u1, CaseFilter())[1] == 1


def test_the_whole_loop_with_rework(service, people, clock):
    case = service.create(people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="exposed_garbage")
    cid = case["case_id"]
    clock.advance(minutes=30)
    assert service.act(people.unit_u1, cid, "rectify", note="cleared")["state"] == "rectified"
    clock.advance(minutes=10)
    sent = service.act(people.inspector, cid, "send_back", note="still dirty behind the wall")
    assert sent["state"] == "dispatched"
    assert sent["due_at"] == case["due_at"]  # rework keeps the deadline
    clock.advance(minutes=20)
    service.act(people.unit_u1, cid, "rectify", note="done properly")
    closed = service.act(people.inspector, cid, "close")
    assert closed["state"] == "closed"
    assert [e["action"] for e in closed["events"]] == ["report", "dispatch", "rectify", "send_back", "rectify", "close"]
    assert [e["seq"] for e in closed["events"]] == [1, 2, 3, 4, 5, 6]
    assert closed["events"][3]["note"] == "still dirty behind the wall"
    assert closed["version"] == 5


def test_postpone_dispute_reassign(service, people, clock):
    case = service.create(people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="exposed_garbage")
    cid = case["case_id"]
    with pytest.raises(InvalidCaseError):  # a postponement needs a new deadline
        service.act(people.admin, cid, "postpone", note="rain")
    later = clock.now + dt.timedelta(days=3)
    postponed = service.act(people.admin, cid, "postpone", note="rain", due_at=later)
    assert postponed["state"] == "postponed"
    disputed = service.act(people.unit_u1, cid, "dispute", note="this wall belongs to U2")
    assert disputed["state"] == "postponed"
    with pytest.raises(InvalidCaseError):
        service.act(people.admin, cid, "reassign", note="x", unit_id="NOPE")
    moved = service.act(people.admin, cid, "reassign", note="checked the plan", unit_id="U2")
    assert moved["state"] == "dispatched" and _units(moved) == [("U2", "manual")]
    assert [(h["unit_id"], h["until"] is None) for h in moved["units_history"]] == [("U1", False), ("U2", True)]
    # the old unit no longer sees it; the new one does
    with pytest.raises(CaseNotFoundError):
        service.get(people.unit_u1, cid)
    assert service.get(people.unit_u2, cid)["state"] == "dispatched"


ALL_STATES_PATHS = {
    # how to bring a fresh case into each state, as the office
    "reported": [],
    "dispatched": ["dispatch"],
    "rejected": ["reject"],
    "rectified": ["dispatch", "rectify"],
    "postponed": ["dispatch", "postpone"],
    "closed": ["dispatch", "rectify", "close"],
}


@pytest.mark.parametrize("state", workflow.STATES)
@pytest.mark.parametrize("action", workflow.ACTIONS)
def test_every_transition_and_every_refusal(service, people, clock, state, action):
    from cases.users import PUBLIC

    case = service.create(PUBLIC, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="exposed_garbage")
    cid = case["case_id"]
    for step in ALL_STATES_PATHS[state]:
        extra = {"due_at": clock.now + dt.timedelta(days=5)} if step == "postpone" else {}
        service.act(people.admin, cid, step, note="why", **extra)
    assert service.get(people.admin, cid)["state"] == state
    extra = {}
    if action == "postpone":
        extra["due_at"] = clock.now + dt.timedelta(days=9)
    if action == "reassign":
        extra["unit_id"] = "U2"
    if state in workflow.TRANSITIONS[action]:
        after = service.act(people.admin, cid, action, note="why", **extra)
        assert after["state"] == workflow.TRANSITIONS[action][state]
        assert after["events"][-1]["action"] == action
    else:
        with pytest.raises(ConflictError) as refused:
            service.act(people.admin, cid, action, note="why", **extra)
        assert refused.value.details["allowed"] == list(workflow.allowed_actions(state, "admin"))


def test_stale_version_is_refused(service, people):
    case = service.create(people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="exposed_garbage")
    service.act(people.unit_u1, case["case_id"], "rectify", note="a", expected_version=case["version"])
    with pytest.raises(ConflictError):
        service.act(people.unit_u1, case["case_id"], "comment", note="b", expected_version=case["version"])


def test_overdue_is_computed_at_the_clock(service, people, clock):
    case = service.create(people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="exposed_garbage")
    assert case["overdue"] is False  # exposed garbage: 2 hours
    clock.advance(hours=2, seconds=1)
    assert service.get(people.admin, case["case_id"])["overdue"] is True
    assert service.list(people.admin, CaseFilter(overdue=True))[1] == 1
    service.act(people.unit_u1, case["case_id"], "rectify", note="late but done")
    assert service.get(people.admin, case["case_id"])["overdue"] is False  # waiting for the check
    assert service.list(people.admin, CaseFilter(overdue=True))[1] == 0


def test_units_never_learn_who_reported(service, people):
    case = service.create(people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="exposed_garbage")
    seen = service.get(people.unit_u1, case["case_id"])
    assert "reporter_id" not in seen and seen["source"] is None
    assert all("by_user_id" not in e for e in seen["events"])
    assert service.get(people.admin, case["case_id"])["reporter_id"] == people.inspector.user_id


def test_idempotent_report(service, people):
    first = service.create(
        people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="dirty_road", idempotency_key="k-1"
    )
    again = service.create(
        people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="dirty_road", idempotency_key="k-1"
    )
    assert again["case_id"] == first["case_id"]
    assert service.list(people.admin, CaseFilter())[1] == 1
    with pytest.raises(ConflictError):  # somebody else's key
        service.create(
            people.other_inspector,
            lon=IN_C1_ONLY[0],
            lat=IN_C1_ONLY[1],
            crs=M,
            category="dirty_road",
            idempotency_key="k-1",
        )


def test_events_are_never_rewritten(service, people, store):
    case = service.create(people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="exposed_garbage")
    with store.reading() as session:
        before = [(e.seq, e.action, e.at, e.note) for e in session.execute(select(Event).order_by(Event.id)).scalars()]
    service.act(people.unit_u1, case["case_id"], "rectify", note="n")
    with store.reading() as session:
        after = [(e.seq, e.action, e.at, e.note) for e in session.execute(select(Event).order_by(Event.id)).scalars()]
        count = session.execute(select(func.count()).select_from(Event)).scalar_one()
    assert after[: len(before)] == before and count == len(before) + 1


def test_bad_inputs_are_clear(service, people):
    with pytest.raises(InvalidCaseError, match="unknown category"):
        service.create(people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="<script>")
    with pytest.raises(InvalidCaseError, match="needs a place"):
        service.create(people.inspector, lon=None, lat=None, category="dirty_road")
    with pytest.raises(InvalidCaseError, match="lat"):
        service.create(people.inspector, lon=109.0, lat=95.0, category="dirty_road")
    with pytest.raises(InvalidCaseError, match="future"):
        service.create(
            people.inspector,
            lon=IN_C1_ONLY[0],
            lat=IN_C1_ONLY[1],
            crs=M,
            category="dirty_road",
            at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        )
    case = service.create(people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="dirty_road")
    with pytest.raises(InvalidCaseError, match="needs a note"):
        service.act(people.unit_u1, case["case_id"], "dispute")
    with pytest.raises(InvalidCaseError, match="unknown action"):
        service.act(people.admin, case["case_id"], "delete")


def test_restart_keeps_everything(store_url, tmp_path, mini_ds, people, clock):
    from cases.categories import load_categories
    from cases.service import CaseService
    from cases.store import open_store, store_config

    first = open_store(config=store_config(url=store_url, data_dir=tmp_path / "data"))
    case = CaseService(first, mini_ds, load_categories(mini_ds.path), clock=clock).create(
        people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="dirty_road", note="持久"
    )
    first.dispose()
    second = open_store(config=store_config(url=store_url, data_dir=tmp_path / "data"))
    try:
        again = CaseService(second, mini_ds, load_categories(mini_ds.path), clock=clock).get(
            people.admin, case["case_id"]
        )
        assert again["note"] == "持久" and again["units"] == case["units"]
        assert [e["action"] for e in again["events"]] == ["report", "dispatch"]
    finally:
        second.dispose()


def test_list_is_most_urgent_first_and_pages_through_every_tier(service, people, clock):
    from cases.users import PUBLIC

    def report(category):
        return service.create(people.inspector, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category=category)[
            "case_id"
        ]

    finished_old = report("dirty_road")
    service.act(people.unit_u1, finished_old, "rectify", note="x")
    service.act(people.inspector, finished_old, "close")
    clock.advance(hours=1)
    finished_new = report("dirty_road")
    service.act(people.unit_u1, finished_new, "rectify", note="x")
    service.act(people.inspector, finished_new, "close")
    rejected = service.create(PUBLIC, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="illegal_ads")["case_id"]
    service.act(people.admin, rejected, "reject", note="not ours")
    late = report("exposed_garbage")  # 2 h
    slow = report("facility_damaged")  # 72 h
    waiting = service.create(PUBLIC, lon=IN_C1_ONLY[0], lat=IN_C1_ONLY[1], crs=M, category="illegal_ads")["case_id"]
    clock.advance(hours=3)  # `late` is now overdue
    expected = [late, slow, waiting, rejected, finished_new, finished_old]
    everything, total = service.list(people.admin, CaseFilter(limit=100))
    assert [c["case_id"] for c in everything] == expected and total == 6
    one_by_one = [service.list(people.admin, CaseFilter(limit=1, offset=i))[0][0]["case_id"] for i in range(6)]
    assert one_by_one == expected
    assert [c["case_id"] for c in service.list(people.admin, CaseFilter(limit=2, offset=3))[0]] == expected[3:5]
