"""The cases layer in a file: ``respmap map -o --cases PERIOD`` draws the period's cases from the store.

The served layer is driven in tests/maps/test_field_browser.py; here the layer lives inside a
self-contained HTML file (file://, nothing served): every case of the period is a marker in
its state group (overdue computed at the time the file is written), the popup carries the
history with markup as text, the filters hide and show, and nothing about the reporter leaves
the store.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from api.cli import main
from cases.categories import load_categories
from cases.service import CaseService
from cases.store import open_store, store_config
from cases.users import add_user, authenticate
from geo import Dataset
from geo.datums import to_wgs84
from maps.cases_layer import CasesLayer, group_of
from tests.cases.conftest import MovableClock
from tests.maps.test_browser_map import SCREENSHOTS, watch

MINI_DIR = Path(__file__).resolve().parents[1] / "data" / "mini"
HOSTILE = "<img src=x onerror=alert(1)>"
ON_S1 = to_wgs84(600200.0, 3618800.0, "EPSG:4545")  # U1's stretch of S1
IN_C2 = to_wgs84(601002.0, 3618102.0, "EPSG:4545")  # compound C2: U2


@pytest.mark.parametrize(
    ("case", "group"),
    [
        ({"state": "dispatched", "overdue": False}, "open"),  # running, in time
        ({"state": "postponed", "overdue": True}, "overdue"),  # running, deadline passed
        ({"state": "reported", "overdue": False}, "open"),  # a public report waiting for the office
        ({"state": "rectified", "overdue": False}, "rectified"),  # waiting for the inspector, not late
        ({"state": "closed", "overdue": False}, "closed"),  # done
        ({"state": "rejected", "overdue": False}, "closed"),  # not a case: off the map's open work
    ],
)
def test_group_of(case: dict[str, object], group: str) -> None:
    assert group_of(case) == group


def test_static_payload_keeps_people_out() -> None:
    case = {
        "case_id": "20260302-000001",
        "state": "closed",
        "lon": 109.0,
        "lat": 32.7,
        "reporter_id": 7,
        "reporter_contact": "citizen@example.org",
        "source": "public",
        "units": [{"unit_id": "U1", "name": "市民政局", "role": "lead"}],
        "events": [{"at": "2026-03-02T10:00:00+08:00", "action": "report", "by_user_id": 7, "note": "n"}],
    }
    text = json.dumps(CasesLayer.static([case]).payload("zh"), ensure_ascii=False)
    assert "citizen@example.org" not in text and "by_user_id" not in text and "reporter" not in text
    assert '"group": "closed"' in text


@pytest.fixture(scope="module")
def written_map(tmp_path_factory: pytest.TempPathFactory, mini_ds: Dataset) -> Iterator[tuple[Path, dict[str, str]]]:
    """A store with one case in each group, and the map file ``respmap map --cases all`` writes from it."""
    folder = tmp_path_factory.mktemp("cases-map")
    store = open_store(config=store_config(data_dir=folder))
    try:
        office = authenticate(store, add_user(store, "office", "admin")[1])
        unit = authenticate(store, add_user(store, "u1", "unit", "U1")[1])
        weeks_ago = MovableClock(dt.datetime.now(dt.UTC) - dt.timedelta(days=20))  # every deadline long past
        old = CaseService(store, mini_ds, load_categories(mini_ds.path), clock=weeks_ago)
        late = old.create(office, lon=ON_S1[0], lat=ON_S1[1], category="exposed_garbage", note="超期未办")
        fixed = old.create(office, lon=ON_S1[0], lat=ON_S1[1], category="dirty_road", note="待核查")
        old.act(unit, fixed["case_id"], "rectify", note="已扫")
        done = old.create(office, lon=ON_S1[0], lat=ON_S1[1], category="illegal_ads", note="已结")
        old.act(unit, done["case_id"], "rectify", note="已清")
        old.act(office, done["case_id"], "close", note="核查通过")
        now = CaseService(store, mini_ds, load_categories(mini_ds.path))  # the real clock: not late yet
        fresh = now.create(office, lon=IN_C2[0], lat=IN_C2[1], category="accumulated_waste", note=f"新 {HOSTILE}")
    finally:
        store.dispose()
    output = folder / "城市.html"
    environment = {"RESPMAP_DATA_DIR": str(folder)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in environment.items():
            patch.setenv(key, value)
        assert main(["map", "-o", str(output), "--cases", "all", "--dataset", str(MINI_DIR)]) == 0
    ids = {"overdue": late["case_id"], "rectified": fixed["case_id"], "closed": done["case_id"]}
    yield output, {**ids, "open": fresh["case_id"]}


def test_file_carries_the_cases_and_clustering_inline(written_map: tuple[Path, dict[str, str]]) -> None:
    output, ids = written_map
    html = output.read_text(encoding="utf-8")
    assert "L.MarkerClusterGroup" in html  # the plugin is inside the file
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html)  # and nothing from elsewhere
    assert all(case_id in html for case_id in ids.values())
    assert HOSTILE not in html  # markup in a note travels escaped inside the JSON


def test_map_without_cases_has_no_layer(tmp_path: Path) -> None:
    output = tmp_path / "plain.html"
    assert main(["map", "-o", str(output), "--dataset", str(MINI_DIR)]) == 0
    html = output.read_text(encoding="utf-8")
    assert "MarkerClusterGroup" not in html and '"cases"' not in html


def test_file_map_draws_each_case_in_its_group(browser: Browser, written_map: tuple[Path, dict[str, str]]) -> None:
    output, ids = written_map
    watched = watch(browser)
    page = watched.page
    page.goto(output.as_uri())
    page.wait_for_function(
        "() => window.respmapReady === true && document.documentElement.hasAttribute('data-cases-drawn')"
    )
    groups = {m["case_id"]: m["group"] for m in page.evaluate("respmapCases.markers")}
    assert groups == {case_id: group for group, case_id in ids.items()}
    counts = {g: page.locator(f".rm-cases-group:has(input[data-group={g}]) .rm-cases-count").inner_text() for g in ids}
    assert counts == {"overdue": "1", "rectified": "1", "closed": "1", "open": "1"}
    # The popup of the open case: the history and the note, markup as text.
    page.evaluate(
        """(id) => { const m = respmapCases.cluster.getLayers().find(l => l.caseId === id);
                     respmapCases.cluster.zoomToShowLayer(m, () => m.fire('click')); }""",
        ids["open"],
    )
    popup = page.locator(".leaflet-popup-content .rm-case")
    popup.wait_for()
    text = popup.inner_text()
    assert f"新 {HOSTILE}" in text and "积存垃圾渣土" in text and "上报" in text
    # Filters: a category, then a period that ends before today.
    page.select_option(".rm-cases-category", "illegal_ads")
    assert [m["case_id"] for m in page.evaluate("respmapCases.markers")] == [ids["closed"]]
    page.select_option(".rm-cases-category", "")
    page.fill(".rm-cases-to", (dt.date.today() - dt.timedelta(days=10)).isoformat())
    page.dispatch_event(".rm-cases-to", "change")
    shown = {m["case_id"] for m in page.evaluate("respmapCases.markers")}
    assert shown == {ids["overdue"], ids["rectified"], ids["closed"]}
    page.screenshot(path=str(SCREENSHOTS / "field_file_cases.png"))
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"], [onerror]').length") == 0
    assert watched.errors == [] and watched.blocked == [] and watched.dialogs == []
    watched.page.context.close()


def test_cases_of_one_period_only(tmp_path: Path, written_map: tuple[Path, dict[str, str]]) -> None:
    output, ids = written_map
    other_year = str(dt.date.today().year - 3)  # a year with no case
    target = tmp_path / "empty.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RESPMAP_DATA_DIR", str(output.parent))
        assert main(["map", "-o", str(target), "--cases", other_year, "--dataset", str(MINI_DIR)]) == 0
    html = target.read_text(encoding="utf-8")
    assert '"mode":"static","cases":[]' in html.replace(" ", "") and not any(i in html for i in ids.values())


def test_cases_option_names_a_bad_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["map", "-o", str(tmp_path / "x.html"), "--cases", "2026-13", "--dataset", str(MINI_DIR)])
    assert code == 2
    assert "2026-13" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_overdue_is_judged_when_the_file_is_written(written_map: tuple[Path, dict[str, str]]) -> None:
    output, ids = written_map
    html = output.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="respmap-data">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    by_id = {c["case_id"]: c for c in data["cases"]["cases"]}
    assert by_id[ids["overdue"]]["overdue"] is True and by_id[ids["open"]]["overdue"] is False
    assert by_id[ids["open"]]["reported_at"] > by_id[ids["overdue"]]["reported_at"]
