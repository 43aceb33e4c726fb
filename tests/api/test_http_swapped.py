"""Map apps copy "lat, lon": the HTTP lookup says the numbers look swapped, not only that they are wrong."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from geo import Dataset


def test_get_lookup_names_a_swap(demo_ds: Dataset) -> None:
    with TestClient(create_app(dataset=demo_ds)) as client:
        answer = client.get("/lookup", params={"lon": 32.7068, "lat": 109.0137})
    assert answer.status_code == 400
    message = answer.json()["message"]
    assert "look swapped" in message and "lon=109.0137" in message


def test_batch_row_names_a_swap_and_the_batch_carries_on(demo_ds: Dataset) -> None:
    with TestClient(create_app(dataset=demo_ds)) as client:
        answer = client.post("/lookup", json=[{"lon": 32.7068, "lat": 109.0137}, {"lon": 109.0137, "lat": 32.7068}])
    assert answer.status_code == 200
    first, second = answer.json()["results"]
    assert "look swapped" in first["error"]
    assert not second["error"] and second["district_id"]  # no error (null) for a good point
