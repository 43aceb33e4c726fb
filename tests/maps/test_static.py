"""Static report maps: page sizes, real content, Chinese text with a real font, furniture, labels, styles."""

from __future__ import annotations

import logging
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely
from PIL import Image
from pypdf import PdfReader

from api.cli import main
from geo import Dataset
from maps import fonts
from maps.cartography import add_scale_bar, fit_extent, nice_scale_length
from maps.labels import LabelCandidate, LabelPlacer
from maps.print_style import CATEGORY_COLORS, ORDINAL_COLORS, categorical_styles, grey_of, lightness
from maps.scene import scene_for
from maps.static import (
    MapOptions,
    MapRequestError,
    categorize,
    new_figure,
    render_map,
    report_style,
    resolve_view,
)

DATE = "2026-03-01"
MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
# Families whose embedded PDF names show a real CJK font (subset prefixes like ABCDEF+ are stripped).
CJK_PDF_NAMES = re.compile(
    r"NotoSansCJK|NotoSansSC|SourceHan|YaHei|SimHei|PingFang|WenQuanYi|WQY|Heiti|DroidSansFallback", re.IGNORECASE
)


def _pdf_font_names(path: Path) -> set[str]:
    names: set[str] = set()
    for page in PdfReader(path).pages:
        for font in (page.get("/Resources") or {}).get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


@pytest.mark.parametrize(
    ("paper", "orientation", "dpi", "size_px"),
    [
        ("A4", "portrait", 60, (496, 701)),  # the default report page: 210 x 297 mm, cut to whole pixels
        ("A3", "landscape", 50, (826, 584)),  # a wall map, turned
    ],
)
def test_png_page_has_the_paper_size_at_the_dpi(mini_ds: Dataset, tmp_path: Path, paper, orientation, dpi, size_px):
    result = render_map(
        mini_ds, tmp_path / "city.png", options=MapOptions(paper=paper, orientation=orientation, dpi=dpi, date=DATE)
    )
    with Image.open(result.path) as image:
        assert image.size == size_px
    assert (result.width_px, result.height_px) == size_px


def test_city_map_is_not_blank(demo_ds: Dataset, tmp_path: Path):
    result = render_map(demo_ds, tmp_path / "city.png", options=MapOptions(dpi=50))
    with Image.open(result.path) as image:
        grey = np.asarray(image.convert("L"), dtype=float)
    height, width = grey.shape
    # The map area (between title and legend) holds districts, zones and labels, not just paper.
    map_area = grey[int(height * 0.15) : int(height * 0.8), int(width * 0.1) : int(width * 0.9)]
    assert map_area.var() > 500
    assert np.mean(map_area < 160) > 0.05  # a good share of the map is inked: zones, streets, names


def test_auto_orientation_turns_a_wide_city_to_landscape(mini_ds: Dataset, tmp_path: Path):
    # The mini city is two 1 km squares side by side: twice as wide as tall.
    result = render_map(mini_ds, tmp_path / "city.png", options=MapOptions(dpi=50, date=DATE))
    assert result.width_px > result.height_px


def test_svg_is_a_page_with_text_as_outlines(mini_ds: Dataset, tmp_path: Path):
    path = render_map(
        mini_ds, tmp_path / "u1.svg", unit="U1", options=MapOptions(orientation="portrait", date=DATE)
    ).path
    text = path.read_text(encoding="utf-8")
    width = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', text).group(1))
    height = float(re.search(r'<svg[^>]*height="([\d.]+)pt"', text).group(1))
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    assert "<text" not in text  # glyphs as paths: Word shows them without the font


def test_chinese_text_renders_with_a_cjk_font_embedded_in_the_pdf(mini_ds: Dataset, tmp_path: Path, caplog):
    assert fonts.find_cjk_font() is not None, "this machine kind installs fonts-noto-cjk"
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = render_map(mini_ds, tmp_path / "u1.pdf", unit="U1", options=MapOptions(date=DATE))
        render_map(mini_ds, tmp_path / "city.png", options=MapOptions(dpi=50, date=DATE))
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "Glyph" in m and "missing" in m], messages
    names = _pdf_font_names(result.path)
    assert any(CJK_PDF_NAMES.search(name) for name in names), names
    text = PdfReader(result.path).pages[0].extract_text()
    assert "市民政局" in text  # searchable: the unit's name in the title and legend
    assert "西片区" in text  # a district label


def test_cff_fonts_are_embedded_as_type3_and_truetype_ones_as_type42():
    # Noto Sans CJK on Debian is OpenType/CFF; matplotlib's Type 42 writer mislabels CFF (issue #20870).
    family = fonts.find_cjk_font()
    face = fonts.font_face(family)
    assert fonts.pdf_fonttype(family) == (3 if fonts.has_cff_outlines(*face) else 42)
    assert fonts.pdf_fonttype(None) == 42  # DejaVu Sans is TrueType


