"""Errors that are bugs surface; only the expected ones become a fallback (issue 14, item 15).

The north arrow caught every exception and drew 0° (so a bug in it silently put
north half a degree off), and the report kit turned any error of the interactive
map into a note. Now only a CRS PROJ cannot invert, and Leaflet not being
installed, are handled; anything else is raised where it happens.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import maps.interactive
import maps.report
import maps.scene
from geo import Dataset
from maps.vendor import AssetsMissingError


def test_north_arrow_leans_by_the_convergence(demo_ds: Dataset) -> None:
    bounds = tuple(demo_ds.frame.to_crs(demo_ds.metric_crs).total_bounds)
    angle = maps.scene._convergence_deg(demo_ds, bounds)
    assert 0.05 < abs(angle) < 2.0  # Ankang is about 1° east of the 108°E central meridian


def test_a_bug_in_the_north_arrow_is_not_drawn_as_0_degrees(demo_ds: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(maps.scene.gpd.GeoSeries, "from_xy", broken)
    with pytest.raises(KeyError):
        maps.scene._convergence_deg(demo_ds, (0.0, 0.0, 1.0, 1.0))


def _kit(ds: Dataset, tmp_path: Path) -> SimpleNamespace:
    wrote: list[str] = []
    return SimpleNamespace(
        ds=ds,
        date=pd.Timestamp("2026-03-01"),
        notes=[],
        path=lambda name: tmp_path / name,
        wrote=wrote.append,
        written=wrote,
    )


def test_missing_leaflet_is_a_note_in_the_kit(
    mini_ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(*args: object, **kwargs: object) -> str:
        raise AssetsMissingError("Leaflet is not installed: run scripts/setup.sh")

    monkeypatch.setattr(maps.interactive, "render_map", missing)
    kit = _kit(mini_ds, tmp_path)
    maps.report._interactive(kit)
    assert kit.notes == ["interactive map not written: Leaflet is not installed: run scripts/setup.sh"]
    assert kit.written == []


def test_a_bug_in_the_interactive_map_is_raised(
    mini_ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise TypeError("a bug")

    monkeypatch.setattr(maps.interactive, "render_map", broken)
    with pytest.raises(TypeError, match="a bug"):
        maps.report._interactive(_kit(mini_ds, tmp_path))
