"""Open311 GeoReport v2 at /open311/v2 with a plain HTTP client, JSON and XML, on SQLite and PostgreSQL.

Follows the spec's own sequence (http://wiki.open311.org/GeoReport_v2): list the services,
POST a request, GET it back by id, list by status; then what this server promises beyond
the examples: public reports wait for the office and never show who sent them, nobody's
notes on the record reach the public, errors come in the spec's shape, public posting is
rate-limited, markup stays text in XML.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.rate_limit import public_report_limiter
from api.settings import Settings
from cases.users import add_user
from geo import Dataset
from geo.datums import to_wgs84
from tests.cases.conftest import MovableClock

ON_S1_FIRST_STRETCH = to_wgs84(600200.0, 3618800.0, "EPSG:4545")  # street S1 0-400 m: U1 leads
V2 = "/open311/v2"
HOSTILE = "<img src=x onerror=alert(1)>&<b>"


@pytest.fixture
def client(store, mini_ds: Dataset) -> Iterator[TestClient]:
    app = create_app(Settings(dataset=mini_ds.path), dataset=mini_ds, store=store)
    app.state.clock = MovableClock()
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def tokens(store) -> dict[str, str]:
    made = {}
    for name, role, unit in [("office", "admin", None), ("inspector", "inspector", None), ("u1", "unit", "U1")]:
        made[name] = add_user(store, name, role, unit)[1]
    return made


def _post(client: TestClient, fmt: str = "json", **fields: str) -> object:
    lon, lat = ON_S1_FIRST_STRETCH
    form = {"service_code": "exposed_garbage", "lat": f"{lat:.7f}", "long": f"{lon:.7f}", **fields}
    return client.post(f"{V2}/requests.{fmt}", data=form)


def _xml_items(text: str, item: str) -> list[dict[str, str]]:
    root = ET.fromstring(text)
    return [{child.tag: (child.text or "") for child in node} for node in root.findall(item)]


def test_services_list_and_definition_in_json_and_xml(client: TestClient) -> None:
    services = client.get(f"{V2}/services.json")
    assert services.status_code == 200 and services.headers["content-type"].startswith("application/json")
    codes = [s["service_code"] for s in services.json()]
    categories = client.get("/categories").json()["categories"]
    assert codes == [c["code"] for c in categories]  # the categories in force, in their order
    first = services.json()[0]
    assert first["service_name"] == categories[0]["name"] and first["metadata"] is False
    assert first["type"] == "realtime" and first["group"] == categories[0]["group"]

    as_xml = client.get(f"{V2}/services.xml")
    assert as_xml.headers["content-type"].startswith("text/xml")
    assert as_xml.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert [s["service_code"] for s in _xml_items(as_xml.text, "service")] == codes

    definition = client.get(f"{V2}/services/exposed_garbage.json").json()
    assert definition == {"service_code": "exposed_garbage", "attributes": []}
    assert ET.fromstring(client.get(f"{V2}/services/exposed_garbage.xml").text).tag == "service_definition"

    unknown = client.get(f"{V2}/services/potholes.json")
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404
    assert "potholes" in unknown.json()[0]["description"]
    error = ET.fromstring(client.get(f"{V2}/services/potholes.xml").text)
    assert error.tag == "errors" and error.find("error/code").text == "404"  # type: ignore[union-attr]


def test_discovery_names_the_endpoint(client: TestClient) -> None:
    found = client.get(f"{V2}/discovery.json").json()
    endpoint = found["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["specification"].endswith("GeoReport_v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert ET.fromstring(client.get(f"{V2}/discovery.xml").text).find("endpoints/endpoint/url") is not None


def test_round_trip_public_report_json(client: TestClient, tokens: dict[str, str]) -> None:
    posted = _post(
        client,
        description="路边一堆垃圾",
        email="citizen@example.org",
        first_name="李",
        last_name="四",
        phone="13800000000",
    )
    assert posted.status_code == 200
    (answer,) = posted.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"} and answer["account_id"] is None
    request_id = answer["service_request_id"]

    got = client.get(f"{V2}/requests/{request_id}.json")
    assert got.status_code == 200
    (request,) = got.json()
    assert request["service_request_id"] == request_id and request["status"] == "open"
    assert request["service_code"] == "exposed_garbage" and request["service_name"] == "暴露垃圾"
    assert request["description"] == "路边一堆垃圾"
    assert request["agency_responsible"] == "市民政局"  # U1 holds S1 0-400 m
    assert abs(request["long"] - ON_S1_FIRST_STRETCH[0]) < 1e-6 and abs(request["lat"] - ON_S1_FIRST_STRETCH[1]) < 1e-6
    assert request["requested_datetime"].endswith("+08:00") and request["updated_datetime"]
    # Contact details are for the office: not in the public answer, in the office's case.
    assert "citizen@example.org" not in got.text and "13800000000" not in got.text
    office = {"Authorization": f"Bearer {tokens['office']}"}
    case = client.get(f"/cases/{request_id}", headers=office).json()
    assert case["state"] == "reported" and "citizen@example.org" in case["reporter_contact"]
    # A unit does not see a public report until the office dispatches it.
    unit = {"Authorization": f"Bearer {tokens['u1']}"}
    assert client.get(f"/cases/{request_id}", headers=unit).status_code == 404

    listed = client.get(f"{V2}/requests.json", params={"status": "open"}).json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert client.get(f"{V2}/requests.json", params={"status": "closed"}).json() == []

    # The office dispatches with an internal note; the unit rectifies; the office closes.
    step = f"/cases/{request_id}/events"
    client.post(step, json={"action": "comment", "note": "内部备注：暗访组已核实"}, headers=office).raise_for_status()
    client.post(step, json={"action": "dispatch"}, headers=office).raise_for_status()
    client.post(step, json={"action": "rectify", "note": "已清运"}, headers=unit).raise_for_status()
    client.post(step, json={"action": "close", "note": "核查通过"}, headers=office).raise_for_status()

    closed = client.get(f"{V2}/requests.json", params={"status": "closed"})
    assert [r["service_request_id"] for r in closed.json()] == [request_id]
    assert closed.json()[0]["status_notes"] == "已结案"
    assert client.get(f"{V2}/requests.json", params={"status": "open"}).json() == []
    # Nobody's notes on the record reach the public: only the reporter's own description.
    assert "内部备注" not in closed.text and "已清运" not in closed.text and "核查通过" not in closed.text
    by_code = client.get(f"{V2}/requests.json", params={"service_code": "illegal_ads"}).json()
    assert by_code == []


def test_round_trip_in_xml_with_markup_kept_as_text(client: TestClient) -> None:
    posted = _post(client, "xml", description=HOSTILE)
    assert posted.status_code == 200 and posted.headers["content-type"].startswith("text/xml")
    (answer,) = _xml_items(posted.text, "request")
    request_id = answer["service_request_id"]
    assert answer["service_notice"] and answer["account_id"] == ""
    got = client.get(f"{V2}/requests/{request_id}.xml")
    (request,) = _xml_items(got.text, "request")
    assert request["description"] == HOSTILE  # parsed back exactly: escaped, not markup
    assert "<img" not in got.text and request["status"] == "open"
    listed = _xml_items(client.get(f"{V2}/requests.xml", params={"status": "open"}).text, "request")
    assert [r["service_request_id"] for r in listed] == [request_id]
    by_id = _xml_items(client.get(f"{V2}/requests.xml", params={"service_request_id": request_id}).text, "request")
    assert by_id[0]["service_request_id"] == request_id


def test_api_key_reports_are_dispatched_at_once_and_see_their_photo(client: TestClient, tokens: dict[str, str]) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    lon, lat = ON_S1_FIRST_STRETCH
    posted = client.post(
        f"{V2}/requests.json",
        data={"service_code": "dirty_road", "lat": str(lat), "long": str(lon), "api_key": tokens["inspector"]},
        files={"media": ("<b>photo</b>.jpg", buffer.getvalue(), "image/jpeg")},
    )
    assert posted.status_code == 200, posted.text
    (answer,) = posted.json()
    assert "市民政局" in answer["service_notice"]  # dispatched to U1 at once
    mine = client.get(f"{V2}/requests/{answer['service_request_id']}.json", params={"api_key": tokens["inspector"]})
    (request,) = mine.json()
    assert request["media_url"].startswith("http://testserver/photos/") and request["media_url"].endswith(".jpg")
    photo = client.get(request["media_url"], headers={"Authorization": f"Bearer {tokens['inspector']}"})
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    # The inspector's report is not public: the public does not find it.
    assert client.get(f"{V2}/requests/{answer['service_request_id']}.json").status_code == 404


@pytest.mark.parametrize(
    ("fields", "status", "fragment"),
    [
        ({"lat": "north"}, 400, "lat must be a number"),  # a word where degrees belong
        ({"service_code": ""}, 400, "service_code is required"),  # the spec's required field
        ({"service_code": "potholes"}, 404, "no service"),  # a code this city does not have
        ({"api_key": "rm_wrong"}, 403, "invalid api_key"),  # a key that is not a user's token
        ({"media_url": "file:///etc/passwd"}, 400, "media_url"),  # only http(s) addresses are kept
        ({"lat": "10.0", "long": "10.0"}, 422, "nearest"),  # outside every district: names the nearest
    ],
)
def test_bad_requests_answer_in_the_spec_error_shape(
    client: TestClient, fields: dict[str, str], status: int, fragment: str
) -> None:
    answer = _post(client, **fields)
    assert answer.status_code == status
    (error,) = answer.json()
    assert error["code"] == status and fragment in error["description"]


def test_unknown_format_and_json_body(client: TestClient) -> None:
    assert client.get(f"{V2}/services.csv").status_code == 404
    answer = client.post(f"{V2}/requests.json", json={"service_code": "exposed_garbage"})
    assert answer.status_code == 400 and "form fields" in answer.json()[0]["description"]


def test_public_posting_is_rate_limited(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public_report_limiter(client.app), "limit", 2)
    assert _post(client).status_code == 200
    assert _post(client).status_code == 200
    third = _post(client)
    assert third.status_code == 429 and int(third.headers["retry-after"]) > 0
    assert "too many" in third.json()[0]["description"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"status": "pending"}, "status must be open or closed"),  # the spec has two statuses
        ({"start_date": "yesterday"}, "start_date"),  # not a w3 date-time
        ({"jurisdiction_id": "x" * 500}, "jurisdiction_id is longer"),  # a flood in a query value
        ({"service_request_id": ",".join(str(i) for i in range(101))}, "at most 100"),  # too many ids at once
    ],
)
def test_bad_queries_answer_in_the_spec_error_shape(client: TestClient, params: dict[str, str], fragment: str) -> None:
    for fmt in ("json", "xml"):
        answer = client.get(f"{V2}/requests.{fmt}", params=params)
        assert answer.status_code == 400
        if fmt == "json":
            (error,) = answer.json()
            assert error["code"] == 400 and fragment in error["description"]
        else:
            root = ET.fromstring(answer.text)
            assert root.tag == "errors" and fragment in (root.findtext("error/description") or "")