def test_without_a_cjk_font_one_warning_says_what_to_install(mini_ds: Dataset, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ("No Such Font Family",))
    monkeypatch.setattr(fonts, "_warned", False)
    fonts.find_cjk_font.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            render_map(mini_ds, tmp_path / "a.png", options=MapOptions(dpi=50, date=DATE))
            render_map(mini_ds, tmp_path / "b.png", unit="U1", options=MapOptions(dpi=50, date=DATE))
    finally:
        fonts.find_cjk_font.cache_clear()
    missing = [w for w in caught if issubclass(w.category, fonts.MissingCJKFontWarning)]
    assert len(missing) == 1
    assert "apt-get install fonts-noto-cjk" in str(missing[0].message)
    # ...and not buried under a warning per Chinese glyph
    assert not [w for w in caught if "Glyph" in str(w.message)]


def test_unknown_unit_or_district_is_named_with_suggestions(mini_ds: Dataset, tmp_path: Path):
    with pytest.raises(MapRequestError, match=r"unit 'U9'.*did you mean"):
        render_map(mini_ds, tmp_path / "x.png", unit="U9", options=MapOptions(dpi=50, date=DATE))
    with pytest.raises(MapRequestError, match="district 'D7'"):
        render_map(mini_ds, tmp_path / "x.png", district="D7", options=MapOptions(dpi=50, date=DATE))
    with pytest.raises(MapRequestError, match=r"\.png, \.svg or \.pdf"):
        render_map(mini_ds, tmp_path / "x.jpg", options=MapOptions(dpi=50, date=DATE))


@pytest.mark.parametrize(
    ("max_m", "expected"),
    [
        (730.0, 500.0),  # 5 x 10^2
        (450.0, 200.0),  # 2 x 10^2
        (1999.0, 1000.0),  # exactly 1 km, labelled in km
        (0.7, 0.5),  # tiny extents still get a bar
    ],
)
def test_scale_bar_lengths_are_round(max_m, expected):
    assert nice_scale_length(max_m) == expected


def test_scale_bar_is_as_long_in_map_units_as_its_label(mini_ds: Dataset):
    # Axes are in the metric CRS: 500 m on the label must be 500 axis units.
    fig = new_figure(8, 6, 50)
    ax = fig.add_axes((0, 0, 1, 1))
    extent = (600000.0, 3618000.0, 602000.0, 3619500.0)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    length_m = add_scale_bar(ax, extent, "zh")
    segments = [p for p in ax.patches if p.get_zorder() == 21]
    assert length_m == 200.0
    assert math.isclose(sum(p.get_width() for p in segments), length_m)
    assert any(t.get_text() == "200 米" for t in ax.texts)


def test_north_arrow_leans_by_the_meridian_convergence(mini_ds: Dataset):
    scene = scene_for(mini_ds, DATE)
    lon, lat = 109.077, 32.686  # the mini data's centre, east of the zone's 108°E meridian
    expected = math.degrees(math.atan(math.tan(math.radians(lon - 108)) * math.sin(math.radians(lat))))
    assert math.isclose(abs(scene.convergence_deg), expected, abs_tol=0.03)


def test_fit_extent_keeps_the_axes_shape_and_the_data():
    extent = fit_extent((0, 0, 1000, 100), 1.5)
    width, height = extent[2] - extent[0], extent[3] - extent[1]
    assert math.isclose(height / width, 1.5)
    assert extent[0] < 0 and extent[2] > 1000


def test_grayscale_palette_steps_in_lightness():
    lightnesses = sorted(lightness(c) for c in CATEGORY_COLORS)
    assert min(np.diff(lightnesses)) >= 6.5  # distinct greys on a laser printer
    ordinal = [lightness(c) for c in ORDINAL_COLORS]
    assert ordinal == sorted(ordinal)  # best grade darkest
    assert abs(lightness(grey_of("#e07b1f")) - lightness("#e07b1f")) < 1.0


def test_repeated_colours_get_hatches_and_hatch_option_gives_each_its_own():
    keys = [f"k{i}" for i in range(10)]
    plain = categorical_styles(keys, keys)
    assert plain[0].hatch == "" and plain[8].hatch != ""  # colour 9 repeats colour 1: hatched to tell apart
    hatched = categorical_styles(keys[:5], keys[:5], hatch=True)
    assert len({s.hatch for s in hatched}) == 5
    assert len({str(s.linestyle) for s in hatched}) == 5


def test_colour_by_unit_names_each_holder_once_and_marks_unheld(mini_ds: Dataset):
    scene = scene_for(mini_ds, DATE)
    view = resolve_view(scene)
    categories = categorize(scene, view.focus, "unit", hatch=False)
    labels = [s.label for s in categories.styles]
    # by ground held: U3 4000 m² (S2), U2 3100 m² (C2 + S1 400-1000 m), U1 2100 m² (C1 + S1 0-400 m)
    assert labels[:3] == ["老城街道办事处", "市住建局", "市民政局"]
    assert labels[-1] == "无人负责"  # compound C3 nobody holds
    # S1's supervisor row repeats the leads' ground: not drawn as a zone of its own
    drawn = scene.zones.iloc[categories.positions]
    assert not (drawn["role"] == "supervisor").any()


