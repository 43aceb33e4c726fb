"""/here draws the places around the asked point, the answer's own place highlighted (Chromium + a real server).

Before, the phone page drew only district outlines: a worker saw empty squares
and could not tell which street the answer meant. Now, once located, the page
fetches ``/here/places`` for a small box around the point and draws the
streets, villages and compounds there; the place the answer names is drawn red
and labelled. The route itself is checked over HTTP too (bad boxes, hostile names).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import shapely
from playwright.sync_api import Browser

from geo import Dataset
from tests.api.http_server import running_server
from tests.maps.test_browser_map import SCREENSHOTS, watch
from tests.maps.test_browser_served import wgs84_along

TESTS = Path(__file__).resolve().parents[1]
MINI_DIR = TESTS / "data" / "mini"
HOSTILE_DIR = TESTS / "data" / "hostile"
DAY = "2026-03-01"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The case store of the servers started here: a temporary folder, never beside the test data."""
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def server(store_dir: Path) -> Iterator[str]:
    with running_server(MINI_DIR, env={"RESPMAP_DATA_DIR": str(store_dir)}) as base:
        yield base


def test_located_phone_sees_the_places_around_with_the_answer_highlighted(
    server: str, browser: Browser, mini_ds: Dataset
) -> None:
    lon, lat = wgs84_along(mini_ds, "S1", 200.0)  # on 幸福巷, U1's stretch
    watched = watch(
        browser,
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 5},
        permissions=["geolocation"],
        viewport={"width": 390, "height": 800},
        is_mobile=True,
        has_touch=True,
    )
    page = watched.page
    with page.expect_response(lambda response: "/here/places?" in response.url) as placed:
        page.goto(f"{server}/here?date={DAY}")
    assert placed.value.status == 200
    page.wait_for_function("() => document.documentElement.hasAttribute('data-here-places')")
    drawn = page.evaluate("respmapHere.places")
    assert {"layer": "streets", "feature_id": "S1", "name": "幸福巷", "highlighted": True} in drawn
    assert sum(place["highlighted"] for place in drawn) == 1
    # The places are on the map, not only in a list: one Leaflet layer per place.
    assert page.evaluate("respmapHere.placesLayer.getLayers().filter(l => l.feature || l.getLayers).length") == len(
        drawn
    )
    label = page.locator(".here-place-tooltip")
    assert label.inner_text() == "幸福巷"
    page.screenshot(path=str(SCREENSHOTS / "served_here_places.png"))

    # Asking in the overlap of C1 and C2: both compounds drawn, the answer's (the first match) highlighted.
    c1 = mini_ds.layers["compounds"].set_index("feature_id").geometry["C1"]
    c2 = mini_ds.layers["compounds"].set_index("feature_id").geometry["C2"]
    inside = c1.intersection(c2).representative_point()
    with page.expect_response(lambda response: "/here/places?" in response.url):
        answer = page.evaluate(f"respmapHere.ask({inside.x}, {inside.y}, 'wgs84', L.latLng({inside.y}, {inside.x}))")
    page.wait_for_function("() => respmapHere.places.some(p => p.feature_id === 'C1')")
    drawn = page.evaluate("respmapHere.places")
    ids = {place["feature_id"] for place in drawn}
    assert {"C1", "C2"} <= ids
    best = next(m for m in answer["matches"] if not m.get("fallback"))
    highlighted = [place["feature_id"] for place in drawn if place["highlighted"]]
    assert highlighted == [best["feature_id"]]
    assert watched.errors == [] and watched.blocked == [] and watched.dialogs == []
    watched.page.context.close()


def test_places_route_answers_geojson_in_the_box(server: str, mini_ds: Dataset) -> None:
    c3 = mini_ds.layers["compounds"].set_index("feature_id").geometry["C3"]
    minx, miny, maxx, maxy = c3.bounds
    answer = httpx.get(f"{server}/here/places", params={"bbox": f"{minx},{miny},{maxx},{maxy}"}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    collection = answer.json()
    features = {(f["properties"]["layer"], f["properties"]["feature_id"]) for f in collection["features"]}
    box = shapely.box(minx, miny, maxx, maxy)
    expected = {
        (layer_id, feature_id)
        for layer_id, layer in mini_ds.layers.items()
        if layer_id != "districts"  # districts are the frame, drawn by the page itself, never places
        for feature_id, geometry in zip(layer["feature_id"], layer.geometry, strict=True)
        if geometry.intersects(box)
    }
    assert ("compounds", "C3") in features and features == expected
    properties = next(f["properties"] for f in collection["features"] if f["properties"]["feature_id"] == "C3")
    assert properties["name"] == "无人小区" and properties["layer_title"] == "无物业管理小区"
    assert properties["kind"] == "polygon" and collection["truncated"] is False


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({}, "bbox is required"),  # the page always sends one; a person trying the route learns what to pass
        ({"bbox": "109,32,109.5,32.5"}, "larger than"),  # half a degree: a city, not the places around a point
        ({"bbox": "109,32,109.01"}, "minLon,minLat,maxLon,maxLat"),  # the shared bbox parser names the order
    ],
)
def test_places_route_refuses_bad_boxes(server: str, query: dict[str, str], fragment: str) -> None:
    answer = httpx.get(f"{server}/here/places", params=query, timeout=30)
    assert answer.status_code == 400
    assert answer.json()["details"]["parameter"] == "bbox"
    assert fragment in answer.json()["message"]


def test_hostile_place_names_are_text_on_the_phone_page(browser: Browser, store_dir: Path) -> None:
    with running_server(HOSTILE_DIR, env={"RESPMAP_DATA_DIR": str(store_dir / "hostile")}) as base:
        watched = watch(browser)
        page = watched.page
        page.goto(f"{base}/here?date={DAY}")
        page.wait_for_function("() => window.respmapReady === true")
        with page.expect_response(lambda response: "/here/places?" in response.url):
            page.evaluate("respmapHere.ask(109.003, 32.683, 'wgs84', L.latLng(32.683, 109.003))")
        page.wait_for_function("() => document.documentElement.hasAttribute('data-here-places')")
        assert page.locator(".here-place-tooltip").inner_text() == "<img src=x onerror=alert(1)>"
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"], b[onclick], i').length") == 0
        assert watched.dialogs == [] and watched.errors == [] and watched.blocked == []
        watched.page.context.close()
