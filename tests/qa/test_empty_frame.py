"""An empty districts layer is reported as empty, not as missing its fallback field.

An empty FeatureCollection as the frame layer got "fallback_unit_field 'hq' is
not a property of the districts (the properties are: standard_id, grade)": an
error about a property no feature could have, naming two columns respmap adds
itself. The real problem, a frame with no districts, went unsaid.
"""

from __future__ import annotations

from pathlib import Path

from geo import load_dataset


def test_empty_frame_layer(tmp_path: Path) -> None:
    (tmp_path / "catalog.toml").write_text(
        '[dataset]\nname = "empty frame"\nlang = "en"\n\n[frame]\nlayer = "districts"\nfallback_unit_field = "hq"\n\n'
        '[[layer]]\nid = "districts"\nfile = "districts.geojson"\ngeometry = "polygon"\n',
        encoding="utf-8",
    )
    (tmp_path / "districts.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    ds = load_dataset(tmp_path)
    assert [f.code for f in ds.findings if f.level == "error"] == []
    frame_empty = [f for f in ds.findings if f.code == "frame_empty"]
    assert len(frame_empty) == 1 and frame_empty[0].level == "warning"
    assert "districts.geojson" in frame_empty[0].message and "no districts" in frame_empty[0].message
