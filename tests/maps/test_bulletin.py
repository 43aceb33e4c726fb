"""The bulletin (通报): DOCX and PDF say what the assessment says, in order, in real Chinese glyphs."""

from __future__ import annotations

import dataclasses
import logging
import re
import warnings
from pathlib import Path

import docx
import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader
from pyproj import Transformer

from geo import Dataset
from geo.assessment import Assessment, CaseFrames, assess_dataset
from geo.periods import parse_period
from maps import fonts
from maps.bulletin import Bulletin, BulletinError, build_bulletin, write_bulletin
from maps.bulletin_pdf import page_iter, wrap
from maps.static import report_style
from tests.geo.case_book import empty_frames
from tests.geo.test_assessment import november_book

NOVEMBER = parse_period("2026-11", "Asia/Shanghai")
CJK_PDF_NAMES = re.compile(r"NotoSansCJK|NotoSansSC|SourceHan|YaHei|SimHei|PingFang|WenQuanYi|WQY|Heiti", re.I)


def frames_on_the_map(mini_ds: Dataset) -> CaseFrames:
    """The November book with its cases placed inside D1 (and K in D2) of the mini dataset."""
    frames = november_book().frames()
    to_wgs84 = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
    k = np.arange(len(frames.cases))
    x = np.where(frames.cases["district_id"] == "D2", 601500.0, 600100.0 + 60.0 * k)
    lon, lat = to_wgs84.transform(x, 3618500.0 + 20.0 * k)
    cases = frames.cases.assign(lon=lon, lat=lat, feature_name="幸福巷")
    return CaseFrames(cases, frames.case_units, frames.events)


@pytest.fixture(scope="module")
def assessment(mini_ds: Dataset) -> Assessment:
    return assess_dataset(mini_ds, frames_on_the_map(mini_ds), NOVEMBER)


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "a2.jpg"
    Image.new("RGB", (64, 48), (200, 60, 40)).save(path)
    return path


@pytest.fixture(scope="module")
def bulletin(mini_ds: Dataset, assessment: Assessment, photo: Path) -> Bulletin:
    return build_bulletin(mini_ds, assessment, number=11, photos={"A2": [photo], "E": [photo.parent / "gone.jpg"]})


@pytest.fixture(scope="module")
def written(bulletin: Bulletin, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bulletin")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = {suffix: write_bulletin(bulletin, folder / f"tongbao{suffix}") for suffix in (".docx", ".pdf")}
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message) or "font" in str(w.message).lower()]
    assert not glyphs, glyphs
    return paths


def expected_rows(assessment: Assessment) -> list[list[str]]:
    """The ranking as the JSON says it, formatted independently of maps.bulletin."""
    rows = []
    for unit in assessment.to_dict(include_cases=False)["units"]:
        if not unit["ranked"]:
            continue
        rate = "—" if unit["on_time_rate"] is None else f"{unit['on_time_rate'] * 100:.1f}%"
        close = "—" if unit["close_rate"] is None else f"{unit['close_rate'] * 100:.1f}%"
        rows.append(
            [str(unit["rank"]), unit["name"], f"{unit['score']:.2f}", str(unit["attributed"]), rate, close,
             str(unit["overdue_open"]), str(unit["rework"])]
        )  # fmt: skip
    return rows


def test_docx_has_title_period_ranking_in_order_and_the_figures(
    written: dict[str, Path], assessment: Assessment
) -> None:
    document = docx.Document(str(written[".docx"]))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "关于2026年11月环境卫生责任考核情况的通报" in text
    assert "第 11 期" in text
    assert "考核期间：2026年11月（2026-11-01 至 2026-11-30）" in text
    ranking = next(t for t in document.tables if t.rows[0].cells[1].text == "单位")
    rows = [[cell.text for cell in row.cells] for row in ranking.rows[1:]]
    assert rows == expected_rows(assessment)
    assert [r[1] for r in rows] == ["西片区指挥部", "东片区指挥部", "老城街道办事处", "市住建局", "市民政局"]
    city = assessment.to_dict(include_cases=False)["city"]
    summary = next(t for t in document.tables if t.rows[0].cells[0].text == "指标")
    values = {row.cells[0].text: row.cells[1].text for row in summary.rows[1:]}
    assert values["立案数"] == str(city["attributed"]) == "8"
    assert values["按期结案率"] == f"{city['on_time_rate'] * 100:.1f}%" == "50.0%"
    assert values["超期未结"] == str(city["overdue_open"])
    # the best are praised and the worst named
    assert "成绩较好的单位：西片区指挥部（100.00分）" in text
    assert "成绩较差的单位：市民政局（37.50分）" in text


def test_docx_pictures_and_overdue_cases_with_photos(written: dict[str, Path], photo: Path) -> None:
    document = docx.Document(str(written[".docx"]))
    # the map, the district charts and A2's photo
    assert len(document.inline_shapes) == 3
    text = "\n".join(p.text for p in document.paragraphs)
    assert text.index("案件 A2") < text.index("案件 E")  # longest overdue first
    assert "照片缺失：gone.jpg" in text
    assert "责任单位：市民政局" in text
    appendix = document.tables[-1]
    assert appendix.rows[0].cells[2].text == "单位"
    assert {row.cells[1].text for row in appendix.rows[1:]} >= {"U1", "U2", "U3", "U4", "HQ1", "HQ2"}
    assert next(row.cells[0].text for row in appendix.rows[1:] if row.cells[1].text == "U4") == "未排名"


