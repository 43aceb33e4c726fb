"""The nearest duty zone to a point outside every district, exactly, in a few distance calls.

Per block of the metric plane, the features that can be nearest anywhere in it
are found once (two tree queries); a point then measures only those, usually one
or two (:class:`NearestCandidates`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import shapely

from geo.lookup_answers import AnswerIndex
from geo.lookup_index import GeometryIndex

if TYPE_CHECKING:
    from geo.lookup_results import Nearest

__all__ = ["NearestCandidates", "nearest_zone"]


def nearest_zone(answers: AnswerIndex, lon: float, lat: float) -> Nearest | None:
    """The zone whose edge (geometry plus tolerance) is nearest to a WGS-84 point, and that distance.

    Ties go to the first feature. Exact: the candidates of the point's block
    (:class:`NearestCandidates`) include every feature that can be nearest
    anywhere in the block, and the point's distance to each is measured.
    """
    geometry = answers.geometry
    if geometry.tree is None:
        return None
    x, y = geometry.to_metric.transform(lon, lat)
    if not (math.isfinite(x) and math.isfinite(y)):
        return None  # beyond the metric CRS's domain: no meaningful distance to any zone
    found = answers.single_cache.get("nearest")
    if found is None:
        found = answers.single_cache.setdefault("nearest", NearestCandidates(geometry))
    feats = geometry.features
    point = shapely.Point(x, y)
    best, to_edge = -1, math.inf
    for f in found.of(x, y):
        # The arithmetic of the vectorised form: max(distance - radius, 0), the first of equals kept.
        distance = max(float(shapely.distance(point, feats.geometry[f])) - found.radius_m[f], 0.0)
        if distance < to_edge:
            best, to_edge = f, distance
    if best < 0:  # no zone feature at all
        return None
    from geo.lookup_results import Nearest

    row = int(answers.piece_start[best])
    text = answers.text
    return Nearest(
        str(text["layer"][row]),
        str(text["layer_title"][row]),
        str(text["feature_id"][row]),
        str(text["name"][row]),
        to_edge,
    )


class NearestCandidates:
    """Per block of ``BLOCK_M`` metres: the features that can be the nearest zone to a point in it.

    Distances move by at most ``h`` (half the block's diagonal) between the block's
    centre c and any point p of it, and so do the distances to zone edges
    e(p) = max(distance - radius, 0). The nearest feature at p has e(p) <= m + h,
    where m is the least e(c), hence e(c) <= m + 2h: the features within that bound
    of the centre are the candidates, usually one or two. Finding them costs two
    tree queries once per block; a point then measures only them. Blocks come from
    requests, so at most ``MAX_BLOCKS`` are kept (all are dropped when full).
    """

    BLOCK_M = 50.0  # about 1.5 candidates a block on the demo (4 at 250 m); blocks are cheap to build
    MAX_BLOCKS = 16_384  # a few MB at most
    SLACK_M = 1e-6  # rounding of the bounds: a candidate too many costs nothing, one too few would be wrong

    def __init__(self, geometry: GeometryIndex) -> None:
        self.geometry = geometry
        feats = geometry.features
        self.radius_m: list[float] = feats.radius_m.tolist()
        self.max_radius_m = float(feats.radius_m[: feats.n_zone].max()) if feats.n_zone else 0.0
        self.half_diagonal_m = self.BLOCK_M * math.sqrt(0.5)
        self.blocks: dict[tuple[int, int], list[int]] = {}

    def of(self, x_m: float, y_m: float) -> list[int]:
        """Candidate features (ascending) for a metric point."""
        key = (math.floor(x_m / self.BLOCK_M), math.floor(y_m / self.BLOCK_M))
        found = self.blocks.get(key)
        if found is None:
            found = self._build((key[0] + 0.5) * self.BLOCK_M, (key[1] + 0.5) * self.BLOCK_M)
            if len(self.blocks) >= self.MAX_BLOCKS:
                self.blocks.clear()
            self.blocks[key] = found
        return found

    def _build(self, cx: float, cy: float) -> list[int]:
        tree, feats = self.geometry.tree, self.geometry.features
        centre = shapely.Point(cx, cy)
        radius = feats.radius_m

        def to_edge(features: np.ndarray) -> np.ndarray:
            return np.maximum(shapely.distance(centre, feats.geometry[features]) - radius[features], 0.0)

        first = int(tree.nearest(centre))
        # Every feature whose edge is nearest the centre lies within this distance of it.
        reach = float(shapely.distance(centre, feats.geometry[first])) + self.max_radius_m
        least = float(to_edge(tree.query(centre, predicate="dwithin", distance=reach)).min())
        bound = least + 2.0 * self.half_diagonal_m + self.SLACK_M
        wide = np.sort(tree.query(centre, predicate="dwithin", distance=bound + self.max_radius_m))
        return wide[to_edge(wide) <= bound].tolist()