def test_a_supervising_unit_sees_its_supervised_street(mini_ds: Dataset):
    scene = scene_for(mini_ds, DATE)
    view = resolve_view(scene, unit="U3")
    categories = categorize(scene, view.focus, "unit", hatch=False, focus_unit="U3")
    drawn = scene.zones.iloc[categories.positions]
    assert set(drawn["feature_id"]) == {"S1", "S2"}
    assert set(categories.keys) == {"U3"}


# -- labels --------------------------------------------------------------------------------
@pytest.fixture
def cjk_text():
    """Labels measured with the report font, as in a real map."""
    with report_style():
        yield


def _axes(width_in: float = 4.0, height_in: float = 3.0):
    fig = new_figure(width_in, height_in, 100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 400)
    ax.set_ylim(0, 300)
    return ax


def test_colliding_labels_are_skipped_and_placed_ones_never_overlap(cjk_text):
    ax = _axes()
    candidates = [LabelCandidate(f"幸福小区{i}", priority=i, x=200 + i * 3, y=150) for i in range(6)]
    candidates += [LabelCandidate("育才路小区", priority=10, x=60, y=40)]
    placer = LabelPlacer(ax)
    placed = placer.place_all(candidates)
    texts = [p.text for p in placed]
    assert texts[0] == "幸福小区0"  # the highest priority always wins its spot
    assert "育才路小区" in texts  # far away: no conflict
    assert placer.skipped  # six labels on one spot cannot all fit
    outlines = [p.outline for p in placed]
    for i in range(len(outlines)):
        for j in range(i + 1, len(outlines)):
            assert not outlines[i].intersects(outlines[j])


@pytest.mark.parametrize(
    ("line", "angle"),
    [
        ([(50, 50), (350, 223.2)], 30.0),  # drawn left to right, rising
        ([(350, 223.2), (50, 50)], 30.0),  # the same street drawn the other way: still upright, not 210°
        ([(300, 50), (100, 165.5)], -30.0),  # falling to the right
    ],
)
def test_street_names_follow_their_line_and_stay_upright(cjk_text, line, angle):
    ax = _axes()
    placer = LabelPlacer(ax)
    placed = placer.place_all([LabelCandidate("幸福巷", priority=0, line=np.array(line, dtype=float))])
    assert len(placed) == 1
    assert math.isclose(placed[0].angle_deg, angle, abs_tol=0.5)
    centre = placed[0].outline.centroid
    display_line = shapely.LineString(ax.transData.transform(np.array(line, dtype=float)))
    assert display_line.distance(centre) < 2.0  # on the line, not beside it


def test_street_names_go_on_the_long_straight_part_and_skip_short_streets(cjk_text):
    ax = _axes()
    placer = LabelPlacer(ax)
    l_shape = np.array([(40, 280), (40, 250), (380, 250)], dtype=float)  # short leg down, long leg east
    short = np.array([(100, 100), (104, 100)], dtype=float)
    placed = placer.place_all(
        [
            LabelCandidate("长春里", priority=0, line=l_shape),
            LabelCandidate("短巷子很长的名字", priority=1, line=short),
        ]
    )
    assert [p.text for p in placed] == ["长春里"]
    assert math.isclose(placed[0].angle_deg, 0.0, abs_tol=0.5)
    assert placer.skipped == ["短巷子很长的名字"]


# -- the command ----------------------------------------------------------------------------
def test_render_command_writes_the_map_and_reports_it(tmp_path: Path, capsys):
    out = tmp_path / "d2.png"
    code = main(
        [
            "--dataset",
            str(MINI),
            "render",
            "-o",
            str(out),
            "--district",
            "D2",
            "--dpi",
            "50",
            "--date",
            DATE,
            "--hatch",
            "--color-by",
            "grade",
        ]
    )
    assert code == 0
    with Image.open(out) as image:
        assert image.size in ((413, 584), (584, 413))
    assert "map written" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "x.jpg"], ".png, .svg or .pdf"),  # unknown format
        (["-o", "x.png", "--unit", "NOPE"], "NOPE"),  # unknown unit named back
        (["-o", "x.png", "--dpi", "5"], "dpi 5"),  # absurd resolution
        (["-o", "x.png", "--date", "2026-13-45"], "is not a date"),  # malformed date
        (["-o", "x.png", "--atlas"], "atlas is a PDF"),  # the atlas needs .pdf
        (["-o", "x.png", "--by", "unit"], "--by is for --atlas"),  # --by alone
    ],
)
def test_render_command_usage_errors_exit_2_with_a_message(tmp_path: Path, capsys, extra, message):
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in extra]
    code = main(["--dataset", str(MINI), "render", *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written, no temporary left behind
