"""``/dashboard`` in headless Chromium against a real ``respmap serve`` and a store filled through the engine.

The office signs in with its token on /login and lands on the dashboard; the figures
shown equal ``GET /assessment``'s, the trend charts are drawn, the map shows every case
of the period (the overdue one filtered alone), no console error, no request leaves the machine.
"""

# ruff: noqa: F811 - the filled_store fixture is imported, then used by name
from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.api.assessment_store import MINI, FilledStore, filled_store  # noqa: F401 - the fixture
from tests.api.http_server import running_server
from tests.maps.test_browser_map import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, watch

FIGURES = ("attributed", "due", "closed_on_time", "on_time_rate", "close_rate", "overdue_open", "rework")


def shown(name: str, value: float | int | None) -> str:
    """How the page (and the bulletin) prints a figure."""
    if value is None:
        return "—"
    if name.endswith("_rate"):
        return f"{value * 100:.1f}%"
    return str(value)


@pytest.fixture
def server(filled_store: FilledStore) -> str:
    env = {"RESPMAP_DATABASE_URL": filled_store.url, "RESPMAP_DATA_DIR": str(filled_store.data_dir)}
    with running_server(MINI, env=env) as base:
        yield base


def test_dashboard_shows_the_assessment(server: str, filled_store: FilledStore) -> None:
    admin = {"Authorization": f"Bearer {filled_store.admin_token}"}
    expected = httpx.get(f"{server}/assessment?period=2026-11&cases=false&trend=5", headers=admin, timeout=60).json()
    # not signed in: sent to the sign-in page, which comes back here
    first = httpx.get(f"{server}/dashboard?period=2026-11", timeout=30)
    assert first.status_code == 303 and first.headers["location"].startswith("/login?next=%2Fdashboard")
    unit = httpx.get(f"{server}/dashboard", headers={"Authorization": f"Bearer {filled_store.unit_token}"}, timeout=30)
    assert unit.status_code == 403
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            watched = watch(browser)
            page = watched.page
            page.goto(f"{server}/login?next=%2Fdashboard%3Fperiod%3D2026-11")
            page.fill("#login-token", filled_store.admin_token)
            page.keyboard.press("Enter")
            page.wait_for_url("**/dashboard?period=2026-11", timeout=30_000)
            page.wait_for_function("() => window.respmapDashboardReady !== undefined", timeout=60_000)
            assert page.evaluate("window.respmapDashboardReady") is True, page.inner_text("#status")
            for name in FIGURES:
                assert page.inner_text(f'[data-figure="{name}"]') == shown(name, expected["city"][name]), name
            # the ranking in rank order, as the JSON has it
            rows = page.locator("#unit-ranking tbody tr")
            ids = [rows.nth(i).get_attribute("data-id") for i in range(rows.count())]
            assert ids == [u["id"] for u in expected["units"]]
            u1 = page.locator('#unit-ranking tr[data-id="U1"] td')
            score = next(u["score"] for u in expected["units"] if u["id"] == "U1")
            assert u1.nth(2).inner_text() == f"{score:.2f}"
            # trend charts: six periods, two lines, bars for the one month with cases
            assert page.locator("#chart-rates path.line").count() >= 1
            assert page.locator("#chart-counts rect.bar").count() == 2 * 6
            assert page.locator("#chart-rates text.tick").filter(has_text="2026-11").count() == 1
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "dashboard_mini_2026-11.png"), full_page=True)
            # the map: every case of the period, then only the overdue one
            assert page.get_attribute("#case-map", "data-markers") == "4"
            page.check("#only-overdue")
            assert page.get_attribute("#case-map", "data-markers") == "1"
            page.select_option("#district-filter", "D2")
            assert page.get_attribute("#case-map", "data-markers") == "0"
            assert watched.errors == [] and watched.blocked == [], (watched.errors, watched.blocked)
        finally:
            browser.close()
