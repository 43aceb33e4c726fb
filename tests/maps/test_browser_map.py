"""The self-contained map file in a real browser (Debian's Chromium, headless, via Playwright).

Every request the page makes is routed through a handler that lets only
file:// and 127.0.0.1 through and records the rest, so "works offline" is
checked, not assumed. Screenshots go to tests/screenshots/ for a person to
look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Dialog, Page

from geo import Dataset, load_dataset
from geo.datums import haversine_m, wgs84_to_gcj02
from maps.interactive import MapOptions, render_map
from maps.payload import build_payload, layer_counts

TESTS = Path(__file__).resolve().parents[1]
SCREENSHOTS = TESTS / "screenshots"
HOSTILE_DIR = TESTS / "data" / "hostile"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DAY = pd.Timestamp("2026-03-01")


@dataclass
class Watched:
    """A page and what it did: console errors, dialogs, requests that tried to leave the machine."""

    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def is_local(url: str) -> bool:
    return url.startswith(("file://", "data:", "blob:", "http://127.0.0.1:", "http://127.0.0.1/", "about:"))


def watch(browser: Browser, **context_options: object) -> Watched:
    """A fresh page whose non-local requests are aborted and recorded."""
    context_options.setdefault("viewport", {"width": 1280, "height": 800})
    context = browser.new_context(**context_options)
    page = context.new_page()
    watched = Watched(page)

    def route(handle: object) -> None:
        request = handle.request  # type: ignore[attr-defined]
        if is_local(request.url):
            handle.continue_()  # type: ignore[attr-defined]
        else:
            watched.blocked.append(request.url)
            handle.abort()  # type: ignore[attr-defined]

    def on_dialog(dialog: Dialog) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    context.route("**/*", route)
    page.on("console", lambda message: watched.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: watched.errors.append(f"pageerror: {error}"))
    page.on("dialog", on_dialog)
    return watched


def open_map(watched: Watched, url: str) -> Page:
    page = watched.page
    page.goto(url)
    page.wait_for_function("() => window.respmapReady === true", timeout=30_000)
    return page


def click_at(page: Page, lat: float, lon: float) -> None:
    """Click the map where (lat, lon) is drawn."""
    x, y = page.evaluate(
        f"(() => {{ const p = respmap.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
    )
    box = page.locator(".leaflet-container").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.click(box["x"] + x, box["y"] + y)


def point_on(page: Page, feature_id: str, stretch_start: str = "") -> tuple[float, float]:
    """The middle vertex (lat, lon) of a drawn feature, found through the page's own shapes."""
    return tuple(
        page.evaluate(
            """([fid, start]) => {
                for (const info of respmap.infos) {
                    for (const s of info.shapes) {
                        if (s.feature.f === fid && (s.feature.t || '').startsWith(start)) {
                            if (s.getLatLng) { const p = s.getLatLng(); return [p.lat, p.lng]; }
                            const flat = s.getLatLngs().flat(3);
                            if (info.layer.kind === 'line') { const a = flat[0], b = flat[flat.length - 1]; return [(a.lat + b.lat) / 2, (a.lng + b.lng) / 2]; }
                            const c = s.getBounds().getCenter(); return [c.lat, c.lng];
                        }
                    }
                }
                return null;
            }""",
            [feature_id, stretch_start],
        )
    )


def close_popups(page: Page) -> None:
    """Close the open popup and wait until its fade-out has removed it from the page."""
    page.evaluate("respmap.map.closePopup()")
    page.wait_for_function("() => document.querySelectorAll('.leaflet-popup').length === 0")


@pytest.fixture(scope="module")
def maps_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return tmp_path_factory.mktemp("maps")


def write_map(ds: Dataset, options: MapOptions, target: Path) -> str:
    target.write_text(render_map(ds, options), encoding="utf-8")
    return target.as_uri()


# -- the demo city map ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "colour_by",
    [
        "unit",  # the default colouring, many legend entries
        "coverage",  # districts filled as fallback, conflicts on top
    ],
)
def test_demo_city_map_draws_every_feature_offline(
    browser: Browser, demo_ds: Dataset, maps_dir: Path, colour_by: str
) -> None:
    options = MapOptions(colour_by=colour_by)  # type: ignore[arg-type]
    expected = layer_counts(build_payload(demo_ds, options))
    watched = watch(browser)
    page = open_map(watched, write_map(demo_ds, options, maps_dir / f"demo_{colour_by}.html"))
    page.screenshot(path=str(SCREENSHOTS / f"map_demo_city_{colour_by}.png"))
    assert watched.errors == [] and watched.blocked == [] and watched.dialogs == []
    assert page.evaluate("window.respmapCounts") == expected
    assert page.evaluate("window.respmapDrawn") == expected  # in the city view every feature is on screen
    assert expected["back_streets"] >= 177 and expected["districts"] == 16
    legend = page.locator(".rm-legend-item")
    assert legend.count() == len(build_payload(demo_ds, options)["legend"]["entries"]) >= 4
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-locate").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    watched.page.context.close()


