"""Planners edit responsibility on the served coverage map, in Chromium against a real ``respmap serve``.

One server on a COPY of the mini dataset (plus a unit named as markup), its case store in a
temporary folder; users are added to that store from the test, as ``respmap users add`` would.
S1 is 1200 m long: U1 holds 0-400 m, U2 400-1000 m, U3 supervises. Every page may talk only to
127.0.0.1 and must raise no console error and open no dialog.

A planner signs in, reassigns U2's stretch of S1 to U4 from 2027-01-01 on the map, sees the
difference and the findings of the dry run, confirms, and the map reopens on that date; then
``GET /lookup`` on the stretch names U2 the day before and U4 from the effective date on, and the
popup says since when U4 holds it, linking to the change. A split at a clicked point gives each
part its unit. A unit or an inspector sees no edit control and a direct POST is refused (403).
Every edit is in ``GET /history`` with its author and reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from cases.store import open_store, store_config
from cases.users import add_user
from geo import Dataset
from tests.api.http_server import running_server
from tests.maps.test_browser_map import SCREENSHOTS, Watched, watch
from tests.maps.test_browser_served import wgs84_along

MINI_DIR = Path(__file__).resolve().parents[1] / "data" / "mini"
HOSTILE = "<img src=x onerror=alert(1)>"
PLANNER = "规划科 王芳"
REASON = "住建局职能调整，400-1000 米移交"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running server on a copy of the mini dataset, and the tokens of the people in its store."""
    root = tmp_path_factory.mktemp("planner_edit")
    dataset = root / "mini"
    shutil.copytree(MINI_DIR, dataset, ignore=shutil.ignore_patterns("data"))
    with (dataset / "units.csv").open("a", encoding="utf-8") as units:
        units.write(f'U9,"{HOSTILE}",company,,钱七,0915-3200009,4,\n')  # a unit named as markup
    data_dir = root / "store"
    data_dir.mkdir()
    store = open_store(config=store_config(data_dir=data_dir))
    try:
        tokens = {
            name: add_user(store, person, role, unit)[1]
            for name, person, role, unit in [
                ("planner", PLANNER, "planner", None),
                ("inspector", "巡查一组", "inspector", None),
                ("unit", "民政局联络员", "unit", "U1"),
            ]
        }
    finally:
        store.dispose()
    with running_server(dataset, env={"RESPMAP_DATA_DIR": str(data_dir)}) as base:
        yield {"base": base, **tokens}


def _signed_in_map(browser: Browser, base: str, token: str, path: str = "/map") -> Watched:
    """A page signed in through /login, brought back to the map."""
    watched = watch(browser)
    page = watched.page
    page.goto(f"{base}/login?next={path}")
    page.wait_for_function("() => window.respmapReady === true")
    page.fill("#login-token", token)
    page.click("form.login-form button[type=submit]")
    page.wait_for_url(base + path)
    page.wait_for_function("() => window.respmapReady === true", timeout=30_000)
    page.wait_for_function("() => document.documentElement.getAttribute('data-planner-edit')", timeout=15_000)
    return watched


def _open_editor(page: Page, effective: str, reason: str) -> None:
    """Open the edit panel and fill in when the change takes effect and why."""
    page.click(".rm-pe-toggle")
    page.fill(".rm-pe-effective", effective)
    page.fill(".rm-pe-reason", reason)


def _click_at(page: Page, lon: float, lat: float) -> None:
    """Centre the map on a WGS-84 point and click it (the mini dataset's map draws WGS-84)."""
    x, y = page.evaluate(
        """([lat, lon]) => {
            respmap.map.setView([lat, lon], 17, {animate: false});
            const p = respmap.map.latLngToContainerPoint([lat, lon]);
            const box = respmap.map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""",
        [lat, lon],
    )
    page.mouse.click(x, y)


def _pick_unit(page: Page, nth: int, query: str, unit_id: str) -> None:
    page.locator(".rm-pe-unit-search").nth(nth).fill(query)
    page.locator(f".rm-pe-picker >> nth={nth} >> button[data-unit='{unit_id}']").click()


def _select_place(page: Page, lon: float, lat: float, feature_id: str) -> None:
    _click_at(page, lon, lat)
    page.wait_for_function(
        f"() => document.documentElement.getAttribute('data-rm-selected') === {feature_id!r}", timeout=15_000
    )


