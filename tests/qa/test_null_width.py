"""A width left empty (JSON null) is reported as missing, not as the Python word 'None'.

The Xi'an QA set had ``"宽度": null`` on one street; validate said
"has 宽度 = 'None', not a width in metres", which names a value nobody typed.
"""

from __future__ import annotations

import json
from pathlib import Path

from geo import load_dataset


def _dataset(tmp_path: Path, width: object) -> list[str]:
    (tmp_path / "catalog.toml").write_text(
        '[dataset]\nname = "街巷"\n\n[[layer]]\nid = "streets"\nfile = "streets.geojson"\ngeometry = "line"\n'
        'tolerance_m = 10\nwidth_field = "宽度"\ndefault_width_m = 4\n',
        encoding="utf-8",
    )
    line = {"type": "LineString", "coordinates": [[108.94, 34.26], [108.95, 34.26]]}
    feature = {"type": "Feature", "properties": {"id": "JX004", "name": "竹笆市", "宽度": width}, "geometry": line}
    (tmp_path / "streets.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return [f.message for f in load_dataset(tmp_path).findings if f.code == "width_invalid"]


def test_null_width_is_missing(tmp_path: Path) -> None:
    assert _dataset(tmp_path, None) == ["streets.geojson: feature JX004 has no 宽度; using 4 m"]


def test_text_width_is_named_as_typed(tmp_path: Path) -> None:
    assert _dataset(tmp_path, "wide") == [
        "streets.geojson: feature JX004 has 宽度 = 'wide', not a width in metres; using 4 m"
    ]
