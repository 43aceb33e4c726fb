"""``GET /``: the front door answers with a page, not a 404 JSON (the server prints this address).

The page names the dataset, the date its figures are for (the one date rule),
the features per layer, units and districts, and links to the map, the phone
page, the API, OGC and the report kit; later pages only when their routes exist.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.home import route_paths
from api.settings import Settings
from geo import Dataset, load_dataset
from maps.home import LATER_PAGES, home_links

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"


@pytest.fixture(scope="module")
def client(mini_ds: Dataset) -> TestClient:
    with TestClient(create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)) as test_client:
        yield test_client


def test_front_door_is_a_page_in_the_datasets_language(client: TestClient, mini_ds: Dataset) -> None:
    answer = client.get("/")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert '<html lang="zh-CN">' in page and '<h1 id="dataset-name">迷你测试数据</h1>' in page
    assert f"状态日期 {mini_ds.reference_date.date().isoformat()}（今天）" in page
    # features per layer under the layers' Chinese titles; districts, units and zones in force
    figures = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="n">([\d,]+)</td>', page))
    assert figures == {
        "无物业管理小区": "3",
        "背街小巷": "2",
        "双创片区": "2",
        "责任单位": str(len(mini_ds.units)),
        "当日有效责任区域": str(len(mini_ds.zones_on())),
    }
    hrefs = re.findall(r'<a href="([^"]+)"', page)
    routed = set(route_paths(client.app.routes))
    later = [path for path, _ in LATER_PAGES if path in routed]  # the case loop's pages, once they exist
    assert hrefs == ["/map?color_by=coverage", "/here", "/docs", "/ogc", "/coverage", *later]
    assert "respmap build -o report/" in page  # the report kit, with the command that makes it
    for href in hrefs:  # every link answers
        assert client.get(html.unescape(href)).status_code == 200, href


def test_front_door_carries_a_strict_policy(client: TestClient) -> None:
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy  # no script at all
    assert "style-src 'sha256-" in policy and "unsafe-inline" not in policy


def test_english_on_request(client: TestClient) -> None:
    page = client.get("/", params={"lang": "en"}).text
    assert '<html lang="en">' in page and "Coverage map" in page and "Back streets" in page
    assert "(today)" in page


def test_later_pages_are_linked_only_when_their_routes_exist(mini_ds: Dataset) -> None:
    app = create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)
    with TestClient(app) as client:
        had_dashboard = "/dashboard" in route_paths(app.routes)
        assert ('<a href="/dashboard">' in client.get("/").text) == had_dashboard
    if not had_dashboard:  # a page added later is linked as soon as its route exists
        extra = APIRouter()
        extra.add_api_route("/dashboard", lambda: {"ok": True})
        app = create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)
        app.include_router(extra)
        with TestClient(app) as client:
            assert '<a href="/dashboard">工作台' in client.get("/").text
    # Without their routes (a server built without the case loop) none of the later pages is linked.
    main, later = home_links("zh", ["/", "/map", "/here", "/docs", "/ogc", "/coverage"])
    assert [link.href for link in main] == ["/map?color_by=coverage", "/here", "/docs", "/ogc", "/coverage"]
    assert later == []
    _, later = home_links("zh", ["/inbox", "/inspect"], prefix="/respmap")
    assert [(link.href, link.title) for link in later] == [("/respmap/inbox", "待办"), ("/respmap/inspect", "巡查上报")]


def test_names_from_the_data_are_text(tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    shutil.copytree(HOSTILE, folder)
    catalog = (folder / "catalog.toml").read_text(encoding="utf-8")
    catalog = re.sub(r'(?m)^name = ".*"$', 'name = "<script>alert(1)</script>"', catalog, count=1)
    (folder / "catalog.toml").write_text(catalog, encoding="utf-8")
    ds = load_dataset(folder)
    with TestClient(create_app(Settings(dataset=folder), dataset=ds)) as client:
        page = client.get("/").text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
