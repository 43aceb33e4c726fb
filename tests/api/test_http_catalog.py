"""HTTP answers about the dataset: health, units, districts, standards, search, coverage.

In-process (TestClient) against the mini dataset, whose answers are known
exactly (tests/conftest.py describes it). Dates are given explicitly: the
mini data changes hands on 2026-01-01, and "today" moves.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo import Dataset

DAY = "2026-03-01"


@pytest.fixture(scope="module")
def client(mini_ds: Dataset) -> TestClient:
    with TestClient(create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)) as test_client:
        yield test_client


def test_healthz_names_the_dataset_and_its_hash(client: TestClient, mini_ds: Dataset) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["dataset"] == "迷你测试数据"
    assert body["content_hash"] == mini_ds.content_hash and len(body["content_hash"]) == 16
    assert body["feature_counts"] == {"districts": 2, "compounds": 3, "streets": 2}
    assert body["zones"] == 8 and body["units"] == 6
    assert body["loaded_at"].startswith(mini_ds.loaded_at.date().isoformat())
    assert body["route_modules_failed"] == {}


def test_ping_is_a_constant(client: TestClient) -> None:
    first, second = client.get("/healthz/ping"), client.get("/healthz/ping")
    assert first.status_code == 200 and first.content == second.content == b'{"status":"ok"}'
    assert first.headers["content-type"] == "application/json"


def test_units_list_every_unit_with_its_workload(client: TestClient) -> None:
    body = client.get("/units", params={"date": DAY}).json()
    assert body["date"] == DAY and body["count"] == 6
    by_id = {unit["unit_id"]: unit for unit in body["units"]}
    assert set(by_id) == {"HQ1", "HQ2", "U1", "U2", "U3", "U4"}
    assert by_id["U1"]["name"] == "市民政局" and by_id["U1"]["phone"] == "0915-3200003"
    # U1 holds compound C1 (100 m²) and street S1 0-400 m, 5 m wide (2000 m²).
    assert by_id["U1"]["area_m2"] == pytest.approx(2100.0, abs=0.01)
    assert by_id["U4"]["idle"] is True


def test_unit_detail_lists_its_zones_on_the_date(client: TestClient) -> None:
    body = client.get("/units/U1", params={"date": DAY}).json()
    assert body["unit"]["unit_id"] == "U1" and body["fallback_for"] == []
    assert [zone["zone_id"] for zone in body["zones"]] == ["compounds/C1/0", "streets/S1/1"]
    stretch = body["zones"][1]
    assert (stretch["from_m"], stretch["to_m"], stretch["role"]) == (0.0, 400.0, "lead")
    # Plain JSON: NaN became null, never the invalid token NaN.
    assert body["zones"][0]["from_m"] is None and body["zones"][0]["valid_from"] is None


def test_unit_zones_follow_the_date(client: TestClient) -> None:
    # S2 moved from U1 to U3 on 2026-01-01: in 2025 U1 still held it.
    before = client.get("/units/U1/zones", params={"date": "2025-06-01"})
    after = client.get("/units/U1/zones", params={"date": DAY})
    assert before.headers["content-type"] == "application/geo+json"
    assert {f["id"] for f in before.json()["features"]} == {"compounds/C1/0", "streets/S1/1", "streets/S2/0"}
    assert {f["id"] for f in after.json()["features"]} == {"compounds/C1/0", "streets/S1/1"}
    feature = after.json()["features"][0]
    assert feature["geometry"]["type"] == "Polygon" and feature["properties"]["valid_until"] is None
    until = next(f for f in before.json()["features"] if f["id"] == "streets/S2/0")["properties"]["valid_until"]
    assert until == "2025-12-31"  # ISO date, not a timestamp


def test_hq_unit_is_the_fallback_of_its_district(client: TestClient) -> None:
    assert client.get("/units/HQ2", params={"date": DAY}).json()["fallback_for"] == ["D2"]


def test_districts_with_workload_and_bbox(client: TestClient) -> None:
    body = client.get("/districts", params={"date": DAY}).json()
    assert [d["district_id"] for d in body["districts"]] == ["D1", "D2"]
    d1 = body["districts"][0]
    assert d1["name"] == "西片区" and d1["fallback_unit"] == "HQ1"
    assert d1["area_m2"] == pytest.approx(1_000_000, rel=1e-6)
    min_lon, min_lat, max_lon, max_lat = d1["bbox"]
    assert 109.0 < min_lon < max_lon < 109.1 and 32.6 < min_lat < max_lat < 32.7


def test_district_detail_lists_holding_units_largest_first(client: TestClient) -> None:
    body = client.get("/districts/D1", params={"date": DAY}).json()
    units = [(u["unit_id"], round(u["area_m2"])) for u in body["units"]]
    # U2: C2 (100 m²) + S1 400-1000 m (3000 m²); U1: C1 + S1 0-400 m. The supervisor U3 holds nothing.
    assert units == [("U2", 3100), ("U1", 2100)]


def test_standards_are_plain_json(client: TestClient) -> None:
    body = client.get("/standards").json()
    assert body["count"] == 3
    first = body["standards"][0]
    assert (first["standard_id"], first["grade"], first["sweeps_per_day"]) == ("S-1", "一级", 3.0)
    assert first["m2_per_worker"] is None  # empty in the table: null, not NaN


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("幸福", [("feature", "C1"), ("feature", "S1")]),  # a Chinese substring in two layers
        ("幸福巷", [("feature", "S1")]),  # the whole name
        ("西片区", [("district", "D1"), ("unit", "HQ1")]),  # exact district name ranks before the prefix match
        ("指挥部", [("unit", "HQ1"), ("unit", "HQ2")]),  # a suffix
        ("u4", [("unit", "U4")]),  # ids match too, case-insensitively
        ("ｕ４", [("unit", "U4")]),  # full-width input (Chinese IMEs) is normalised
        ("没有这个", []),  # nothing
    ],
)
def test_search_by_name(client: TestClient, query: str, expected: list[tuple[str, str]]) -> None:
    body = client.get("/search", params={"q": query}).json()
    assert [(hit["kind"], hit["id"]) for hit in body["results"]] == expected
    assert body["total"] == len(expected)


def test_search_is_bounded(client: TestClient) -> None:
    body = client.get("/search", params={"q": "区", "limit": 1}).json()
    assert len(body["results"]) == 1 and body["total"] > 1


def test_coverage_report_matches_the_library(client: TestClient, mini_ds: Dataset) -> None:
    body = client.get("/coverage", params={"date": DAY}).json()
    assert body == mini_ds.coverage(DAY).to_dict()
    assert body["conflicts"]["count"] == 1


def test_coverage_places_as_geojson(client: TestClient) -> None:
    conflicts = client.get("/coverage/conflicts", params={"date": DAY})
    assert conflicts.headers["content-type"] == "application/geo+json"
    feature = conflicts.json()["features"][0]
    assert feature["properties"]["unit_ids"] == ["U1", "U2"]
    assert feature["properties"]["area_m2"] == pytest.approx(25.0, abs=0.01)
    unheld = client.get("/coverage/unheld", params={"date": DAY}).json()
    # C3 nobody holds; S1 1000-1200 m no stretch covers.
    assert [f["id"] for f in unheld["features"]] == ["compounds/C3", "streets/S1@1000-1200"]
    assert client.get("/coverage/gaps", params={"date": DAY}).json()["features"] == []


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/units/NOPE", 404, "not_found"),  # unknown unit
        ("/units/NOPE/zones", 404, "not_found"),  # unknown unit, GeoJSON route: the error is still JSON
        ("/districts/D9", 404, "not_found"),  # unknown district
        ("/units?date=2026-13-01", 400, "bad_parameter"),  # no 13th month
        ("/units?date=1066-10-14", 400, "bad_parameter"),  # a real date, but no assignment can be that old
        ("/search?q=", 400, "bad_parameter"),  # empty query
        ("/search?q=%20%20", 400, "bad_parameter"),  # only spaces
        ("/search?q=a&limit=0", 400, "bad_parameter"),  # limit below 1
        ("/no/such/route", 404, "not_found"),  # unknown path
    ],
)
def test_errors_share_one_shape(client: TestClient, path: str, status: int, code: str) -> None:
    answer = client.get(path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"error", "message", "details"}
    assert body["error"] == code and body["message"]


def test_wrong_method_is_405_in_the_error_shape(client: TestClient) -> None:
    answer = client.delete("/units")
    assert answer.status_code == 405 and answer.json()["error"] == "method_not_allowed"


def test_a_hostile_id_comes_back_as_data_in_json(client: TestClient) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    answer = client.get(f"/units/{hostile}")
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
    assert answer.json()["details"]["id"] == hostile