# -- the mini map: toggling, popups, search, measure -------------------------------------------------
@pytest.fixture(scope="module")
def mini_page(browser: Browser, mini_ds: Dataset, maps_dir: Path) -> Iterator[Watched]:
    watched = watch(browser)
    open_map(watched, write_map(mini_ds, MapOptions(date=DAY), maps_dir / "mini.html"))
    yield watched
    watched.page.context.close()


def test_toggling_a_layer_hides_it(mini_page: Watched) -> None:
    page = mini_page.page
    before = page.evaluate("respmap.countDrawn()")
    assert before["streets"] == 4
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="背街小巷").locator("input")
    toggle.click()
    hidden = page.evaluate("respmap.countDrawn()")
    assert hidden["streets"] == 0 and hidden["compounds"] == before["compounds"] and hidden["districts"] == 2
    toggle.click()
    assert page.evaluate("respmap.countDrawn()") == before
    # Switched back on, the streets are drawn above the districts again (draw order restored).
    order = page.evaluate(
        "(() => { const out = []; for (let o = respmap.renderer._drawFirst; o; o = o.next) out.push(o.layer.feature.f); return out; })()"
    )
    assert order.index("D1") < order.index("S1")


def test_clicking_a_street_stretch_shows_its_units(mini_page: Watched) -> None:
    page = mini_page.page
    lat, lon = point_on(page, "S1", "0")
    click_at(page, lat, lon)
    popup = page.locator(".leaflet-popup-content .rm-card")
    popup.wait_for()
    text = popup.inner_text()
    assert "幸福巷" in text or "S1" in text
    assert "0–400米" in text
    assert "市民政局" in text and "张强" in text and "老城街道办事处" in text  # lead and supervisor
    assert popup.locator("a.rm-phone").first.get_attribute("href") == "tel:09153200003"
    page.wait_for_timeout(400)  # let the popup's fade-in and auto-pan finish before the picture
    page.screenshot(path=str(SCREENSHOTS / "map_mini_popup.png"))
    close_popups(page)


def test_search_by_name_opens_the_place(mini_page: Watched) -> None:
    page = mini_page.page
    close_popups(page)
    page.fill(".rm-search-input", "无人")
    hits = page.locator(".rm-search-hit")
    assert hits.first.inner_text().startswith("无人小区")
    hits.first.click()
    popup = page.locator(".leaflet-popup-content .rm-card")
    popup.wait_for()
    assert "无人小区" in popup.inner_text() and "本处无责任单位" in popup.inner_text()
    page.fill(".rm-search-input", "")
    close_popups(page)
    page.evaluate("respmap.map.fitBounds(respmap.data.view.bounds, {animate: false})")


def test_measuring_two_clicks_gives_their_distance(mini_page: Watched) -> None:
    page = mini_page.page
    close_popups(page)
    page.locator(".rm-measure-button").click()
    box = page.locator(".leaflet-container").bounding_box()
    assert box is not None
    points = [(400, 420), (700, 460)]
    for x, y in points:
        page.mouse.click(box["x"] + x, box["y"] + y)
    measured = page.evaluate("respmap.measured_m")
    ends = page.evaluate(
        "pts => pts.map(p => { const l = respmap.map.containerPointToLatLng(p); return [l.lng, l.lat]; })", points
    )
    expected = float(haversine_m(ends[0][0], ends[0][1], ends[1][0], ends[1][1]))
    assert measured == pytest.approx(expected, rel=0.005)
    assert page.locator(".leaflet-popup").count() == 0  # measuring clicks open no popups
    page.locator(".rm-measure-button").click()
    assert page.evaluate("respmap.measuring") is False


