"""Control characters in names are not printed: no boxes, no text turned around.

A unit contact holding terminal colour codes (``\\x1b[31m``) printed as empty
boxes in the report map and atlas, and a unit name starting with U+202E (right-
to-left override) printed backwards ("tinu live"): in a printed report nobody
can tell it was not typed so. Such characters are dropped from drawn text.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from pypdf import PdfReader

from geo import load_dataset
from maps import fonts
from maps.static import MapOptions, render_map

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "qa" / "hostile_text"


def test_unit_map_prints_names_without_control_characters(tmp_path: Path) -> None:
    ds = load_dataset(HOSTILE)
    target = tmp_path / "f2.pdf"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_map(ds, target, unit="F2", options=MapOptions(date="2026-03-01"))
    assert not [w for w in caught if issubclass(w.category, fonts.MissingGlyphWarning)], [
        str(w.message) for w in caught
    ]
    text = PdfReader(target).pages[0].extract_text()
    assert "evil unit" in text and "tinu live" not in text
    assert "[2J]0;pwned" in text and "\x1b" not in text  # the place label, its ESC and BEL dropped
