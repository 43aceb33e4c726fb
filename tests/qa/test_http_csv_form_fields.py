"""POST /lookup/csv: options sent as form fields beside the file are used, not dropped.

A multipart upload naturally carries its options as form fields (an HTML form,
``requests.post(url, files=..., data={"crs": "gcj02"})``); the route read them
from the query only and silently answered GCJ-02 coordinates as WGS-84, about
500 m off in China: another street, another unit, no error.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo import Dataset
from geo.datums import from_wgs84, to_wgs84

DAY = "2026-03-01"


@pytest.fixture(scope="module")
def client(mini_ds: Dataset) -> TestClient:
    with TestClient(create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)) as test_client:
        yield test_client


def _gcj02_csv() -> bytes:
    # compound C1 of the mini dataset (EPSG:4545 600102, 3618102), as a Chinese map app gives it
    lon, lat = to_wgs84(600102, 3618102, "EPSG:4545")
    g_lon, g_lat = from_wgs84(lon, lat, "gcj02")
    return f"id,lon,lat\nA,{g_lon:.8f},{g_lat:.8f}\n".encode()


def _feature(answer: httpx.Response) -> str:
    assert answer.status_code == 200, answer.text
    header, row = answer.content.decode("utf-8-sig").splitlines()[:2]
    return dict(zip(header.split(","), row.split(","), strict=True))["feature_id"]


def test_crs_as_a_query_parameter(client: TestClient) -> None:
    answer = client.post("/lookup/csv", params={"crs": "gcj02", "date": DAY}, files={"file": ("p.csv", _gcj02_csv())})
    assert _feature(answer) == "C1"


def test_crs_and_date_as_form_fields(client: TestClient) -> None:
    answer = client.post("/lookup/csv", data={"crs": "gcj02", "date": DAY}, files={"file": ("p.csv", _gcj02_csv())})
    assert _feature(answer) == "C1"


def test_the_same_option_twice_with_different_values_is_refused(client: TestClient) -> None:
    answer = client.post(
        "/lookup/csv", params={"crs": "wgs84"}, data={"crs": "gcj02"}, files={"file": ("p.csv", _gcj02_csv())}
    )
    assert answer.status_code == 400
    assert answer.json()["details"]["parameter"] == "crs"


def test_an_unknown_form_field_is_refused_not_ignored(client: TestClient) -> None:
    # "datum" is not an option: ignoring it would answer in WGS-84 without a word
    answer = client.post("/lookup/csv", data={"datum": "gcj02"}, files={"file": ("p.csv", _gcj02_csv())})
    assert answer.status_code == 400
    assert "datum" in answer.json()["message"]
