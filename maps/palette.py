"""Colours for the interactive map: units, standard grades and coverage status.

Units are many (about 156 in the demo) and colours that can be told apart are
few (a dozen), so a unit's colour is chosen by a greedy graph colouring: two
units are neighbours when their duty zones come within ``near_m`` of each
other, and neighbours get different colours. A planner then never sees two
touching stretches of different units in the same colour, which is what
matters on a coverage map (a legend entry per unit tells the rest).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import shapely

# Qualitative colours that stay apart from each other and from the reserved
# status colours below (no pure red, no purple, no grey).
UNIT_PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#8c564b",
    "#17becf",
    "#bcbd22",
    "#e377c2",
    "#0b3d91",
    "#b8860b",
    "#006d5b",
    "#f4a6a6",
    "#6b8e23",
)
# Nobody holds it: the same red in every colouring so it always reads the same.
UNHELD_COLOUR = "#d7191c"
CONFLICT_COLOUR = "#7b3294"
GAP_COLOUR = "#ff00aa"
FALLBACK_COLOUR = "#fdd49e"
HELD_COLOUR = "#1a9641"
NO_GRADE_COLOUR = "#9e9e9e"
DISTRICT_OUTLINE = "#3a3a3a"
# Ordered so the strictest grade is the darkest; more grades than this reuse the tail.
GRADE_PALETTE: tuple[str, ...] = (
    "#08519c",
    "#3182bd",
    "#6baed6",
    "#fd8d3c",
    "#e6550d",
    "#a63603",
    "#54278f",
    "#756bb1",
)

# Coverage status -> colour; the keys are the status codes used in the page data.
STATUS_COLOURS: dict[str, str] = {
    "held": HELD_COLOUR,
    "unheld": UNHELD_COLOUR,
    "conflict": CONFLICT_COLOUR,
    "fallback": FALLBACK_COLOUR,
}


def neighbour_pairs(geometries: np.ndarray, owners: Sequence[str], near_m: float) -> set[tuple[str, str]]:
    """Pairs of distinct owners whose geometries come within ``near_m`` metres.

    ``geometries`` are in a metric CRS, one per entry of ``owners``; empty
    owners ('' = nobody) take no part.
    """
    owner_array = np.asarray(owners, dtype=object)
    keep = np.flatnonzero((owner_array != "") & ~shapely.is_empty(geometries) & ~shapely.is_missing(geometries))
    if len(keep) < 2:
        return set()
    tree = shapely.STRtree(geometries[keep])
    left, right = tree.query(geometries[keep], predicate="dwithin", distance=near_m)
    a = owner_array[keep[left]]
    b = owner_array[keep[right]]
    differ = a != b
    return {(x, y) if x < y else (y, x) for x, y in zip(a[differ], b[differ], strict=True)}


def colour_graph(
    nodes: Sequence[str], edges: set[tuple[str, str]], palette: Sequence[str] = UNIT_PALETTE
) -> dict[str, str]:
    """A colour per node so that neighbours differ whenever the palette allows.

    DSatur: repeatedly colour the node whose neighbours already use the most
    distinct colours (ties: more neighbours, then the id, for a stable
    result), with the first colour none of its neighbours has. When every
    colour is taken, the one fewest neighbours use is reused.
    """
    adjacency: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        adjacency[a].add(b)
        adjacency[b].add(a)
    colour_of: dict[str, int] = {}
    seen_colours: dict[str, set[int]] = defaultdict(set)
    usage = np.zeros(len(palette), dtype=int)
    # A heap with lazy deletion: stale entries (saturation changed since) are skipped.
    heap = [(0, -len(adjacency[n]), n) for n in dict.fromkeys(nodes)]
    heapq.heapify(heap)
    while heap:
        negative_saturation, _, node = heapq.heappop(heap)
        if node in colour_of or -negative_saturation != len(seen_colours[node]):
            continue
        free = [c for c in range(len(palette)) if c not in seen_colours[node]]
        if free:
            # Among free colours prefer the least used overall, to spread colours evenly.
            choice = min(free, key=lambda c: (usage[c], c))
        else:
            counts = np.bincount([colour_of[n] for n in adjacency[node] if n in colour_of], minlength=len(palette))
            choice = int(np.argmin(counts))
        colour_of[node] = choice
        usage[choice] += 1
        for neighbour in adjacency[node]:
            if neighbour not in colour_of and choice not in seen_colours[neighbour]:
                seen_colours[neighbour].add(choice)
                heapq.heappush(heap, (-len(seen_colours[neighbour]), -len(adjacency[neighbour]), neighbour))
    return {node: palette[index] for node, index in colour_of.items()}


def unit_colours(geometries: np.ndarray, owners: Sequence[str], near_m: float = 150.0) -> dict[str, str]:
    """Colour per unit id for the pieces ``geometries`` (metric CRS) held by ``owners``."""
    units = sorted({o for o in owners if o})
    return colour_graph(units, neighbour_pairs(geometries, owners, near_m))


def grade_colours(grades: Sequence[str]) -> dict[str, str]:
    """Colour per grade, in the order given (strictest first); '' is 'no standard'."""
    named = [g for g in dict.fromkeys(grades) if g]
    colours = {g: GRADE_PALETTE[min(i, len(GRADE_PALETTE) - 1)] for i, g in enumerate(named)}
    colours[""] = NO_GRADE_COLOUR
    return colours