def _preview(page: Page) -> None:
    page.evaluate("document.documentElement.removeAttribute('data-rm-preview')")
    page.click(".rm-pe-preview")
    page.wait_for_function(
        "() => ['ok', 'refused', 'failed'].includes(document.documentElement.getAttribute('data-rm-preview'))",
        timeout=60_000,
    )


def _confirm(page: Page, base: str, effective: str) -> None:
    page.click(".rm-pe-confirm")
    page.wait_for_url(f"{base}/map?date={effective}", timeout=60_000)
    page.wait_for_function("() => window.respmapReady === true", timeout=30_000)


def _units_at(base: str, lon: float, lat: float, date: str) -> list[tuple[str, str]]:
    answer = httpx.get(f"{base}/lookup", params={"lon": lon, "lat": lat, "date": date}, timeout=30)
    assert answer.status_code == 200, answer.text
    return [(u["unit_id"], u["role"]) for m in answer.json()["matches"] if not m["fallback"] for u in m["units"]]


def _history(server: dict[str, str]) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{server['base']}/history", headers={"Authorization": f"Bearer {server['planner']}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["changes"]


def _clean(watched: Watched, expected: list[str] | None = None) -> None:
    """No console error but the ``expected`` ones (each exactly once); a planner's map asks for no cases."""
    errors = list(watched.errors)
    for message in expected or []:
        errors.remove(message)
    assert errors == [] and watched.blocked == [] and watched.dialogs == []
    assert watched.page.evaluate("document.querySelectorAll('img[src=\"x\"], [onerror]').length") == 0


def test_a_planner_reassigns_a_stretch_on_the_map(server: dict[str, str], browser: Browser, mini_ds: Dataset) -> None:
    base = server["base"]
    lon, lat = wgs84_along(mini_ds, "S1", 450.0)
    assert _units_at(base, lon, lat, "2027-01-01") == [("U2", "lead"), ("U3", "supervisor")]
    watched = _signed_in_map(browser, base, server["planner"])
    page = watched.page
    assert page.get_attribute("html", "data-planner-edit") == "ready"
    _open_editor(page, "2027-01-01", REASON)
    _select_place(page, lon, lat, "S1")
    assert "450" in page.locator(".rm-pe-at").inner_text()  # metres along S1, from the server
    rows = page.locator(".rm-pe-rows li").all_inner_texts()
    assert len(rows) == 3 and "市住建局" in rows[1] and "400–1000" in rows[1]
    assert page.locator(".rm-pe-action").input_value() == "reassign"
    assert "市住建局" in page.locator(".rm-pe-row option:checked").inner_text()  # the clicked stretch's lead
    _pick_unit(page, 0, "空闲", "U4")
    assert page.locator(".rm-pe-confirm").is_disabled()  # nothing to confirm before the preview

    _preview(page)
    assert page.get_attribute("html", "data-rm-preview") == "ok"
    diff = page.locator(".rm-pe-diff").inner_text()
    assert "空闲单位" in diff and "市住建局" in diff and "2027-01-01" in diff
    assert page.locator(".rm-pe-findings").inner_text() == "未发现问题"  # U2 keeps C2: nobody is left idle
    assert page.locator(".rm-pe-confirm").is_enabled()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "planner_edit_preview.png"))
    assert _units_at(base, lon, lat, "2027-01-01") == [("U2", "lead"), ("U3", "supervisor")]  # a dry run

    _confirm(page, base, "2027-01-01")
    assert "变更已生效" in page.locator(".rm-pe-flash").inner_text()
    assert _units_at(base, lon, lat, "2026-12-31") == [("U2", "lead"), ("U3", "supervisor")]
    assert _units_at(base, lon, lat, "2027-01-01") == [("U4", "lead"), ("U3", "supervisor")]
    assert _units_at(base, lon, lat, "2027-06-30") == [("U4", "lead"), ("U3", "supervisor")]

    change = next(c for c in _history(server) if c["reason"] == REASON)
    assert change["by"] == PLANNER and change["effective"] == "2027-01-01"

    # The reopened map is on the effective date; its popup says since when U4 holds the stretch.
    _click_at(page, lon, lat)
    page.wait_for_function("() => Number(document.documentElement.getAttribute('data-rm-since') || 0) >= 1")
    since = page.locator(".rm-lookup .rm-since").first
    assert "2027-01-01" in since.inner_text()
    link = since.locator("a.rm-since-change")
    assert link.get_attribute("href") == f"/history/{change['id']}"
    assert link.get_attribute("title") == f"{PLANNER}：{REASON}"
    page.screenshot(path=str(SCREENSHOTS / "planner_edit_since.png"))
    _clean(watched)


