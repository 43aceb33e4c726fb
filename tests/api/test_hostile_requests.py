"""Hostile and clumsy requests (issue 15, items 4-6): a clear 4xx, never a 500 or a surprise.

Each case was found by probing the running server: a nested ``id`` made
``POST /lookup`` recurse into a 500; ``/assets`` with a NUL or a 300-character name
raised OSError twice; OGC links copied whatever Host the client sent; JSON answers
lacked ``nosniff``; ``20260301``, ``2026-W10-1`` and full-width digits passed as dates
although the API documents YYYY-MM-DD; ids past 2**53 came back as floats; a
catalog ``file`` that is a directory or a FIFO was called "not found".
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo import Dataset, load_dataset
from geo.lookup_dates import parse_day

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
POINT = {"lon": 109.0292, "lat": 32.6853}


@pytest.fixture(scope="module")
def client(mini_ds: Dataset) -> TestClient:
    with TestClient(create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("identifier", "error"),
    [
        ("NESTED", "id must be a string or a number, not a list"),  # 1,000 deep: used to recurse into a 500
        ({"a": 1}, "id must be a string or a number, not an object"),
        (True, "id must be a string or a number, not true/false"),
    ],
)
def test_an_id_that_is_not_a_scalar_is_that_rows_error(client: TestClient, identifier: object, error: str) -> None:
    given = "[" * 1000 + '"x"' + "]" * 1000 if identifier == "NESTED" else json.dumps(identifier)
    body = f'[{{"lon": 109.0292, "lat": 32.6853, "id": {given}}}, {{"lon": 109.0292, "lat": 32.6853, "id": "ok"}}]'
    answer = client.post("/lookup", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    first, second = answer.json()["results"]
    assert first["error"] == error and first.get("feature_id") is None
    assert second["id"] == "ok" and second["error"] is None


def test_integer_ids_past_2_to_the_53_come_back_as_text(client: TestClient) -> None:
    big = 2**53 + 1
    answer = client.post("/lookup", content=f'[{{"lon": 109.0292, "lat": 32.6853, "id": {big}}}, '
                         f'{{"lon": 109.0292, "lat": 32.6853, "id": 12}}]')  # fmt: skip
    ids = [row["id"] for row in answer.json()["results"]]
    assert ids == [str(big), 12]


@pytest.mark.parametrize(
    "path",
    [
        "/assets/vendor/leaflet/dist/leaflet.js%00",  # a NUL byte: ValueError in the file system calls
        "/assets/vendor/" + "a" * 300 + ".js",  # a name longer than 255 bytes: OSError
        "/assets/vendor/%01evil.js",  # a control character
        "/assets/" + "a/" * 600 + "x.js",  # a path longer than 1 KB
    ],
)
def test_impossible_asset_names_are_404(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    assert "\x00" not in answer.text


def test_every_answer_says_nosniff(client: TestClient) -> None:
    for path in ("/lookup?lon=109.0292&lat=32.6853", "/healthz", "/units", "/nowhere", "/lookup?lon=x&lat=1"):
        assert client.get(path).headers["x-content-type-options"] == "nosniff", path


def test_ogc_links_use_the_configured_public_url_not_the_host_header(mini_ds: Dataset) -> None:
    settings = Settings(dataset=mini_ds.path, public_url="https://gis.example.gov.cn/respmap/")
    with TestClient(create_app(settings, dataset=mini_ds)) as client:
        body = client.get("/ogc", headers={"Host": "evil.example"}).json()
    hrefs = [link["href"] for link in body["links"]]
    assert "https://gis.example.gov.cn/respmap/ogc/collections" in hrefs
    assert all(href.startswith("https://gis.example.gov.cn/respmap/") for href in hrefs)
    assert not any("evil" in href for href in hrefs)


def test_trusted_hosts_refuse_other_host_headers(mini_ds: Dataset) -> None:
    settings = Settings(dataset=mini_ds.path, trusted_hosts="gis.example.gov.cn, *.example.org")
    with TestClient(create_app(settings, dataset=mini_ds)) as client:
        assert client.get("/healthz", headers={"Host": "gis.example.gov.cn:8000"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "a.example.org"}).status_code == 200
        refused = client.get("/healthz", headers={"Host": "evil.example"})
    assert refused.status_code == 400 and refused.json()["error"] == "untrusted_host"
    assert refused.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "text",
    [
        "20260301",  # basic ISO form: fromisoformat takes it, the API does not document it
        "2026-W10-1",  # ISO week date
        "２０２６-０３-０１",  # full-width digits
        "2026-3-1",  # unpadded
        "2026-02-30",  # no such day
    ],
)
def test_only_yyyy_mm_dd_is_a_date(client: TestClient, text: str) -> None:
    with pytest.raises(ValueError, match="use YYYY-MM-DD"):
        parse_day(text)
    for path in (f"/lookup?lon=109.0292&lat=32.6853&date={text}", f"/coverage?date={text}"):
        answer = client.get(path)
        assert answer.status_code == 400 and "YYYY-MM-DD" in answer.json()["message"], path
    batch = client.post("/lookup", json={"points": [POINT], "date": text})
    assert batch.status_code == 400


def test_a_documented_date_still_works(client: TestClient) -> None:
    assert client.get("/lookup?lon=109.0292&lat=32.6853&date=2026-03-01").json()["date"] == "2026-03-01"
    assert client.get("/coverage?date=2026-03-01").status_code == 200


def test_a_catalog_file_that_is_a_directory_or_a_fifo_is_called_what_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    layer = folder / "streets.geojson"
    layer.unlink()
    layer.mkdir()
    units = folder / "units.csv"
    units.unlink()
    os.mkfifo(units)
    messages = {f.file: f.message for f in load_dataset(folder).findings if f.level == "error"}
    assert "is a directory, not a file" in messages["streets.geojson"]
    assert "is a named pipe (FIFO), not a file" in messages["units.csv"]