def test_unit_view_fits_the_unit(browser: Browser, mini_ds: Dataset, maps_dir: Path) -> None:
    watched = watch(browser)
    page = open_map(watched, write_map(mini_ds, MapOptions(unit="U2", date=DAY), maps_dir / "mini_u2.html"))
    inside = page.evaluate(
        """(() => { const b = respmap.map.getBounds(); const out = {};
            for (const info of respmap.infos) for (const s of info.shapes) if (!s.feature.w && info.layer.kind !== 'district')
                out[s.feature.f + (s.feature.t || '')] = b.contains(s.getBounds ? s.getBounds() : s.getLatLng());
            return out; })()"""
    )
    assert inside == {"C2": True, "S1400–1000米": True, "C1": True} or all(
        inside[key] for key in ("C2", "S1400–1000米")
    )
    assert page.locator(".rm-title-sub").inner_text().startswith("单位: 市住建局")
    page.screenshot(path=str(SCREENSHOTS / "map_mini_unit_u2.png"))
    assert watched.errors == [] and watched.blocked == []
    watched.page.context.close()


def test_browser_gcj02_shift_matches_python(mini_page: Watched) -> None:
    points = [(109.03, 32.69), (116.39, 39.91), (121.47, 31.23), (2.35, 48.86)]  # Ankang, Beijing, Shanghai, Paris
    got = mini_page.page.evaluate("pts => pts.map(p => window.respmapDatum.wgs84ToGcj02(p[0], p[1]))", points)
    for (lon, lat), (glon, glat) in zip(points, got, strict=True):
        elon, elat = wgs84_to_gcj02(lon, lat)
        assert abs(glon - elon) < 1e-9 and abs(glat - elat) < 1e-9


# -- the hostile dataset --------------------------------------------------------------------------
def test_hostile_names_show_as_text_and_nothing_runs(browser: Browser, maps_dir: Path) -> None:
    ds = load_dataset(HOSTILE_DIR)
    watched = watch(browser)
    page = open_map(watched, write_map(ds, MapOptions(date=DAY, colour_by="unit"), maps_dir / "hostile.html"))
    # Popup of a compound named <img src=x onerror=alert(1)>, held by a unit whose name is HTML.
    click_at(page, 32.683, 109.003)
    card = page.locator(".leaflet-popup-content .rm-card")
    card.wait_for()
    assert card.locator("h3").inner_text() == "<img src=x onerror=alert(1)>"
    assert "<b onclick=alert(1)>Unit One</b>" in card.inner_text()
    assert "<!-- </script><img src=x onerror=alert(3)> ${alert(4)}" in card.inner_text()
    assert card.locator("a.rm-phone").count() == 0  # "javascript:alert(1)" is no phone number: no link
    # Tooltip of the street named </script><script>alert(1)</script>.
    lat, lon = point_on(page, "S1", "0")
    page.evaluate("respmap.map.closePopup()")
    box = page.locator(".leaflet-container").bounding_box()
    x, y = page.evaluate(
        f"(() => {{ const p = respmap.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
    )
    page.mouse.move(box["x"] + x - 40, box["y"] + y + 40)
    page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    page.wait_for_timeout(80)  # Leaflet checks hovering at most every 32 ms: a last small move after the pause
    page.mouse.move(box["x"] + x + 1, box["y"] + y)
    tip = page.locator(".rm-tip", has_text="</script><script>alert(1)</script>")
    tip.wait_for()
    assert tip.inner_text() == "</script><script>alert(1)</script> · 0–800 m"
    # Layer control, legend, title and search all show the text as typed.
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("<img src=x onerror=alert('title')>" in label for label in labels)
    assert any("${alert(1)} streets" in label for label in labels)
    assert "<b onclick=alert(1)>Unit One</b>" in page.locator(".rm-legend").inner_text()
    assert page.locator(".rm-title-main").inner_text() == "Hostile </script><script>alert(1)</script> & ${alert(1)} `x`"
    assert page.title().startswith("Hostile </script><script>alert(1)</script>")
    page.fill(".rm-search-input", "svg")
    assert "\"'><svg onload=alert(1)> `backtick` it's" in page.locator(".rm-search-results").inner_text()
    page.locator(".rm-search-hit").first.click()
    assert page.locator(".leaflet-popup-content h3").inner_text() == "\"'><svg onload=alert(1)> `backtick` it's"
    page.screenshot(path=str(SCREENSHOTS / "map_hostile.png"))
    # Nothing was parsed as markup, nothing ran.
    injected = page.evaluate(
        "document.querySelectorAll('img[src=\"x\"], svg[onload], b[onclick], b[onmouseover], i').length"
    )
    assert injected == 0
    assert watched.dialogs == [] and watched.errors == [] and watched.blocked == []
    assert json.loads(json.dumps(page.evaluate("window.respmapCounts"))) == layer_counts(
        build_payload(ds, MapOptions(date=DAY))
    )
    watched.page.context.close()
