"""Static maps draw every metre of every place, including what nobody holds.

The report map drew duty zones only: the tail of a street no stretch covers
(mini: S1 1000-1200 m) and a place only a supervisor answers for simply were
not on the page, so a street looked shorter than it is and a compound vanished,
with nothing in the legend to say so. They are now drawn as "nobody holds".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo import Dataset, load_dataset
from maps.scene import Scene, scene_for
from maps.static import categorize, resolve_view

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
DATE = "2026-03-01"


def _feature_rows(scene: Scene, feature_id: str) -> np.ndarray:
    return np.flatnonzero(scene.zones["feature_id"].to_numpy(dtype=object) == feature_id)


def test_unheld_tail_of_a_split_street_is_drawn(mini_ds: Dataset) -> None:
    scene = scene_for(mini_ds, DATE)
    rows = _feature_rows(scene, "S1")
    unheld = [r for r in rows if scene.zones["unit_id"].iat[r] == "" and scene.zones["role"].iat[r] == ""]
    assert len(unheld) == 1
    assert (scene.zones["from_m"].iat[unheld[0]], scene.zones["to_m"].iat[unheld[0]]) == pytest.approx((1000, 1200))
    assert shapely.length(scene.draw_geoms[unheld[0]]) == pytest.approx(200.0, abs=1e-6)
    # the drawn pieces of S1 (leads and the tail) now cover its whole 1200 m
    drawn = shapely.union_all(scene.draw_geoms[[r for r in rows if scene.zones["role"].iat[r] in ("lead", "")]])
    assert shapely.length(drawn) == pytest.approx(1200.0, abs=1e-6)


def test_city_map_legend_says_nobody_holds_the_tail(mini_ds: Dataset) -> None:
    scene = scene_for(mini_ds, DATE)
    view = resolve_view(scene)
    categories = categorize(scene, view.focus, "unit", hatch=False)
    zones = scene.zones
    tail = [r for r in _feature_rows(scene, "S1") if zones["unit_id"].iat[r] == "" and zones["from_m"].iat[r] == 1000]
    assert len(tail) == 1 and tail[0] in set(categories.positions)
    assert categories.keys[list(categories.positions).index(tail[0])] == ""  # drawn in the 'nobody holds' style


def test_place_with_only_a_supervisor_is_drawn_as_unheld(tmp_path: Path) -> None:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    table = (folder / "assignments.csv").read_text(encoding="utf-8")
    (folder / "assignments.csv").write_text(table + "C3,U3,supervisor,,,,\n", encoding="utf-8")
    ds = load_dataset(folder)
    scene = scene_for(ds, DATE)
    categories = categorize(scene, resolve_view(scene).focus, "unit", hatch=False)
    drawn = scene.zones.iloc[categories.positions]
    c3 = drawn[drawn["feature_id"] == "C3"]
    assert c3["unit_id"].tolist() == [""]
