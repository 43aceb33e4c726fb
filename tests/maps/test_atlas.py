"""The atlas: cover, contents, a page per unit or district, long tables continued; page counts read back."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from api.cli import main
from geo import Dataset
from maps.atlas import entries_frame, fit_text, render_atlas, text_width_mm
from maps.static import MapOptions

DATE = "2026-03-01"
MINI = Path(__file__).resolve().parents[1] / "data" / "mini"


def _lines(text: str) -> list[str]:
    """A page's text lines, stripped: a page title is a line of its own."""
    return [line.strip() for line in text.splitlines()]


def _expected_pages(rows: list[int], rows_first: int, rows_next: int, toc_pages: int = 0) -> int:
    pages = 1 + toc_pages  # the cover (map and contents), more contents if they do not fit
    for n in rows:
        pages += 1 + math.ceil(max(0, n - rows_first) / rows_next)
    return pages


def test_unit_atlas_has_a_cover_contents_and_a_page_per_unit(mini_ds: Dataset, tmp_path: Path):
    result = render_atlas(mini_ds, tmp_path / "atlas.pdf", options=MapOptions(date=DATE))
    reader = PdfReader(result.path)
    assert len(reader.pages) == result.pages == 1 + 6  # a cover with the contents, six units each on a page
    assert result.entries == 6 and result.toc_pages == 0
    cover = reader.pages[0].extract_text()
    assert "迷你测试数据" in cover and "责任分工图册" in cover
    contents = cover
    assert "目录" in contents
    # Every unit's first page starts with its name, on the page the contents give.
    for unit_id, name in zip(mini_ds.units["unit_id"], mini_ds.units["name"], strict=True):
        match = re.search(rf"{re.escape(name)}（{re.escape(unit_id)}）\s*(\d+)", contents)
        assert match, (name, contents)
        page_text = reader.pages[int(match.group(1)) - 1].extract_text()
        assert name in _lines(page_text), page_text[:200]


def test_unit_pages_list_the_units_zones(mini_ds: Dataset, tmp_path: Path):
    render_atlas(mini_ds, tmp_path / "atlas.pdf", options=MapOptions(date=DATE))
    reader = PdfReader(tmp_path / "atlas.pdf")
    texts = [page.extract_text() for page in reader.pages]
    u1 = next(t for t in texts if "市民政局" in _lines(t))
    # U1 holds compound C1 and S1 from 0 to 400 m; S2 ended on 2025-12-31 and is not listed.
    assert "幸福小区" in u1 and "C1" in u1
    assert "0–400 米" in u1 and "400 米" in u1
    assert "育才路" not in u1  # S2
    hq1 = next(t for t in texts if "西片区指挥部" in _lines(t))
    assert "属地兜底" in hq1  # a district HQ answers for its whole district
    idle = next(t for t in texts if "空闲单位" in _lines(t))
    assert "该日期本单位无责任区域" in idle


def test_long_tables_continue_on_the_next_page(mini_ds: Dataset, tmp_path: Path):
    rows = entries_frame(mini_ds, "unit", DATE)["rows"].tolist()
    assert max(rows) >= 2  # U1 and U3 have two zones each
    result = render_atlas(mini_ds, tmp_path / "atlas.pdf", options=MapOptions(date=DATE), rows_per_page=1)
    assert result.pages == _expected_pages(rows, 1, 1)
    reader = PdfReader(result.path)
    continued = [page.extract_text() for page in reader.pages if "（续）" in page.extract_text()]
    assert len(continued) == sum(max(0, n - 1) for n in rows)
    assert any("市民政局（续）" in text for text in continued)


def test_district_atlas_has_a_page_per_district(mini_ds: Dataset, tmp_path: Path):
    result = render_atlas(mini_ds, tmp_path / "districts.pdf", by="district", options=MapOptions(date=DATE))
    reader = PdfReader(result.path)
    assert len(reader.pages) == 1 + 2
    texts = [page.extract_text() for page in reader.pages[1:]]
    assert "西片区" in _lines(texts[0])
    assert "西片区指挥部" in texts[0]  # the district's fallback unit is named
    assert "老城街道办事处" in texts[1]  # who holds S2 in D2


def test_atlas_command_writes_the_pdf(tmp_path: Path, capsys):
    out = tmp_path / "atlas.pdf"
    code = main(["--dataset", str(MINI), "render", "--atlas", "-o", str(out), "--by", "district", "--date", DATE])
    assert code == 0
    assert len(PdfReader(out).pages) == 3
    assert "3 pages" in capsys.readouterr().out


def test_atlas_refuses_a_unit_with_atlas(tmp_path: Path, capsys):
    code = main(["--dataset", str(MINI), "render", "--atlas", "-o", str(tmp_path / "a.pdf"), "--unit", "U1"])
    assert code == 2
    assert "--atlas" in capsys.readouterr().err


def test_contents_too_long_for_the_cover_continue_on_their_own_pages(mini_ds: Dataset, tmp_path: Path):
    # One row per column: two units listed on the cover, two on each further contents page.
    result = render_atlas(mini_ds, tmp_path / "atlas.pdf", options=MapOptions(date=DATE), contents_rows=1)
    assert result.toc_pages == 2
    assert result.pages == 1 + 2 + 6
    reader = PdfReader(result.path)
    contents = "\n".join(reader.pages[i].extract_text() for i in range(1 + result.toc_pages))
    assert "目录（续）" in reader.pages[1].extract_text()
    for position, (unit_id, name) in enumerate(zip(mini_ds.units["unit_id"], mini_ds.units["name"], strict=True)):
        page = int(re.search(rf"{re.escape(name)}（{re.escape(unit_id)}）\s*(\d+)", contents).group(1))
        assert page == 4 + position  # after the cover and two pages of contents, one page each
        assert name in _lines(reader.pages[page - 1].extract_text())


@pytest.mark.parametrize(
    ("text", "width_mm", "cut"),
    [
        ("幸福巷", 30.0, False),  # fits
        ("安康市中心城区某某某某街道办事处第一社区居民委员会", 20.0, True),  # long Chinese name: cut
        ("Back street number 12 of the old town", 15.0, True),  # long Latin name: cut too
    ],
)
def test_table_cells_are_cut_to_their_column(text, width_mm, cut):
    fitted = fit_text(text, width_mm, 7.2)
    assert (fitted != text) == cut
    assert text_width_mm(fitted, 7.2) <= width_mm + 1e-9
    if cut:
        assert fitted.endswith("…")
