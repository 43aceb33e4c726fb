"""Everything a person reads follows the dataset's language, from one word table per language.

A new user found English inside the Chinese report kit (``units_holding``,
``frame_area_m2``, ``surplus`` as row headers), ``department`` and ``street
office`` in the workbook's 类型 column, and feet on the interactive map's scale
bar. These tests read what a person sees: the kit's index.html as text, the
workbook's cells, the map's scale bar in a browser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser

from geo import Dataset
from geo.table_checks import UNIT_KINDS
from maps.interactive import MapOptions, render_map
from maps.report import build_report
from maps.static import MapOptions as StaticOptions
from maps.tables import export_table
from maps.wording import WORDS, total_label, unit_kind_label
from tests.maps.test_browser_map import watch

DAY = "2026-03-01"
# A programme's key (snake_case, or a known key word) where a person should read words.
RAW_KEY = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b(?:surplus|shortfall|junctions|nesting|slivers)\b")


class VisibleText(HTMLParser):
    """The text a reader sees, without <small> (file names shown beside the links) and without markup."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("small", "style", "script"):
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("small", "style", "script"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


@pytest.fixture(scope="module")
def kit(mini_ds: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kit") / "report"
    build_report(mini_ds, folder, date=DAY, options=StaticOptions(dpi=72), unit_maps=False, progress=False)
    return folder


def test_no_raw_keys_in_the_chinese_kit(kit: Path) -> None:
    reader = VisibleText()
    reader.feed((kit / "index.html").read_text(encoding="utf-8"))
    text = "\n".join(reader.parts)
    assert RAW_KEY.findall(text) == []
    assert "片区总面积（平方米）" in text and "人员富余合计（人）" in text and "有责任区域的单位（个）" in text
    assert "背街小巷（处）" in text  # a per-layer count under the layer's own title
    assert "片区缺口（GeoJSON）" in text  # coverage layers named, not listed as gaps.geojson


def test_every_coverage_total_has_words_in_both_languages(mini_ds: Dataset) -> None:
    titles = {spec.id: spec.title_in("zh") for spec in mini_ds.catalog.layers}
    for key in mini_ds.coverage(DAY).totals:
        for lang in ("zh", "en"):
            assert total_label(key, lang, titles), (key, lang)


def test_one_word_table_per_language_with_the_same_keys() -> None:
    assert set(WORDS) == {"zh", "en"}
    assert set(WORDS["zh"]) == set(WORDS["en"])
    # The interactive map, the phone page, the kit and the coverage summary all draw from it.
    for key in ("legend", "here_title", "kit_title", "coverage_title", "figure_sweeps_per_day", "kind_department"):
        assert key in WORDS["zh"]


def test_workbook_unit_kinds_are_chinese(mini_ds: Dataset, tmp_path: Path) -> None:
    target = tmp_path / "责任分工表.xlsx"
    export_table(mini_ds, target, date=DAY)
    sheet = openpyxl.load_workbook(target, read_only=True)["责任单位"]
    rows = list(sheet.iter_rows(values_only=True))
    kinds = {row[rows[0].index("类型")] for row in rows[1:]}
    assert kinds == {"片区指挥部", "部门", "街道办事处", "企业"}
    assert all(unit_kind_label(kind, "zh") != kind for kind in UNIT_KINDS)  # every known kind has Chinese words


def test_interactive_scale_bar_is_metric_only(browser: Browser, mini_ds: Dataset, tmp_path: Path) -> None:
    target = tmp_path / "mini.html"
    target.write_text(render_map(mini_ds, MapOptions()), encoding="utf-8")
    watched = watch(browser)
    page = watched.page
    page.goto(target.as_uri())
    page.wait_for_function("() => window.respmapReady === true")
    lines = page.locator(".leaflet-control-scale-line").all_inner_texts()
    assert len(lines) == 1 and re.fullmatch(r"\d+ k?m", lines[0].strip()), lines
    legend = page.locator(".rm-legend").inner_text()
    assert RAW_KEY.findall(legend) == []
    assert watched.errors == [] and watched.blocked == []
    watched.page.context.close()
