"""The case loop in the field, in Chromium on a phone-sized page against a real ``respmap serve``.

One server on a copy of the mini dataset (plus a ``categories.csv`` with a category named
as markup) and a case store in a temporary folder; users are added to that store from the
test, as ``respmap users add`` would. The phone is 360 x 740 with its position emulated.
Every page may talk only to 127.0.0.1 (anything else is aborted and recorded), and must
raise no console error and open no dialog.

The loop: an inspector reports a problem on /here with a photo; it appears in U1's /inbox
and not in U2's; U1 rectifies it with a photo; the inspector closes it on /inspect. A report
made offline is kept and sent once when the connection returns. Hostile input stays text,
and a 50 MB photo is refused on the phone before any upload.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from cases.store import open_store, store_config
from cases.users import add_user
from geo import Dataset
from geo.datums import wgs84_to_bd09, wgs84_to_gcj02
from tests.api.http_server import running_server
from tests.maps.test_browser_map import SCREENSHOTS, Watched, watch
from tests.maps.test_browser_served import wgs84_along

MINI_DIR = Path(__file__).resolve().parents[1] / "data" / "mini"
HOSTILE = "<img src=x onerror=alert(1)>"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
CATEGORIES_CSV = (
    "code,name,group,deadline_hours,severity,applies_to\n"
    "exposed_garbage,暴露垃圾,市容环境,2,2,\n"
    "illegal_ads,非法小广告,宣传广告,24,1,\n"
    f'hostile,"{HOSTILE}",<b>group</b>,24,1,\n'
)


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running server, its store folder, and the tokens of the people in it."""
    root = tmp_path_factory.mktemp("field")
    dataset = root / "mini"
    shutil.copytree(MINI_DIR, dataset)
    (dataset / "categories.csv").write_text(CATEGORIES_CSV, encoding="utf-8")
    data_dir = root / "store"
    data_dir.mkdir()
    store = open_store(config=store_config(data_dir=data_dir))
    try:
        tokens = {
            name: add_user(store, name, role, unit)[1]
            for name, role, unit in [
                ("office", "admin", None),
                ("inspector", "inspector", None),
                ("unit_u1", "unit", "U1"),
                ("unit_u2", "unit", "U2"),
            ]
        }
    finally:
        store.dispose()
    with running_server(dataset, env={"RESPMAP_DATA_DIR": str(data_dir)}) as base:
        yield {"base": base, **tokens}


def _jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 160, 90)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _phone(browser: Browser, lon: float, lat: float) -> Watched:
    return watch(
        browser,
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 5},
        permissions=["geolocation"],
        **PHONE,
    )


def _sign_in(page: Page, base: str, path: str, token: str) -> None:
    """Open a field page signed out: it sends us to /login?next=..., which brings us back."""
    page.goto(base + path)
    page.wait_for_url("**/login?next=*")
    page.wait_for_function("() => window.respmapReady === true")
    page.fill("#login-token", token)
    page.click("form.login-form button[type=submit]")
    page.wait_for_url(base + path)
    page.wait_for_function("() => window.respmapReady === true", timeout=30_000)


def _office(field: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=field["base"], headers={"Authorization": f"Bearer {field['office']}"}, timeout=30)


def _open_report(page: Page) -> None:
    page.click(".report-open")
    page.wait_for_function("() => document.documentElement.getAttribute('data-report-ready') === 'true'")


def _clean(*watched: Watched) -> None:
    for w in watched:
        assert w.errors == [] and w.blocked == [] and w.dialogs == []
        assert w.page.evaluate("document.querySelectorAll('img[src=\"x\"], b, [onerror]').length") == 0


