"""Building the whole demo in memory: every step in a fixed order, then self-checks.

Why a fixed order: all randomness flows through one seeded generator, so the order of
the steps is part of the output; two runs with the same arguments give the same bytes.
"""

from __future__ import annotations

import numpy as np
import shapely

from .model import LAYER_ORDER, Demo, to_lonlat
from .organisation import build_assignments, build_units
from .places import build_compounds, build_facilities, build_streets, build_villages
from .plan import build_plan
from .staffing import compute_staff


def build(scale: int, seed: int) -> Demo:
    """Build the demo at this scale from this seed: every step in a fixed order."""
    st = Demo(scale, seed)
    build_plan(st)
    build_villages(st)
    build_streets(st)
    build_compounds(st)
    build_facilities(st)
    build_units(st)
    build_assignments(st)
    compute_staff(st)
    check(st)
    return st


def check(st: Demo) -> None:
    """Self-checks on what will be written (lon/lat, rounded)."""
    seen: set[str] = set()
    for layer in LAYER_ORDER:
        feats = st.layers[layer]
        ll = to_lonlat(np.array([f.geom for f in feats], dtype=object))
        if not (shapely.is_valid(ll).all() and not shapely.is_empty(ll).any()):
            raise RuntimeError(f"{layer}: invalid geometry after rounding")
        for f in feats:
            fid = str(f.props["id"])
            if fid in seen:
                raise RuntimeError(f"duplicate id {fid}")
            seen.add(fid)
        names = [f.props["name"] for f in feats]
        if len(set(names)) != len(names):
            raise RuntimeError(f"{layer}: duplicate names")
    ll = to_lonlat(st.district_geoms)
    total = float(shapely.area(ll).sum())
    if abs(float(shapely.area(shapely.union_all(ll))) - total) > 1e-9 * total:
        raise RuntimeError("rounded districts do not tile")
