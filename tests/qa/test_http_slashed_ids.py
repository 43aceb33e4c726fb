"""Units and districts whose ids contain a slash can be asked for.

When the units come from a property (``unit_field``) their ids are names, and
names such as "Parks/Streets" are common; the server decoded ``%2F`` into a
path separator and answered 404 "no such path: /units/Parks/Streets", so the
unit's page, its zones and its map were unreachable. Ids may now hold slashes
(as OGC feature ids already could), and traversal attempts stay 404.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo import load_dataset

QA = Path(__file__).resolve().parents[1] / "data" / "qa"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    folder = tmp_path_factory.mktemp("slashed") / "wards"
    shutil.copytree(QA / "wards_lv95", folder)
    for name, old, new in (
        ("wards.geojson", "ERZ Team Nord", "ERZ/Team Nord"),
        ("kreise.geojson", '"K1"', '"Kreis/1"'),
    ):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    ds = load_dataset(folder)
    assert ds.ok, [f.message for f in ds.findings if f.level == "error"]
    with TestClient(create_app(Settings(dataset=folder), dataset=ds)) as test_client:
        yield test_client


def test_unit_with_a_slash(client: TestClient) -> None:
    answer = client.get("/units/ERZ%2FTeam%20Nord")
    assert answer.status_code == 200, answer.text
    assert answer.json()["unit"]["unit_id"] == "ERZ/Team Nord"


def test_zones_of_a_unit_with_a_slash(client: TestClient) -> None:
    answer = client.get("/units/ERZ%2FTeam%20Nord/zones")
    assert answer.status_code == 200, answer.text
    assert sorted(f["properties"]["feature_id"] for f in answer.json()["features"]) == ["1", "3"]


def test_map_of_a_unit_with_a_slash(client: TestClient) -> None:
    answer = client.get("/map/units/ERZ%2FTeam%20Nord")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")


def test_district_with_a_slash(client: TestClient) -> None:
    assert client.get("/districts/Kreis%2F1").json()["district"]["district_id"] == "Kreis/1"
    assert client.get("/map/districts/Kreis%2F1").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/units/..%2F..%2Fetc%2Fpasswd",  # encoded traversal: an id no unit has
        "/units/ERZ%2FTeam%20Nord%2F..%2F..%2Fcatalog.toml",  # a real unit id followed by traversal
        "/districts/%2e%2e%2fcatalog.toml",
        "/units/nope/zones",  # an unknown unit's zones
    ],
)
def test_unknown_and_traversal_ids_are_404(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert b"[dataset]" not in answer.content