def test_report_to_inbox_to_rectified_to_closed(field: dict[str, str], browser: Browser, mini_ds: Dataset) -> None:
    base = field["base"]
    lon, lat = wgs84_along(mini_ds, "S1", 200.0)  # U1 holds S1 0-400 m
    inspector = _phone(browser, lon, lat)
    page = inspector.page
    _sign_in(page, base, "/inspect", field["inspector"])

    # /here: located at once (permission granted), the answer first, then the report.
    page.goto(base + "/here")
    page.locator(".here-unit-main").wait_for(timeout=15_000)
    _open_report(page)
    assert "市民政局" in page.locator(".report-where-unit").inner_text()  # who is responsible, before sending
    buttons = page.locator(".field-choice")
    assert HOSTILE in buttons.all_inner_texts()  # a category named as markup is a button label, as text
    height = page.locator(".field-choice").first.bounding_box()["height"]  # type: ignore[index]
    assert height >= 48  # a touch target
    page.click(".field-choice[data-value=exposed_garbage]")
    page.fill("#report-note", f"路口垃圾 {HOSTILE}")
    page.set_input_files(
        ".report-panel .field-photo-input",
        files=[{"name": f"{HOSTILE}.jpg", "mimeType": "image/jpeg", "buffer": _jpeg(2400, 1800)}],
    )
    page.wait_for_function(
        "() => document.querySelector('.report-panel .field-photo-info')?.textContent.includes('1600')"
    )
    with page.expect_response(lambda r: r.url.endswith("/cases") and r.request.method == "POST") as posted:
        page.click(".report-send")
    assert posted.value.status == 201
    page.wait_for_function("() => document.documentElement.getAttribute('data-report-sent') === '1'")
    case = page.evaluate("respmapReport.sent[0]")
    case_id = case["case_id"]
    assert case["state"] == "dispatched" and [u["unit_id"] for u in case["units"]] == ["U1"]
    assert case["photos"][0]["width"] == 1600  # scaled on the phone before upload
    assert case["note"] == f"路口垃圾 {HOSTILE}"
    page.screenshot(path=str(SCREENSHOTS / "field_here_report.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone

    # U2 does not see it; U1 does, with the photo, the small map and the deadline, never the reporter.
    other = _phone(browser, lon, lat)
    _sign_in(other.page, base, "/inbox", field["unit_u2"])
    assert case_id not in other.page.evaluate("respmapInbox.cases")
    unit = _phone(browser, lon, lat)
    upage = unit.page
    _sign_in(upage, base, "/inbox", field["unit_u1"])
    assert case_id in upage.evaluate("respmapInbox.cases")
    card = upage.locator(f"article[data-case-id='{case_id}']")
    text = card.inner_text()
    assert "暴露垃圾" in text and "限期" in text and f"路口垃圾 {HOSTILE}" in text
    assert "inspector" not in text  # who reported is not on the card
    upage.wait_for_function(
        f"() => {{ const i = document.querySelector(\"article[data-case-id='{case_id}'] img.field-thumb\");"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert card.locator(".field-minimap.leaflet-container").count() == 1
    upage.screenshot(path=str(SCREENSHOTS / "field_inbox.png"), full_page=True)
    assert upage.evaluate("document.documentElement.scrollWidth") <= 360
    card.locator("button[data-action=rectify]").click()
    card.locator(".field-action-form textarea").fill("已清运完毕")
    card.locator(".field-action-form .field-photo-input").set_input_files(
        files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": _jpeg(800, 600)}]
    )
    upage.wait_for_function(
        f"() => document.querySelector(\"article[data-case-id='{case_id}'] .field-photo-info\").textContent.includes('800')"
    )
    with upage.expect_response(lambda r: r.url.endswith(f"/cases/{case_id}/events")) as acted:
        card.locator(".field-action-form .field-primary").click()
    assert acted.value.status == 200
    upage.wait_for_function(f"() => !respmapInbox.cases.includes('{case_id}')")
    assert upage.locator(f".field-list-waiting article[data-case-id='{case_id}']").count() == 1

    # The inspector checks it: before and after side by side, the unit's note, then close.
    page.goto(base + "/inspect")
    page.wait_for_function("() => window.respmapReady === true")
    page.wait_for_function(f"() => (respmapInspect.checks || []).includes('{case_id}')")
    check = page.locator(f"article[data-case-id='{case_id}']").first
    assert check.locator(".field-compare img.field-photo-big").count() == 2
    assert "已清运完毕" in check.inner_text()
    page.wait_for_function("() => (respmapInspect.near || []).length >= 0")
    page.screenshot(path=str(SCREENSHOTS / "field_inspect.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_response(lambda r: r.url.endswith(f"/cases/{case_id}/events")) as closed:
        check.locator("button[data-action=close]").click()
    assert closed.value.status == 200
    page.wait_for_function(f"() => !respmapInspect.checks.includes('{case_id}')")

    with _office(field) as office:
        final = office.get(f"/cases/{case_id}").json()
    assert final["state"] == "closed"
    assert [e["action"] for e in final["events"]] == ["report", "dispatch", "rectify", "close"]
    assert len(final["photos"]) == 2
    _clean(inspector, other, unit)
    for w in (inspector, other, unit):
        w.page.context.close()


def test_offline_report_is_sent_once_when_back_online(
    field: dict[str, str], browser: Browser, mini_ds: Dataset
) -> None:
    base = field["base"]
    lon, lat = wgs84_along(mini_ds, "S1", 700.0)  # U2's stretch
    phone = _phone(browser, lon, lat)
    page = phone.page
    page.goto(base + "/here")  # not signed in: a public report
    page.locator(".here-unit-main").wait_for(timeout=15_000)
    _open_report(page)
    marker = "离线上报测试 offline-once"
    page.context.set_offline(True)
    page.wait_for_function("() => navigator.onLine === false")
    page.click(".field-choice[data-value=illegal_ads]")
    page.fill("#report-note", marker)
    page.click(".report-send")
    page.wait_for_function("() => document.documentElement.getAttribute('data-report-pending') === '1'")
    assert "已保存" in page.locator(".report-status").inner_text()
    kept_at = dt.datetime.fromisoformat(page.evaluate("new Date().toISOString()").replace("Z", "+00:00"))
    page.wait_for_timeout(2000)  # the signal comes back a while later
    with _office(field) as office:
        assert office.get("/cases", params={"category": "illegal_ads"}).json()["numberMatched"] == 0

    with page.expect_response(lambda r: r.url.endswith("/cases") and r.request.method == "POST") as posted:
        page.context.set_offline(False)
    assert posted.value.status == 201
    page.wait_for_function("() => document.documentElement.getAttribute('data-report-pending') === '0'")
    sent = page.evaluate("respmapReport.sent")
    assert len(sent) == 1 and sent[0]["state"] == "reported"  # public: waits for the office
    # Back online again later, and a fresh page: nothing is left to send, nothing is sent twice.
    page.reload()
    page.wait_for_function("() => window.respmapReady === true")
    _open_report(page)
    page.wait_for_function("() => document.documentElement.getAttribute('data-report-pending') === '0'")
    with _office(field) as office:
        found = office.get("/cases", params={"category": "illegal_ads"}).json()
        assert found["numberMatched"] == 1
        (only,) = found["features"]
        assert only["properties"]["note"] == marker and only["properties"]["state"] == "reported"
        # The time kept is when it was made offline, not when it arrived (2 s later).
        reported = dt.datetime.fromisoformat(only["properties"]["reported_at"])
        assert dt.timedelta(0) <= kept_at - reported < dt.timedelta(seconds=2)
        detail = office.get(f"/cases/{only['id']}").json()
        assert [u["unit_id"] for u in detail["units"]] == ["U2"]
    _clean(phone)
    phone.page.context.close()


def test_a_50_mb_photo_and_a_page_named_jpg_are_refused_on_the_phone(
    field: dict[str, str], browser: Browser, mini_ds: Dataset, tmp_path: Path
) -> None:
    base = field["base"]
    lon, lat = wgs84_along(mini_ds, "S1", 200.0)
    phone = _phone(browser, lon, lat)
    page = phone.page
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(base + "/here")
    page.locator(".here-unit-main").wait_for(timeout=15_000)
    _open_report(page)
    info = page.locator(".report-panel .field-photo-info")
    huge = tmp_path / "huge.jpg"  # 50 MB: a JPEG's first bytes, then zeros
    huge.write_bytes(b"\xff\xd8\xff" + bytes(50 * 1024 * 1024))
    page.set_input_files(".report-panel .field-photo-input", files=[str(huge)])
    page.wait_for_function(
        "() => document.querySelector('.report-panel .field-photo-info')?.textContent.includes('MB')"
    )
    assert "超过服务器上限 10 MB" in info.inner_text() and "50" in info.inner_text()
    assert page.locator(".report-panel .field-photo-input").input_value() == ""  # the file is dropped
    # A web page dressed as a photo: refused as unreadable, its name shown as text.
    page.set_input_files(
        ".report-panel .field-photo-input",
        files=[{"name": f"{HOSTILE}.jpg", "mimeType": "image/jpeg", "buffer": f"<html>{HOSTILE}</html>".encode()}],
    )
    page.wait_for_function(
        "() => document.querySelector('.report-panel .field-photo-info')?.textContent.includes('无法读取')"
    )
    assert posts == []  # nothing was uploaded
    # A browser without createImageBitmap (older WebViews) still scales the photo, through an <img>.
    page.evaluate("window.createImageBitmap = undefined")
    page.set_input_files(
        ".report-panel .field-photo-input",
        files=[{"name": "old-phone.jpg", "mimeType": "image/jpeg", "buffer": _jpeg(2400, 1800)}],
    )
    page.wait_for_function(
        "() => document.querySelector('.report-panel .field-photo-info')?.textContent.includes('1600×1200')"
    )
    # The server refuses the same 50 MB upload too, with a message that says why.
    with httpx.Client(base_url=base, timeout=60) as client:
        answer = client.post(
            "/cases",
            data={"category": "exposed_garbage", "lon": str(lon), "lat": str(lat)},
            files={"photo": ("huge.jpg", huge.read_bytes(), "image/jpeg")},
        )
    assert answer.status_code == 413 and "larger than" in answer.json()["message"]
    _clean(phone)
    phone.page.context.close()


def test_login_follows_only_paths_on_this_site(field: dict[str, str], browser: Browser) -> None:
    phone = watch(browser, **PHONE)
    page = phone.page
    page.goto(field["base"] + "/login?next=//evil.example/x")
    page.wait_for_function("() => window.respmapReady === true")
    page.fill("#login-token", field["unit_u1"])
    page.click("form.login-form button[type=submit]")
    page.wait_for_url(field["base"] + "/inbox")  # the unit's home, not the other site
    page.wait_for_function("() => window.respmapReady === true")
    # A unit on the inspector's page is told so, and given nothing to act on.
    page.goto(field["base"] + "/inspect")
    page.wait_for_function("() => window.respmapReady === true")
    assert "督查员" in page.locator("#field-status").inner_text()
    assert page.locator("button[data-action]").count() == 0
    # Nor may a unit report under its name on /here (the engine would refuse it): said before trying.
    page.goto(field["base"] + "/here")
    page.wait_for_function("() => window.respmapReady === true")
    _open_report(page)
    page.wait_for_function("() => document.querySelector('.report-who')?.textContent.includes('不能上报')")
    assert page.locator(".report-send").is_disabled()
    _clean(phone)
    phone.page.context.close()


@pytest.mark.parametrize("path", ["/login", "/inbox", "/inspect", "/here"])
def test_field_pages_are_offline_and_strict(field: dict[str, str], path: str) -> None:
    answer = httpx.get(field["base"] + path, timeout=30)
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    if path != "/here":
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy  # no inline script at all
    assert "https://" not in answer.text and "http://" not in answer.text  # nothing from elsewhere


def test_served_map_shows_cases_by_state_for_the_signed_in(
    field: dict[str, str], browser: Browser, mini_ds: Dataset
) -> None:
    base = field["base"]
    lon, lat = wgs84_along(mini_ds, "S1", 300.0)
    with _office(field) as office:
        made = office.post(
            "/cases",
            data={"lon": str(lon), "lat": str(lat), "category": "exposed_garbage", "note": f"地图 {HOSTILE}"},
            files={"photo": (f"{HOSTILE}.jpg", _jpeg(640, 480), "image/jpeg")},
        )
        assert made.status_code == 201
        case_id = made.json()["case_id"]
        expected = {
            f["id"]: f["properties"]["state"] for f in office.get("/cases", params={"limit": 1000}).json()["features"]
        }
    # Signed out, the map asks for nothing and offers the sign-in page instead.
    desk = watch(browser)
    page = desk.page
    page.goto(base + "/map")
    page.wait_for_function("() => document.documentElement.getAttribute('data-cases-loaded') === 'signed-out'")
    assert page.locator(".rm-cases-login").get_attribute("href") == "/login?next=%2Fmap"
    # The office signs in from there and comes back to the map with every case, grouped by its state.
    page.click(".rm-cases-login")
    page.wait_for_url("**/login?next=*")
    page.wait_for_function("() => window.respmapReady === true")
    page.fill("#login-token", field["office"])
    page.click("form.login-form button[type=submit]")
    page.wait_for_url(base + "/map")
    page.wait_for_function("() => /^[0-9]+$/.test(document.documentElement.getAttribute('data-cases-loaded') || '')")
    shown = {m["case_id"]: m for m in page.evaluate("respmapCases.markers")}
    assert {k: v["state"] for k, v in shown.items()} == expected
    assert shown[case_id]["group"] == "open"
    assert all(m["group"] == "closed" for m in shown.values() if m["state"] == "closed")
    # Its popup: the history, the note as text.
    page.evaluate(
        """(id) => { const m = respmapCases.cluster.getLayers().find(l => l.caseId === id);
                     respmapCases.cluster.zoomToShowLayer(m, () => m.fire('click')); }""",
        case_id,
    )
    page.wait_for_function(f"() => document.documentElement.getAttribute('data-case-popup') === '{case_id}'")
    popup = page.locator(".leaflet-popup-content .rm-case").inner_text()
    assert "上报" in popup and "派遣" in popup and f"地图 {HOSTILE}" in popup
    page.wait_for_function(
        "() => { const i = document.querySelector('.leaflet-popup-content .rm-case-photos img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )  # the photo, fetched with the office's session
    # Unticking "open" hides it; the count stays.
    page.locator(".rm-cases-group input[data-group=open]").uncheck()
    assert case_id not in {m["case_id"] for m in page.evaluate("respmapCases.markers")}
    page.screenshot(path=str(SCREENSHOTS / "field_map_cases.png"))
    _clean(desk)
    desk.page.context.close()


def test_unit_disputes_and_inspector_sends_back(field: dict[str, str], browser: Browser, mini_ds: Dataset) -> None:
    base = field["base"]
    lon, lat = wgs84_along(mini_ds, "S1", 100.0)
    inspector_api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {field['inspector']}"}, timeout=30)
    unit_api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {field['unit_u1']}"}, timeout=30)
    with inspector_api, unit_api:
        disputed = inspector_api.post("/cases", json={"lon": lon, "lat": lat, "category": "illegal_ads"}).json()
        checked = inspector_api.post("/cases", json={"lon": lon, "lat": lat, "category": "exposed_garbage"}).json()
        unit_api.post(
            f"/cases/{checked['case_id']}/events", json={"action": "rectify", "note": "扫了"}
        ).raise_for_status()

        unit = _phone(browser, lon, lat)
        upage = unit.page
        _sign_in(upage, base, "/inbox", field["unit_u1"])
        card = upage.locator(f"article[data-case-id='{disputed['case_id']}']")
        card.locator("button[data-action=dispute]").click()
        card.locator(".field-action-form .field-primary").click()  # no reason yet: refused on the page
        assert "理由" in card.locator(".field-form-status").inner_text()
        card.locator(".field-action-form textarea").fill(f"不是本单位的路段 {HOSTILE}")
        with upage.expect_response(lambda r: r.url.endswith(f"/cases/{disputed['case_id']}/events")) as acted:
            card.locator(".field-action-form .field-primary").click()
        assert acted.value.status == 200
        upage.wait_for_function("() => document.querySelector('#field-status')?.textContent.includes('申请改派')")
        events = inspector_api.get(f"/cases/{disputed['case_id']}").json()["events"]
        assert events[-1]["action"] == "dispute" and events[-1]["note"] == f"不是本单位的路段 {HOSTILE}"

        inspector = _phone(browser, lon, lat)
        page = inspector.page
        _sign_in(page, base, "/inspect", field["inspector"])
        page.wait_for_function(f"() => (respmapInspect.checks || []).includes('{checked['case_id']}')")
        check = page.locator(f"article[data-case-id='{checked['case_id']}']")
        check.locator("button[data-action=send_back]").click()  # no note: refused on the page
        assert "理由" in check.locator(".field-form-status").inner_text()
        check.locator("textarea").fill("背街还有垃圾")
        with page.expect_response(lambda r: r.url.endswith(f"/cases/{checked['case_id']}/events")) as sent:
            check.locator("button[data-action=send_back]").click()
        assert sent.value.status == 200
        page.wait_for_function(f"() => !respmapInspect.checks.includes('{checked['case_id']}')")
        # Sent back: dispatched again, and near the inspector it is an open case now.
        page.wait_for_function(f"() => (respmapInspect.near || []).includes('{checked['case_id']}')")
        after = inspector_api.get(f"/cases/{checked['case_id']}").json()
        assert after["state"] == "dispatched" and after["events"][-1]["action"] == "send_back"
        _clean(unit, inspector)
        unit.page.context.close()
        inspector.page.context.close()


@pytest.mark.parametrize(
    ("datum", "shift", "pasted"),
    [
        # AMap / Tencent copy "lon,lat" in GCJ-02 (about 500 m off GPS at Ankang)
        ("gcj02", wgs84_to_gcj02, "{lon:.7f},{lat:.7f}"),
        # Baidu copies BD-09; a full-width comma and "lat, lon" order pasted by hand are understood too
        ("bd09", wgs84_to_bd09, "{lat:.7f}，{lon:.7f}"),
    ],
)
def test_typed_coordinates_from_chinese_map_apps(
    field: dict[str, str], browser: Browser, mini_ds: Dataset, datum: str, shift: object, pasted: str
) -> None:
    base = field["base"]
    lon, lat = wgs84_along(mini_ds, "S1", 700.0)  # U2's stretch, where the phone really is
    shown_lon, shown_lat = shift(lon, lat)  # type: ignore[operator]
    phone = watch(browser, **PHONE)  # no position from the phone: typed instead
    page = phone.page
    page.goto(base + "/here?lang=zh")
    page.wait_for_function("() => window.respmapReady === true")
    _open_report(page)
    assert "先定位" in page.locator(".report-where").inner_text()
    page.fill(".report-typed-input", pasted.format(lon=shown_lon, lat=shown_lat))
    page.select_option(".report-datum", datum)
    with page.expect_response(lambda r: "/lookup?" in r.url) as asked:
        page.click(".report-typed-go")
    assert f"crs={datum}" in asked.value.url
    page.wait_for_function("() => document.querySelector('.report-where-unit')?.textContent.includes('市住建局')")
    page.click(".field-choice[data-value=exposed_garbage]")
    with page.expect_response(lambda r: r.url.endswith("/cases") and r.request.method == "POST") as posted:
        page.click(".report-send")
    case = posted.value.json()
    assert case["given"]["crs"] == datum and [u["unit_id"] for u in case["units"]] == ["U2"]
    assert abs(case["lon"] - lon) < 2e-6 and abs(case["lat"] - lat) < 2e-6  # back to WGS-84 on the server
    _clean(phone)
    phone.page.context.close()


def test_field_pages_in_english(field: dict[str, str]) -> None:
    answer = httpx.get(field["base"] + "/inbox", params={"lang": "en"}, timeout=30)
    assert answer.status_code == 200 and '<html lang="en">' in answer.text
    assert '<h1 class="field-title" id="field-title">Our open cases</h1>' in answer.text
    assert '"rectify":"Rectified"' in answer.text.replace(" ", "")
    assert (
        httpx.get(field["base"] + "/inbox", params={"lang": "fr"}, timeout=30).status_code == 400
    )  # named, not guessed


def test_here_opens_with_no_signal_and_the_report_waits(
    field: dict[str, str], browser: Browser, mini_ds: Dataset
) -> None:
    base = field["base"]
    lon, lat = wgs84_along(mini_ds, "S1", 900.0)  # U2's stretch
    phone = _phone(browser, lon, lat)
    page = phone.page
    page.goto(base + "/here")  # once with signal: the worker keeps the page
    page.wait_for_function("() => Number(document.documentElement.getAttribute('data-offline-ready') || 0) > 3")
    page.context.set_offline(True)
    page.reload()  # in an old alley: the page opens from what the worker kept
    page.wait_for_function("() => window.respmapReady === true && navigator.onLine === false")
    assert "没有网络" in page.locator("#here-status").inner_text()  # located, but no lookup tried
    _open_report(page)
    assert "离线" in page.locator(".report-where-unit").inner_text()
    page.click(".field-choice[data-value=hostile]")  # categories kept from the online visit
    page.fill("#report-note", "无信号上报")
    page.click(".report-send")
    page.wait_for_function("() => document.documentElement.getAttribute('data-report-pending') === '1'")
    with page.expect_response(lambda r: r.url.endswith("/cases") and r.request.method == "POST") as posted:
        page.context.set_offline(False)
    assert posted.value.status == 201
    page.wait_for_function("() => document.documentElement.getAttribute('data-report-pending') === '0'")
    with _office(field) as office:
        found = office.get("/cases", params={"category": "hostile"}).json()
    assert [f["properties"]["note"] for f in found["features"]] == ["无信号上报"]
    assert [u["unit_id"] for u in found["features"][0]["properties"]["units"]] == ["U2"]
    _clean(phone)
    phone.page.context.close()


def test_a_lost_answer_makes_no_second_case(field: dict[str, str], browser: Browser, mini_ds: Dataset) -> None:
    """The report reaches the server but its answer is lost: the page keeps it, sends it again, one case."""
    base = field["base"]
    lon, lat = wgs84_along(mini_ds, "S1", 1100.0)  # nobody's stretch: the district's HQ answers
    phone = _phone(browser, lon, lat)
    page = phone.page
    page.goto(base + "/here")
    page.locator(".here-unit-main").wait_for(timeout=15_000)
    _open_report(page)
    lost: list[int] = []

    def lose_first_answer(route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if request.method == "POST" and not lost:
            lost.append(route.fetch().status)  # type: ignore[attr-defined]  # the server did the work...
            route.abort("internetdisconnected")  # type: ignore[attr-defined]  # ...the phone never hears
        else:
            route.continue_()  # type: ignore[attr-defined]

    page.route("**/cases", lose_first_answer)
    page.click(".field-choice[data-value=exposed_garbage]")
    page.fill("#report-note", "回执丢失")
    page.click(".report-send")
    page.wait_for_function("() => document.documentElement.getAttribute('data-report-pending') === '1'")
    assert lost == [201]
    # The retry timer would send it within 15 s; the test does not wait for the clock.
    with page.expect_response(lambda r: r.url.endswith("/cases") and r.request.method == "POST") as again:
        page.evaluate("respmapReport.flush()")
    assert again.value.status == 201
    page.wait_for_function("() => document.documentElement.getAttribute('data-report-pending') === '0'")
    with _office(field) as office:
        found = office.get("/cases", params={"limit": 1000}).json()["features"]
    assert [f["properties"]["note"] for f in found].count("回执丢失") == 1
    assert page.evaluate("respmapReport.sent.length") == 1
    # The one console error is the aborted request itself.
    assert all("ERR_INTERNET_DISCONNECTED" in e for e in phone.errors) and len(phone.errors) <= 1
    phone.errors.clear()
    _clean(phone)
    phone.page.context.close()
