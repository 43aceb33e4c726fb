"""``GET /assignments/at``: the places at a point and their rows on a date, for the map's edit panel.

On a copy of the mini dataset (S1 is 1200 m long: U1 0-400 m, U2 400-1000 m, U3 supervises; S2 passed
from U1 to U3 on 2026-01-01; C3 nobody holds): the point 450 m along S1 gives S1 with ``at_m`` 450 and
its rows; rows are those of the asked date; an unheld polygon has no rows; roles other than planner or
admin are refused.
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
from geo import Dataset

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
M = "EPSG:4545"


@pytest.fixture
def client(store: Any, tmp_path: Path) -> Iterator[TestClient]:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder, ignore=shutil.ignore_patterns("data"))
    with TestClient(create_app(Settings(dataset=folder), store=store)) as test_client:
        test_client.tokens = {  # type: ignore[attr-defined]
            role: add_user(store, f"{role} person", role, "U1" if role == "unit" else None)[1]
            for role in ("planner", "admin", "inspector", "unit")
        }
        yield test_client


def _get(client: TestClient, role: str | None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {client.tokens[role]}"} if role else {}  # type: ignore[attr-defined]
    return client.get("/assignments/at", params=params, headers=headers)


def test_a_point_on_a_street_gives_the_street_its_rows_and_the_metres_along_it(client: TestClient) -> None:
    answer = _get(client, "planner", lon=600450.0, lat=3618800.0, crs=M, date="2026-06-01")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [p["feature_id"] for p in body["places"]] == ["S1"]  # the district's fallback is not a place to edit
    s1 = body["places"][0]
    assert s1["kind"] == "line" and s1["length_m"] == pytest.approx(1200.0, abs=0.5)
    assert s1["at_m"] == pytest.approx(450.0, abs=0.5)
    assert s1["stretch"]["from_m"] == 400.0 and s1["stretch"]["to_m"] == 1000.0
    assert [(r["unit_id"], r["role"], r["from_m"], r["to_m"]) for r in s1["rows"]] == [
        ("U1", "lead", 0.0, 400.0),
        ("U2", "lead", 400.0, 1000.0),
        ("U3", "supervisor", None, None),
    ]
    assert s1["rows"][0]["unit_name"] == "市民政局"
    assert body["dataset_hash"]


def test_rows_are_those_of_the_date_asked(client: TestClient, mini_ds: Dataset) -> None:
    s2 = mini_ds.layers["streets"].set_index("feature_id").geometry["S2"]
    point = s2.interpolate(0.5, normalized=True)
    rows = {
        date: [
            (r["unit_id"], r["valid_until"])
            for r in _get(client, "admin", lon=point.x, lat=point.y, date=date).json()["places"][0]["rows"]
        ]
        for date in ("2025-12-31", "2026-01-01")
    }
    assert rows == {"2025-12-31": [("U1", "2025-12-31")], "2026-01-01": [("U3", None)]}


def test_an_unheld_place_has_no_rows(client: TestClient, mini_ds: Dataset) -> None:
    c3 = mini_ds.layers["compounds"].set_index("feature_id").geometry["C3"].representative_point()
    places = _get(client, "planner", lon=c3.x, lat=c3.y).json()["places"]
    c3_place = next(p for p in places if p["feature_id"] == "C3")
    assert c3_place["rows"] == [] and c3_place["kind"] == "polygon" and "at_m" not in c3_place


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 401),  # nobody signed in
        ("unit", 403),  # a unit does not edit responsibility
        ("inspector", 403),  # nor does an inspector
    ],
)
def test_only_planners_and_admins(client: TestClient, role: str | None, status: int) -> None:
    assert _get(client, role, lon=600450.0, lat=3618800.0, crs=M).status_code == status


def test_bad_coordinates_are_a_clear_400(client: TestClient) -> None:
    answer = _get(client, "planner", lon=999.0, lat=3618800.0)
    assert answer.status_code == 400
    assert answer.json()["error"] == "bad_coordinates"
