"""Static maps of data in other scripts: every script a font has is drawn, the rest named once.

Report maps asked matplotlib for the generic "sans-serif" family, which resolves
to the CJK font alone, so DejaVu Sans never filled in for what Noto CJK lacks:
an Arabic or Hebrew unit name printed as empty boxes, with a "Glyph 1575
missing from font(s) Noto Sans CJK SC" warning (and the source line that
raised it) for every letter, hundreds of lines per map.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from geo import load_dataset
from maps import fonts
from maps.static import MapOptions, render_map

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
DATE = "2026-03-01"


def _render_with_unit_named(name: str, tmp_path: Path) -> list[warnings.WarningMessage]:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    units = (folder / "units.csv").read_text(encoding="utf-8").replace("市民政局", name)
    (folder / "units.csv").write_text(units, encoding="utf-8")
    ds = load_dataset(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_map(ds, tmp_path / "city.png", options=MapOptions(dpi=50, date=DATE, color_by="unit"))
        render_map(ds, tmp_path / "city.pdf", options=MapOptions(date=DATE, color_by="unit"))
    return caught


def test_arabic_and_hebrew_names_fall_back_to_a_font_that_has_them(tmp_path: Path) -> None:
    caught = _render_with_unit_named("مرحبا שלום 民政", tmp_path)
    assert not [w for w in caught if "missing" in str(w.message)], [str(w.message) for w in caught]


def test_characters_no_font_has_are_named_in_one_warning_per_map(tmp_path: Path) -> None:
    caught = _render_with_unit_named("民政 🧹", tmp_path)
    assert not [w for w in caught if str(w.message).startswith("Glyph")]
    missing = [w for w in caught if issubclass(w.category, fonts.MissingGlyphWarning)]
    assert len(missing) == 2  # one per map drawn, not one per glyph and drawing pass
    assert "U+1F9F9" in str(missing[0].message) and "🧹" in str(missing[0].message)
