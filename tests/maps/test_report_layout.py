"""The layout of a report map page (``respmap render``): the data fills the frame, the scale bar
stays inside it and clear of features, and an overview inset appears only where it tells something.

A first-time user's city.pdf had white bands left and below the data (the frame was the free page
area, not the data's shape), a scale bar over features and, on whole-city pages, an inset showing
the same city again as an empty grid. These tests measure the drawn figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely

from geo import Dataset
from maps.cartography import scale_bar_box
from maps.scene import Scene, scene_for
from maps.static import DrawnMap, MapOptions, View, compose_page, new_figure, page_size_in, report_style, resolve_view

DAY = "2026-03-01"


def page(
    ds: Dataset, *, unit: str | None = None, inset: bool | None = None, paper: str = "A4"
) -> tuple[Any, DrawnMap, Scene, View]:
    scene = scene_for(ds, DAY)
    view = resolve_view(scene, unit=unit)
    options = MapOptions(paper=paper, dpi=72, inset=inset, date=DAY).checked()
    with report_style():
        fig = new_figure(*page_size_in(options.paper, options.orientation, view.bounds), options.dpi)
        drawn = compose_page(fig, scene, view, options)
        fig.canvas.draw()
    return fig, drawn, scene, view


@pytest.mark.parametrize("paper", ["A4", "A3"])  # the tour's city.pdf, and the office's big prints
def test_the_city_fills_its_frame(demo_ds: Dataset, paper: str) -> None:
    _, drawn, _, view = page(demo_ds, paper=paper)
    x0, y0, x1, y1 = drawn.ax.get_xlim()[0], drawn.ax.get_ylim()[0], drawn.ax.get_xlim()[1], drawn.ax.get_ylim()[1]
    bx0, by0, bx1, by1 = view.bounds
    width, height = x1 - x0, y1 - y0
    # The data reaches within 2 % of every side of the frame: no white band on any side.
    for gap in ((bx0 - x0) / width, (x1 - bx1) / width, (by0 - y0) / height, (y1 - by1) / height):
        assert -1e-9 <= gap <= 0.02


def test_scale_bar_is_inside_the_frame_and_clear_of_features(demo_ds: Dataset) -> None:
    fig, drawn, scene, _ = page(demo_ds)
    renderer = fig.canvas.get_renderer()
    frame = drawn.ax.get_window_extent(renderer)
    pieces = [t for t in drawn.ax.texts if t.get_gid() == "respmap-scale-bar"]
    assert len(pieces) == 3  # 0, half and the full length with its unit
    for text in pieces:
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    white = [p for p in drawn.ax.patches if p.get_zorder() == 20]  # the bar's white box
    assert len(white) == 1
    box = white[0].get_window_extent(renderer)
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    # ... and it hides no place drawn on the map.
    x, y = white[0].get_x(), white[0].get_y()
    area = shapely.box(x, y, x + white[0].get_width(), y + white[0].get_height())
    drawn_geoms = scene.draw_geoms[np.asarray(drawn.categories.positions, dtype=int)]
    assert not shapely.intersects(drawn_geoms, area).any()


def test_scale_bar_box_shrinks_to_fit_a_narrow_map(demo_ds: Dataset) -> None:
    fig = new_figure(2.0, 2.0, 72)
    ax = fig.add_axes((0.1, 0.1, 0.3, 0.8))  # 0.6 in wide: a 20 % bar with its figures would not fit
    extent = (0.0, 0.0, 1000.0, 4000.0)
    x0, y0, x1, y1, length_m = scale_bar_box(ax, extent, "zh", fraction=0.9)
    assert 0 < length_m < 1000 and extent[0] <= x0 < x1 <= extent[2] and extent[1] <= y0 < y1 <= extent[3]


def test_no_inset_repeats_the_whole_city(demo_ds: Dataset) -> None:
    fig, _, _, _ = page(demo_ds, inset=True)  # asked for, on a map that already shows the whole city
    assert len(fig.axes) == 1


def test_a_small_unit_page_gets_an_inset_that_shows_where(mini_ds: Dataset) -> None:
    fig, drawn, scene, _ = page(mini_ds, unit="U2")
    assert len(fig.axes) == 2 and drawn.inset is not None
    # The inset's outline of the page's extent is smaller than the city it sits in.
    outline = [p for p in drawn.inset.patches if p.get_edgecolor()[:3] == (0.0, 0.0, 0.0)]
    assert outline and outline[0].get_width() < scene.bounds[2] - scene.bounds[0]
