"""Served pages of a dataset without districts do not tell staff they are "outside every district".

On a dataset with no [frame] every lookup comes back with ``inside_frame``
false; /here showed a red "Outside every district" above the answer for every
position, and the /map click card said the same: a field worker would think
they had left the city. The pages now say it only when the dataset has districts.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from geo.datums import to_wgs84
from tests.api.http_server import running_server
from tests.maps.test_browser_map import click_at, open_map, watch

FRAMELESS = Path(__file__).resolve().parents[1] / "data" / "qa" / "frameless_bng"
WARDS = Path(__file__).resolve().parents[1] / "data" / "qa" / "wards_lv95"
DAY = "2026-03-01"


def _here_text(browser: Browser, base: str, lon: float, lat: float, expect: str) -> str:
    watched = watch(
        browser,
        viewport={"width": 390, "height": 844},
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 5},
        permissions=["geolocation"],
    )
    page = watched.page
    page.goto(f"{base}/here?date={DAY}")
    page.wait_for_function(f"() => document.querySelector('#here-answer').innerText.includes({expect!r})")
    text = page.locator("#here-answer").inner_text()
    page.context.close()
    return text


def test_here_without_districts(browser: Browser) -> None:
    lon, lat = to_wgs84(530500, 180005, "EPSG:27700")  # on Oxford Street, held by Westminster
    with running_server(FRAMELESS) as base:
        text = _here_text(browser, base, lon, lat, "Westminster City Council")
    assert "Outside every district" not in text


def test_map_click_without_districts(browser: Browser) -> None:
    lon, lat = to_wgs84(530500, 180005, "EPSG:27700")
    with running_server(FRAMELESS) as base:
        watched = watch(browser)
        page = open_map(watched, f"{base}/map?date={DAY}")
        click_at(page, lat, lon)
        page.wait_for_function("() => (document.querySelector('.rm-lookup') || {}).innerText")
        text = page.locator(".rm-lookup").inner_text()
        page.context.close()
    assert "Westminster City Council" in text and "Outside every district" not in text


def test_here_outside_the_districts_of_a_dataset_that_has_them(browser: Browser) -> None:
    # 2 km east of the LV95 wards: a dataset with districts still warns
    lon, lat = to_wgs84(2686000, 1247500, "EPSG:2056")
    with running_server(WARDS) as base:
        text = _here_text(browser, base, lon, lat, "Outside every district")
    assert "Outside every district" in text
