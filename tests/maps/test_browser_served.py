"""The served map pages in a real browser against a real server (``respmap serve``, uvicorn, 127.0.0.1).

The server is started on a free port by the API's test helper and stopped at
the end. Pages may fetch only from it: every other request is aborted and
recorded. A click on /map and a position on /here must come back with the
unit the mini dataset says is responsible there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
from playwright.sync_api import Browser

from geo import Dataset
from geo.datums import wgs84_to_gcj02
from tests.api.http_server import running_server
from tests.maps.test_browser_map import SCREENSHOTS, click_at, open_map, point_on, watch

MINI_DIR = Path(__file__).resolve().parents[1] / "data" / "mini"
DAY = "2026-03-01"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server(MINI_DIR) as base:
        yield base


def wgs84_along(ds: Dataset, feature_id: str, distance_m: float) -> tuple[float, float]:
    """(lon, lat) in WGS-84 of the point ``distance_m`` along a street of the mini dataset."""
    line = ds.layers["streets"].to_crs(ds.metric_crs).set_index("feature_id").geometry[feature_id]
    point = gpd.GeoSeries([line.interpolate(distance_m)], crs=ds.metric_crs).to_crs(4326).iloc[0]
    return point.x, point.y


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/map", 200),  # the city
        ("/map/units/U1", 200),  # a unit
        ("/map/districts/D2", 200),  # a district
        ("/map/units/NOPE", 404),  # unknown unit: the API's 404 with its JSON error
        ("/map/districts/NOPE", 404),  # unknown district
        ("/map?color_by=rainbow", 400),  # a colouring we do not have
        ("/map?tiles=tianditu", 400),  # Tianditu without a key says so
        ("/here", 200),  # the phone page
        ("/assets/vendor/leaflet/dist/leaflet.js", 200),  # Leaflet from node_modules
        ("/assets/vendor/leaflet/package.json", 404),  # nothing else from node_modules
    ],
)
def test_routes_answer(server: str, path: str, status: int) -> None:
    answer = httpx.get(server + path, timeout=30)
    assert answer.status_code == status
    if status == 200 and path.startswith(("/map", "/here")):
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy
        assert "https://" not in answer.text.split("<body", 1)[0]  # no remote script or style in the head


def test_served_map_click_shows_who_is_responsible(server: str, browser: Browser, mini_ds: Dataset) -> None:
    watched = watch(browser)
    page = open_map(watched, f"{server}/map?date={DAY}")
    lat, lon = point_on(page, "S1", "0")
    with page.expect_response(lambda response: "/lookup?" in response.url) as answered:
        click_at(page, lat, lon)
    assert answered.value.status == 200
    card = page.locator(".leaflet-popup-content .rm-lookup")
    card.wait_for()
    text = card.inner_text()
    assert "幸福巷" in text and "0–400 米" in text
    assert "市民政局" in text and "张强" in text  # the lead
    assert "西片区指挥部" in text  # and the district's fallback, last
    assert text.index("市民政局") < text.index("西片区指挥部")
    assert card.locator("a.rm-phone").first.get_attribute("href") == "tel:09153200003"
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "served_map_lookup.png"))
    assert watched.errors == [] and watched.blocked == [] and watched.dialogs == []
    watched.page.context.close()


def test_amap_map_asks_in_gcj02_and_gets_the_same_unit(server: str, browser: Browser, mini_ds: Dataset) -> None:
    watched = watch(browser)
    page = open_map(watched, f"{server}/map?date={DAY}&tiles=amap")
    lon, lat = wgs84_along(mini_ds, "S1", 700.0)  # inside U2's stretch 400-1000 m
    glon, glat = wgs84_to_gcj02(lon, lat)
    with page.expect_response(lambda response: "/lookup?" in response.url) as answered:
        click_at(page, glat, glon)  # where the shifted overlay draws that point
    assert "crs=gcj02" in answered.value.url
    card = page.locator(".leaflet-popup-content .rm-lookup")
    card.wait_for()
    assert "市住建局" in card.inner_text()
    assert all("autonavi.com" in url for url in watched.blocked)  # the only outside requests: AMap tiles
    watched.page.context.close()


def test_here_answers_for_the_phone_position(server: str, browser: Browser, mini_ds: Dataset) -> None:
    lon, lat = wgs84_along(mini_ds, "S1", 200.0)
    watched = watch(
        browser,
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 5},
        permissions=["geolocation"],
        viewport={"width": 390, "height": 800},
        is_mobile=True,
        has_touch=True,
    )
    page = watched.page
    page.goto(f"{server}/here?date={DAY}")
    page.wait_for_function("() => window.respmapReady === true")
    page.locator(".here-unit-main").wait_for(timeout=15_000)  # permission granted: it asks at once
    assert page.locator(".here-unit-main .here-unit-name").inner_text() == "市民政局"
    call = page.locator(".here-unit-main a.here-call")
    assert call.get_attribute("href") == "tel:09153200003"
    assert "0915-3200003" in call.inner_text()
    size_px = float(
        page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.here-unit-main .here-unit-name')).fontSize)"
        )
    )
    assert size_px >= 24  # large type for a phone in the street
    page.screenshot(path=str(SCREENSHOTS / "served_here.png"))
    # A tap on the map asks about that point instead: C3 is nobody's, so the district HQ answers.
    c3 = mini_ds.layers["compounds"].set_index("feature_id").geometry["C3"].centroid
    page.evaluate(f"respmapHere.map.setView([{c3.y}, {c3.x}], 17, {{animate: false}})")
    box = page.locator("#here-map").bounding_box()
    assert box is not None
    x, y = page.evaluate(
        f"(() => {{ const p = respmapHere.map.latLngToContainerPoint([{c3.y}, {c3.x}]); return [p.x, p.y]; }})()"
    )
    assert box["y"] + y < 800  # the point is on screen
    with page.expect_response(lambda response: "/lookup?" in response.url):
        page.touchscreen.tap(box["x"] + x, box["y"] + y)
    page.wait_for_function("() => document.querySelector('#here-answer').innerText.includes('东片区指挥部')")
    assert "无人小区" in page.locator("#here-answer").inner_text()  # the place tapped, nobody's
    assert watched.errors == [] and watched.blocked == [] and watched.dialogs == []
    watched.page.context.close()


def test_hostile_lookup_answers_show_as_text(browser: Browser) -> None:
    hostile = Path(__file__).resolve().parents[1] / "data" / "hostile"
    with running_server(hostile) as base:
        watched = watch(browser)
        page = open_map(watched, f"{base}/map?date={DAY}")
        with page.expect_response(lambda response: "/lookup?" in response.url):
            click_at(page, 32.683, 109.003)  # compound C1, named <img src=x onerror=alert(1)>
        card = page.locator(".leaflet-popup-content .rm-lookup")
        card.wait_for()
        text = card.inner_text()
        assert "<img src=x onerror=alert(1)>" in text
        assert "<b onclick=alert(1)>Unit One</b>" in text and "<img src=x onerror=alert(2)>" in text
        assert "<i>HQ</i><img src=x onerror=alert(1)>" in text  # the district's fallback unit
        injected = page.evaluate("document.querySelectorAll('img[src=\"x\"], b[onclick], i').length")
        assert injected == 0
        page.goto(f"{base}/here?date={DAY}")
        page.wait_for_function("() => window.respmapReady === true")
        with page.expect_response(lambda response: "/lookup?" in response.url):
            page.evaluate("respmapHere.ask(109.003, 32.683, 'wgs84', L.latLng(32.683, 109.003))")
        page.wait_for_function("() => document.querySelector('#here-answer').innerText.includes('Unit One')")
        assert "<b onclick=alert(1)>Unit One</b>" in page.locator("#here-answer").inner_text()
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"], b[onclick], i').length") == 0
        assert watched.dialogs == [] and watched.errors == [] and watched.blocked == []
        watched.page.context.close()