def test_a_planner_splits_a_street_where_they_click(server: dict[str, str], browser: Browser, mini_ds: Dataset) -> None:
    base = server["base"]
    watched = _signed_in_map(browser, base, server["planner"])
    page = watched.page
    _open_editor(page, "2027-02-01", "民政局段一分为二")
    lon, lat = wgs84_along(mini_ds, "S1", 250.0)
    _select_place(page, lon, lat, "S1")
    page.select_option(".rm-pe-action", "split")
    assert "市民政局" in page.locator(".rm-pe-row option:checked").inner_text()  # U1's 0-400 m row
    assert float(page.locator(".rm-pe-split-at").input_value()) == pytest.approx(250.0, abs=0.5)
    _pick_unit(page, 0, "民政", "U1")
    _pick_unit(page, 1, "U9", "U9")
    assert HOSTILE in page.locator(".rm-pe-unit-chosen").nth(1).inner_text()  # a name as markup stays text
    _preview(page)
    assert page.get_attribute("html", "data-rm-preview") == "ok"
    assert HOSTILE in page.locator(".rm-pe-diff").inner_text()
    _confirm(page, base, "2027-02-01")

    before, after = wgs84_along(mini_ds, "S1", 150.0), wgs84_along(mini_ds, "S1", 320.0)
    assert _units_at(base, *before, "2027-02-01") == [("U1", "lead"), ("U3", "supervisor")]
    assert _units_at(base, *after, "2027-02-01") == [("U9", "lead"), ("U3", "supervisor")]
    assert _units_at(base, *after, "2027-01-31") == [("U1", "lead"), ("U3", "supervisor")]
    assert _units_at(base, *wgs84_along(mini_ds, "S1", 450.0), "2027-02-01")[0] == ("U4", "lead")  # untouched
    change = next(c for c in _history(server) if c["reason"] == "民政局段一分为二")
    assert change["by"] == PLANNER
    _clean(watched)


def test_a_planner_gives_an_unheld_place_a_unit(server: dict[str, str], browser: Browser, mini_ds: Dataset) -> None:
    """C3 (a compound) is held by nobody: the only action offered is to give it a unit."""
    base = server["base"]
    inside = mini_ds.layers["compounds"].set_index("feature_id").geometry["C3"].representative_point()
    assert _units_at(base, inside.x, inside.y, "2027-04-01") == []
    watched = _signed_in_map(browser, base, server["planner"])
    page = watched.page
    _open_editor(page, "2027-04-01", "街道办接管无人小区")
    _select_place(page, inside.x, inside.y, "C3")
    assert page.locator(".rm-pe-rows").inner_text() == "无人负责"
    assert page.locator(".rm-pe-action option").all_inner_texts() == ["增加负责单位"]
    _pick_unit(page, 0, "街道", "U3")
    _preview(page)
    assert page.get_attribute("html", "data-rm-preview") == "ok"
    assert "老城街道办事处" in page.locator(".rm-pe-diff").inner_text()
    _confirm(page, base, "2027-04-01")
    assert _units_at(base, inside.x, inside.y, "2027-03-31") == []
    assert _units_at(base, inside.x, inside.y, "2027-04-01") == [("U3", "lead")]
    _clean(watched)


