"""``GET /lookup?held_since=true``: since when each unit has held the place, and the change that decided it.

On a copy of the mini dataset a planner gives U2's stretch of S1 (400-1000 m) to U4 from 2027-01-01
through ``POST /assignments/changes``. The lookup 450 m along S1 then says: on 2027-03-01 U4 holds it
since 2027-01-01 by that change, U3 supervises since the data begins (no change); on 2026-06-01 U2
holds it since the data begins. Without the parameter the answer is the plain lookup, byte for byte.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from cases.users import add_user

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
ON_S1_AT_450_M = {"lon": 600450.0, "lat": 3618800.0, "crs": "EPSG:4545"}


@pytest.fixture
def client(store: Any, tmp_path: Path) -> Iterator[TestClient]:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder, ignore=shutil.ignore_patterns("data"))
    with TestClient(create_app(Settings(dataset=folder), store=store)) as test_client:
        token = add_user(store, "规划科 王芳", "planner", None)[1]
        answer = test_client.post(
            "/assignments/changes",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "effective": "2027-01-01",
                "reason": "移交",
                "places": [
                    {
                        "layer": "streets",
                        "feature_id": "S1",
                        "assignments": [
                            {"unit_id": "U1", "role": "lead", "from_m": 0, "to_m": 400},
                            {"unit_id": "U4", "role": "lead", "from_m": 400, "to_m": 1000},
                            {"unit_id": "U3", "role": "supervisor"},
                        ],
                    }
                ],
            },
        )
        assert answer.status_code == 200 and answer.json()["applied"], answer.text
        test_client.change_id = answer.json()["change"]["id"]  # type: ignore[attr-defined]
        yield test_client


def _units(client: TestClient, date: str, **extra: str) -> dict[str, Any]:
    answer = client.get("/lookup", params={**ON_S1_AT_450_M, "date": date, **extra})
    assert answer.status_code == 200, answer.text
    return {
        u["unit_id"]: u.get("held_since", "absent")
        for m in answer.json()["matches"]
        for u in m["units"]
        if not m["fallback"]
    }


def test_units_say_since_when_and_which_change(client: TestClient) -> None:
    change_id = client.change_id  # type: ignore[attr-defined]
    assert _units(client, "2027-03-01", held_since="true") == {
        "U4": {"date": "2027-01-01", "row_from": "2027-01-01", "change_id": change_id},
        "U3": {"date": None, "row_from": None, "change_id": None},
    }
    assert _units(client, "2026-06-01", held_since="1") == {
        "U2": {"date": None, "row_from": None, "change_id": None},
        "U3": {"date": None, "row_from": None, "change_id": None},
    }


def test_the_fallback_unit_has_no_holding_to_date(client: TestClient) -> None:
    answer = client.get("/lookup", params={**ON_S1_AT_450_M, "held_since": "true"}).json()
    fallback = [u for m in answer["matches"] if m["fallback"] for u in m["units"]]
    assert fallback and all(u["held_since"] is None for u in fallback)


@pytest.mark.parametrize("value", [None, "false", "0"])  # absent or declined: the plain answer
def test_without_it_the_answer_is_the_plain_lookup(client: TestClient, value: str | None) -> None:
    plain = client.get("/lookup", params={**ON_S1_AT_450_M, "date": "2027-03-01"}).content
    extra = {} if value is None else {"held_since": value}
    asked = client.get("/lookup", params={**ON_S1_AT_450_M, "date": "2027-03-01", **extra}).content
    assert asked == plain and b"held_since" not in plain