def test_pdf_has_title_period_ranking_in_order_and_the_figures(
    written: dict[str, Path], assessment: Assessment
) -> None:
    reader = PdfReader(written[".pdf"])
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "关于2026年11月环境卫生责任考核情况的通报" in text
    assert "第 11 期" in text
    assert "2026-11-01 至 2026-11-30" in text
    # table columns read top to bottom: the names, then the scores, in rank order
    rows = expected_rows(assessment)
    for column in (1, 2):
        assert "\n".join(r[column] for r in rows) in text, column
    city = assessment.to_dict(include_cases=False)["city"]
    figures = [str(city["attributed"]), str(city["due"]), str(city["postponed"]), str(city["closed_on_time"]),
               f"{city['on_time_rate'] * 100:.1f}%"]  # fmt: skip
    assert "\n".join(figures) in text
    assert "超期未结案件" in text and "照片缺失：gone.jpg" in text


def test_pdf_embeds_a_cjk_font_and_the_photo(written: dict[str, Path]) -> None:
    reader = PdfReader(written[".pdf"])
    names = set()
    images = 0
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in resources.get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
        images += len(page.images)
    assert any(CJK_PDF_NAMES.search(name) for name in names), names
    assert images >= 1  # A2's photo


def test_rendered_page_has_real_glyphs_not_tofu(bulletin: Bulletin, caplog: pytest.LogCaptureFixture) -> None:
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.ft2font import FT2Font
    from matplotlib.text import Text

    assert fonts.find_cjk_font() is not None, "this machine kind installs fonts-noto-cjk"
    caplog.set_level(logging.WARNING)
    with report_style(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = next(iter(page_iter(bulletin)))
        first.canvas.draw()
        pixels = np.asarray(first.canvas.buffer_rgba())[..., :3]
        checked = 0
        for text in first.findobj(Text):
            shown = text.get_text().replace("\n", "")
            if not re.search(r"[\u4e00-\u9fff]", shown):
                continue
            font = FT2Font(findfont(FontProperties(family=text.get_fontfamily())))
            missing = [c for c in shown if c.strip() and font.get_char_index(ord(c)) == 0]
            assert not missing, (shown, missing)  # every character has a glyph: no tofu box
            checked += 1
    assert checked >= 5
    assert not [w for w in caught if "missing from font" in str(w.message)]
    # a red title on white: the page is drawn, not blank
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    assert red.sum() > 200


def test_control_characters_and_markup_in_names_print_as_text(bulletin: Bulletin, tmp_path: Path) -> None:
    odd = dataclasses.replace(bulletin, summary="<b>单位&名称</b>\x07响铃")
    path = write_bulletin(odd, tmp_path / "odd.docx")
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "<b>单位&名称</b>响铃" in text
    write_bulletin(odd, tmp_path / "odd.pdf")
    assert "<b>单位&名称</b>" in PdfReader(tmp_path / "odd.pdf").pages[0].extract_text()


def test_a_period_without_cases(mini_ds: Dataset, tmp_path: Path) -> None:
    quiet = build_bulletin(mini_ds, assess_dataset(mini_ds, empty_frames(), NOVEMBER))
    assert quiet.number == 11  # November: 第 11 期 by default
    path = write_bulletin(quiet, tmp_path / "quiet.docx")
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "本期无超期未结案件" in text and "全市共立案0件" in text
    # five units share the top score and the bulletin names three: it says so instead of picking three
    assert "5个单位得分相同（100.00分），并列第1名。" in text and "成绩较差" not in text
    write_bulletin(quiet, tmp_path / "quiet.pdf")
    assert "本期无超期未结案件" in "".join(p.extract_text() for p in PdfReader(tmp_path / "quiet.pdf").pages)


def test_mistakes_are_named(mini_ds: Dataset, assessment: Assessment, bulletin: Bulletin, tmp_path: Path) -> None:
    with pytest.raises(BulletinError, match=r"tongbao.txt: the file name must end in .pdf or .docx"):
        write_bulletin(bulletin, tmp_path / "tongbao.txt")
    with pytest.raises(BulletinError, match="kind '周报' is not one of 通报, 快报"):
        build_bulletin(mini_ds, assessment, kind="周报")
    with pytest.raises(BulletinError, match="number 0 must be 1 or more"):
        build_bulletin(mini_ds, assessment, number=0)
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("一二三四五六", ["一二三", "四五六"]),  # three full-width characters per line
        ("一二三，四五", ["一二三，", "四五"]),  # a comma never starts a line: it hangs
        ("abcdefghij", ["abcde", "fghij"]),  # Latin letters are about half as wide
    ],
)
def test_wrapping_by_character_width(text: str, lines: list[str]) -> None:
    assert wrap(text, 3 * 10 / 72.0, 10) == lines
