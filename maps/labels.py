"""Feature-name labels that do not pile on each other.

Greedy placement by priority: the most important label (a district, then the
biggest place, the longest street) is placed first; every later label tries a
few positions and is dropped when each of them would overlap a label already
placed or the map's furniture (legend box, scale bar, north arrow, inset).
Extents are measured with the figure's own renderer in display units, so the
test is exact for the fonts and sizes that will be printed, and the layout
does not depend on the dpi.

Street names run along their street: the label is set at the straightest part
of the line long enough to hold it, rotated to the line's angle and kept
upright (never upside down), and dropped where the street is too short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from maps.print_style import TEXT_COLOR

# A label along a line needs the line nearly straight under it.
MIN_STRAIGHTNESS = 0.93
# Free space kept around each label, in points.
LABEL_PAD_PT = 1.5


@dataclass(frozen=True, slots=True)
class LabelCandidate:
    """A label that would like to be placed.

    ``x``/``y`` (data units) anchor a point or area label; ``line`` (an (N, 2)
    array in data units) makes it run along a line instead. Lower ``priority``
    is placed first.
    """

    text: str
    priority: float
    x: float = math.nan
    y: float = math.nan
    line: np.ndarray | None = None
    fontsize: float = 7.0
    weight: str = "normal"
    color: str = TEXT_COLOR
    style: str = "normal"


@dataclass(frozen=True, slots=True)
class PlacedLabel:
    text: str
    outline: Any  # shapely Polygon in display units
    angle_deg: float
    artist: Any


class LabelPlacer:
    """Places labels on one axes, remembering what is already occupied."""

    def __init__(self, ax: Any, renderer: Any | None = None) -> None:
        from matplotlib.font_manager import FontProperties

        self.ax = ax
        self.renderer = renderer or ax.figure.canvas.get_renderer()
        ax.apply_aspect()
        box = ax.get_window_extent(self.renderer)
        self.frame = shapely.box(box.x0, box.y0, box.x1, box.y1)
        self.occupied: list[Any] = []
        self.placed: list[PlacedLabel] = []
        self.skipped: list[str] = []
        self._font = FontProperties
        self._pad_px = LABEL_PAD_PT * ax.figure.dpi / 72.0

    def block(self, bbox: Any) -> None:
        """Mark a display-space box (a matplotlib Bbox) as taken: furniture, legend, inset."""
        self.occupied.append(shapely.box(bbox.x0, bbox.y0, bbox.x1, bbox.y1))

    def block_axes_fraction(self, x0: float, y0: float, x1: float, y1: float) -> None:
        (dx0, dy0), (dx1, dy1) = self.ax.transAxes.transform([(x0, y0), (x1, y1)])
        self.occupied.append(shapely.box(dx0, dy0, dx1, dy1))

    def measure(self, candidate: LabelCandidate) -> tuple[float, float]:
        """Width and height of the text in display pixels."""
        props = self._font(size=candidate.fontsize, weight=candidate.weight, style=candidate.style)
        width, height, _descent = self.renderer.get_text_width_height_descent(candidate.text, props, ismath=False)
        return width, height

    def place_all(self, candidates: list[LabelCandidate]) -> list[PlacedLabel]:
        """Place candidates by priority (stable), skip those that would collide."""
        for candidate in sorted(candidates, key=lambda c: c.priority):
            if not candidate.text:
                continue
            if candidate.line is not None:
                ok = self._place_along(candidate)
            else:
                ok = self._place_at_point(candidate)
            if not ok:
                self.skipped.append(candidate.text)
        return self.placed

    # -- internals -----------------------------------------------------------
    def _free(self, outline: Any) -> bool:
        if not shapely.contains(self.frame, outline):
            return False
        if not self.occupied:
            return True
        return not bool(shapely.intersects(np.asarray(self.occupied, dtype=object), outline).any())

    def _place_at_point(self, candidate: LabelCandidate) -> bool:
        if not (math.isfinite(candidate.x) and math.isfinite(candidate.y)):
            return False
        width, height = self.measure(candidate)
        cx, cy = self.ax.transData.transform((candidate.x, candidate.y))
        pad = self._pad_px
        # Centred first (area labels sit on their area), then just above, below, right, left.
        offsets = [(0.0, 0.0), (0.0, height * 0.9), (0.0, -height * 0.9), (width * 0.6, 0.0), (-width * 0.6, 0.0)]
        for dx, dy in offsets:
            x, y = cx + dx, cy + dy
            outline = shapely.box(x - width / 2 - pad, y - height / 2 - pad, x + width / 2 + pad, y + height / 2 + pad)
            if self._free(outline):
                data_x, data_y = self.ax.transData.inverted().transform((x, y))
                artist = self._text(candidate, data_x, data_y, 0.0)
                self._remember(candidate.text, outline, 0.0, artist)
                return True
        return False

    def _place_along(self, candidate: LabelCandidate) -> bool:
        line = np.asarray(candidate.line, dtype=float)
        if len(line) < 2:
            return False
        display = self.ax.transData.transform(line)
        steps = np.hypot(*np.diff(display, axis=0).T)
        along = np.r_[0.0, np.cumsum(steps)]
        total = along[-1]
        width, height = self.measure(candidate)
        need = width + 2 * self._pad_px
        if total < need * 1.05:
            return False
        half = need / 2
        centres = _centres_to_try(display, along, need)
        for centre in centres:
            start, end = centre - half, centre + half
            if start < 0 or end > total:
                continue
            p0 = _interpolate(display, along, start)
            p1 = _interpolate(display, along, end)
            chord = np.hypot(*(p1 - p0))
            if chord < need * MIN_STRAIGHTNESS:
                continue
            angle = math.degrees(math.atan2(p1[1] - p0[1], p1[0] - p0[0]))
            if angle > 90:  # keep the text upright
                angle -= 180
            elif angle <= -90:
                angle += 180
            mid = _interpolate(display, along, centre)
            outline = _rotated_box(mid[0], mid[1], need, height + 2 * self._pad_px, angle)
            if self._free(outline):
                data_x, data_y = self.ax.transData.inverted().transform(mid)
                artist = self._text(candidate, data_x, data_y, angle)
                self._remember(candidate.text, outline, angle, artist)
                return True
        return False

    def _text(self, candidate: LabelCandidate, x: float, y: float, angle: float) -> Any:
        """The label over a white halo.

        The halo is a second, stroke-only copy underneath: text drawn with a
        path effect becomes outlines in a PDF, and the label itself should stay
        real text that a reader can search for (a street name in the atlas).
        """
        from matplotlib import patheffects

        common = {
            "fontsize": candidate.fontsize,
            "fontweight": candidate.weight,
            "fontstyle": candidate.style,
            "ha": "center",
            "va": "center",
            "rotation": angle,
            "rotation_mode": "anchor",
            "clip_on": True,
        }
        self.ax.text(
            x,
            y,
            candidate.text,
            color="white",
            zorder=14.9,
            path_effects=[patheffects.Stroke(linewidth=2.2, foreground="white")],
            **common,
        )
        return self.ax.text(x, y, candidate.text, color=candidate.color, zorder=15, **common)

    def _remember(self, text: str, outline: Any, angle: float, artist: Any) -> None:
        self.occupied.append(outline)
        self.placed.append(PlacedLabel(text, outline, angle, artist))


def _centres_to_try(display: np.ndarray, along: np.ndarray, need: float) -> list[float]:
    """Distances along the line at which to centre a label, best first.

    First the middles of the straight runs long enough for the label, longest
    run first (a name belongs on the long straight part of an L-shaped lane,
    not round its corner); then positions from the middle of the whole line
    outwards in quarter-label steps.
    """
    total = along[-1]
    half = need / 2
    straight = shapely.simplify(shapely.linestrings(display), need * 0.04)
    vertices = shapely.get_coordinates(straight)
    runs: list[tuple[float, float]] = []
    if len(vertices) >= 2:
        lengths = np.hypot(*np.diff(vertices, axis=0).T)
        # where each simplified vertex lies along the original line
        line = shapely.linestrings(display)
        positions = shapely.line_locate_point(line, shapely.points(vertices))
        for i in np.argsort(-lengths, kind="stable"):
            if lengths[i] >= need:
                runs.append((lengths[i], (positions[i] + positions[i + 1]) / 2))
    centres = [centre for _length, centre in runs]
    middle = total / 2
    shifts = np.arange(0.0, max(middle - half, 0.0) + 1e-9, max(need / 4, 1.0))
    centres.append(middle)
    for shift in shifts[1:]:
        centres.extend((middle - shift, middle + shift))
    return centres


def _interpolate(points: np.ndarray, along: np.ndarray, distance: float) -> np.ndarray:
    x = np.interp(distance, along, points[:, 0])
    y = np.interp(distance, along, points[:, 1])
    return np.array([x, y])


def _rotated_box(cx: float, cy: float, width: float, height: float, angle_deg: float) -> Any:
    angle = math.radians(angle_deg)
    cos, sin = math.cos(angle), math.sin(angle)
    corners = [(-width / 2, -height / 2), (width / 2, -height / 2), (width / 2, height / 2), (-width / 2, height / 2)]
    return shapely.Polygon([(cx + dx * cos - dy * sin, cy + dx * sin + dy * cos) for dx, dy in corners])


def longest_part(geom: Any) -> np.ndarray:
    """Vertices of the longest LineString part of a (Multi)LineString: where a street name goes."""
    parts = shapely.get_parts(geom)
    if not len(parts):
        return np.empty((0, 2))
    best = parts[int(np.argmax(shapely.length(parts)))]
    return shapely.get_coordinates(best)