def test_a_change_made_meanwhile_is_not_overwritten(server: dict[str, str], browser: Browser, mini_ds: Dataset) -> None:
    """Another planner changes the data between the preview and the confirmation: 409, the panel looks again."""
    base = server["base"]
    watched = _signed_in_map(browser, base, server["planner"])
    page = watched.page
    _open_editor(page, "2027-05-01", "督查组调整")
    on_s1 = wgs84_along(mini_ds, "S1", 1100.0)  # 1000-1200 m: nobody leads it
    _select_place(page, *on_s1, "S1")
    assert page.locator(".rm-pe-action").input_value() == "give"  # nobody holds the clicked stretch
    _pick_unit(page, 0, "住建", "U2")
    _preview(page)
    assert page.get_attribute("html", "data-rm-preview") == "ok"
    assert "1000–1200" in page.locator(".rm-pe-diff").inner_text()  # the unheld stretch only
    meanwhile = httpx.post(
        f"{base}/assignments/changes",
        headers={"Authorization": f"Bearer {server['planner']}"},
        json={
            "effective": "2027-05-01",
            "reason": "另一位规划员",
            "places": [{"layer": "streets", "feature_id": "S2", "assignments": [{"unit_id": "U1"}]}],
        },
        timeout=60,
    )
    assert meanwhile.status_code == 200 and meanwhile.json()["applied"], meanwhile.text
    page.evaluate("document.documentElement.setAttribute('data-rm-selected', 'waiting')")
    page.click(".rm-pe-confirm")
    page.wait_for_function("() => document.documentElement.getAttribute('data-rm-selected') === 'S1'")
    assert "数据已被他人修改" in page.locator(".rm-pe-status").inner_text()
    assert page.locator(".rm-pe-confirm").is_disabled()  # a new preview first, against the data as it is now
    assert all(c["reason"] != "督查组调整" for c in _history(server))
    # The same panel, previewed again, goes through.
    _pick_unit(page, 0, "住建", "U2")
    _preview(page)
    assert page.get_attribute("html", "data-rm-preview") == "ok"
    _confirm(page, base, "2027-05-01")
    assert _units_at(base, *on_s1, "2027-05-01") == [("U2", "lead"), ("U3", "supervisor")]
    assert _units_at(base, *on_s1, "2027-04-30") == [("U3", "supervisor")]
    _clean(watched, ["Failed to load resource: the server responded with a status of 409 (Conflict)"])


def test_a_preview_with_errors_cannot_be_confirmed(server: dict[str, str], browser: Browser, mini_ds: Dataset) -> None:
    """Giving S1's whole length to a second lead overlaps the leads in place: an error, shown, not confirmable."""
    base = server["base"]
    watched = _signed_in_map(browser, base, server["planner"])
    page = watched.page
    _open_editor(page, "2027-03-01", "试一试")
    _select_place(page, *wgs84_along(mini_ds, "S1", 100.0), "S1")
    page.select_option(".rm-pe-action", "give")
    _pick_unit(page, 0, "U2", "U2")
    _preview(page)
    assert page.get_attribute("html", "data-rm-preview") == "refused"
    assert page.locator(".rm-pe-finding.rm-pe-error").count() >= 1
    assert page.locator(".rm-pe-confirm").is_disabled()
    assert all(c["reason"] != "试一试" for c in _history(server))
    _clean(watched)


@pytest.mark.parametrize("who", ["unit", "inspector"])  # the two roles of the case loop that must not edit
def test_units_and_inspectors_see_no_edit_control_and_cannot_post(
    server: dict[str, str], browser: Browser, who: str
) -> None:
    base = server["base"]
    watched = _signed_in_map(browser, base, server[who])
    page = watched.page
    assert page.get_attribute("html", "data-planner-edit") == "none"
    assert page.locator(".rm-pe-toggle").count() == 0
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "respmap_csrf")
    body = {
        "effective": "2027-05-01",
        "reason": "越权",
        "places": [{"layer": "streets", "feature_id": "S1", "assignments": [{"unit_id": "U1"}]}],
    }
    answer = page.request.post(f"{base}/assignments/changes", data=body, headers={"X-CSRF-Token": csrf})
    assert answer.status == 403
    bearer = httpx.post(
        f"{base}/assignments/changes", json=body, headers={"Authorization": f"Bearer {server[who]}"}, timeout=30
    )
    assert bearer.status_code == 403
    at = page.request.get(f"{base}/assignments/at?lon=109.07&lat=32.69")
    assert at.status == 403
    assert all(c["reason"] != "越权" for c in _history(server))
    _clean(watched)


def test_signed_out_the_map_asks_nothing(server: dict[str, str], browser: Browser) -> None:
    watched = watch(browser)
    page = watched.page
    page.goto(server["base"] + "/map")
    page.wait_for_function("() => window.respmapReady === true", timeout=30_000)
    assert page.get_attribute("html", "data-planner-edit") == "signed-out"
    assert page.locator(".rm-pe-toggle").count() == 0
    _clean(watched)
