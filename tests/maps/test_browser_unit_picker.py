"""The interactive map opens on coverage status; the legend finds a unit and shows its ground.

Coloured by unit, the demo's legend listed about 136 units, many sharing a
colour, so nobody could tell who was who. Now the map opens on the view a
planner reads (held / nobody / claimed twice / fallback only), and in any
colouring the legend's search box picks a unit: its ground is drawn strong,
everything else dimmed, with every shape keeping its own colour so neighbouring
units stay distinct.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from geo import Dataset
from maps.interactive import MapOptions, render_map
from maps.payload import build_payload
from tests.maps.test_browser_map import SCREENSHOTS, open_map, watch

DAY = "2026-03-01"

# Per shape: its feature id, whether U2 holds it, its colour and opacities as drawn now.
SHAPES_JS = """() => respmap.infos.flatMap(info => info.shapes.map(s => ({
    layer: info.layer.kind, f: s.feature.f, u2: (s.feature.u || []).some(u => respmap.data.units[u[0]][0] === 'U2'),
    color: s.options.color, opacity: s.options.opacity, fill: s.options.fillOpacity })))"""


def test_the_default_view_is_coverage_status(mini_ds: Dataset) -> None:
    payload = build_payload(mini_ds, MapOptions())
    assert payload["colourBy"] == "coverage"
    assert [label for _, label, _ in payload["legend"]["entries"]][:4] == [
        "有单位负责",
        "无人负责",
        "重复认领",
        "仅属地兜底",
    ]


def pick(page: Page, query: str, name: str) -> None:
    page.fill(".rm-pick-input", query)
    page.locator(".rm-pick-hit", has_text=name).click()
    page.wait_for_function("() => document.documentElement.getAttribute('data-rm-unit') !== ''")


@pytest.mark.parametrize("colour_by", ["coverage", "unit"])  # the default view, and the one with many colours
def test_picking_a_unit_in_the_legend_shows_its_ground(
    browser: Browser, mini_ds: Dataset, tmp_path: Path, colour_by: str
) -> None:
    target = tmp_path / f"mini_{colour_by}.html"
    target.write_text(render_map(mini_ds, MapOptions(date=DAY, colour_by=colour_by)), encoding="utf-8")  # type: ignore[arg-type]
    watched = watch(browser)
    page = open_map(watched, target.as_uri())
    before = page.evaluate(SHAPES_JS)
    pick(page, "住建", "市住建局")
    after = page.evaluate(SHAPES_JS)
    mine = [s for s in after if s["u2"] and s["layer"] != "district"]
    others = [s for s in after if not s["u2"] and s["layer"] != "district"]
    assert {s["f"] for s in mine} == {"C2", "S1"}  # U2 holds compound C2 and the 400-1000 m stretch of S1
    assert all(s["opacity"] == 1 for s in mine)
    assert all(s["opacity"] <= 0.3 for s in others)  # dimmed, not hidden
    assert [s["color"] for s in after] == [s["color"] for s in before]  # colours kept: neighbours stay distinct
    assert page.locator(".rm-pick-name").inner_text() == "市住建局"
    page.screenshot(path=str(SCREENSHOTS / f"map_unit_picked_{colour_by}.png"))
    page.locator(".rm-pick-clear").click()
    restored = page.evaluate(SHAPES_JS)
    assert [(s["opacity"], s["fill"]) for s in restored] == [(s["opacity"], s["fill"]) for s in before]
    assert watched.errors == [] and watched.blocked == [] and watched.dialogs == []
    watched.page.context.close()


def test_by_unit_legend_narrows_to_the_typed_name(browser: Browser, demo_ds: Dataset, tmp_path: Path) -> None:
    target = tmp_path / "demo_unit.html"
    target.write_text(render_map(demo_ds, MapOptions(colour_by="unit")), encoding="utf-8")
    watched = watch(browser)
    page = open_map(watched, target.as_uri())
    items = page.locator(".rm-legend-item")
    total = items.count()
    assert total > 40  # the legend the issue complained about
    page.fill(".rm-pick-input", "住建")
    visible = [text for text in items.all_inner_texts() if text.strip()]
    shown = page.evaluate(
        "Array.from(document.querySelectorAll('.rm-legend-item')).filter(i => i.style.display !== 'none').length"
    )
    assert 1 <= shown < total and any("住建" in text for text in visible)
    hits = page.locator(".rm-pick-hit").all_inner_texts()
    assert hits and all("住建" in hit for hit in hits)
    watched.page.context.close()
