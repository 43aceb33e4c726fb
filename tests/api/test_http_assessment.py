"""``GET /assessment`` and ``GET /assessment/map``: admin only, the same figures as ``respmap assess --json``."""

# ruff: noqa: F811 - the filled_store fixture is imported, then used by name
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.assessment_source import assess_period, period_of
from api.settings import Settings
from geo import Dataset
from tests.api.assessment_store import FilledStore, filled_store  # noqa: F401 - the fixture


@pytest.fixture
def client(filled_store: FilledStore, mini_ds: Dataset) -> Iterator[TestClient]:
    app = create_app(Settings(dataset=mini_ds.path), dataset=mini_ds, store=filled_store.store)
    with TestClient(app) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_gets_the_assessment_the_cli_prints(
    client: TestClient,
    filled_store: FilledStore,
    mini_ds: Dataset,
) -> None:
    answer = client.get("/assessment", params={"period": "2026-11"}, headers=bearer(filled_store.admin_token))
    assert answer.status_code == 200
    expected = assess_period(filled_store.store, mini_ds, period_of(mini_ds, "2026-11", None, None)).to_dict()
    assert answer.json() == json.loads(json.dumps(expected))
    u1 = next(u for u in answer.json()["units"] if u["id"] == "U1")
    assert u1["cases"]["overdue_open"] == [filled_store.ids["C"]]


@pytest.mark.parametrize(
    ("who", "status"),
    [("nobody", 401), ("unit", 403), ("wrong", 401)],  # no token, a unit's token, a token that is not one
)
def test_only_the_office_may_see_it(client: TestClient, filled_store: FilledStore, who: str, status: int) -> None:
    headers = {
        "nobody": {},
        "unit": bearer(filled_store.unit_token),
        "wrong": bearer("rm_not-a-token"),
    }[who]
    answer = client.get("/assessment", params={"period": "2026-11"}, headers=headers)
    assert answer.status_code == status and answer.json()["error"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "2026-13"}, "month 13 is not 1-12"),
        ({"from": "2026-11-05"}, "--from and --to go together"),
        ({}, "no period given"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "is before"),
    ],
)
def test_bad_periods_are_400_with_the_reason(
    client: TestClient,
    filled_store: FilledStore,
    params: dict,
    message: str,
) -> None:
    answer = client.get("/assessment", params=params, headers=bearer(filled_store.admin_token))
    assert answer.status_code == 400 and message in answer.json()["message"]


def test_trend_and_no_case_lists(client: TestClient, filled_store: FilledStore) -> None:
    answer = client.get(
        "/assessment",
        params={"period": "2026-11", "cases": "false", "trend": 2},
        headers=bearer(filled_store.admin_token),
    )
    data = answer.json()
    assert [t["period"]["label"] for t in data["trend"]] == ["2026-09", "2026-10", "2026-11"]
    assert [t["city"]["attributed"] for t in data["trend"]] == [0, 0, 4]
    assert "cases" not in data["units"][0]


def test_map_data(client: TestClient, filled_store: FilledStore) -> None:
    answer = client.get("/assessment/map", params={"period": "2026-11"}, headers=bearer(filled_store.admin_token))
    data = answer.json()
    cases = {f["properties"]["case_id"]: f for f in data["cases"]["features"]}
    assert set(cases) == set(filled_store.ids.values())
    assert cases[filled_store.ids["C"]]["properties"]["overdue_open"] is True
    assert cases[filled_store.ids["A"]]["properties"]["state"] == "closed"
    assert {f["properties"]["id"] for f in data["districts"]["features"]} == {"D1", "D2"}
    assert client.get("/assessment/map", params={"period": "2026-11"}).status_code == 401
