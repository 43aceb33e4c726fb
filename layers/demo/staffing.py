"""Staff figures of the demo's units, from the workload they hold.

What: each unit's cleaners = its held area (lines: length x width; stretches pro rata)
x the standard's workers per 10,000 m², shared work counted half, with a margin; a few
busy units are made clearly short of staff on purpose (listed in the demo README).

Why: coverage's staff and money figures need believable numbers, and a planner's first
question (who is short of staff?) needs a known answer.
"""

from __future__ import annotations

import math

from .model import DATA_DATE, LAYER_ORDER, Demo
from .standards import STANDARDS


def compute_staff(st: Demo) -> None:
    """Staff from workload (area x quota) with margin; a few units clearly short."""
    rng = st.rng
    std = {(a, g): w for _, a, g, _, _, _, w, _, _, _, _ in STANDARDS}
    feat = {str(f.props["id"]): f for layer in LAYER_ORDER[1:] for f in st.layers[layer]}
    need: dict[str, float] = {}
    for fid, rs in st.rows.items():
        f = feat[fid]
        if f.layer == "facilities":
            continue
        grade = str(f.props["grade"])
        quota = std.get((f.layer, grade), std.get(("*", grade), 1.0))
        for r in rs:
            if r.valid_until and r.valid_until < DATA_DATE:
                continue
            share = 1.0 if r.role == "lead" else 0.5 if r.role == "shared" else 0.0
            area = f.workload_m2
            if r.from_m is not None and r.to_m is not None and f.length_floor:
                area *= (r.to_m - r.from_m) / f.length_floor
            need[r.unit_id] = need.get(r.unit_id, 0.0) + share * area * quota / 10000
    busy = sorted(u.unit_id for u in st.units if need.get(u.unit_id, 0.0) >= 2.0 and u.kind != "company")
    n_short = max(4, round(0.06 * len(busy)))
    short = {busy[int(i)] for i in rng.permutation(len(busy))[:n_short]}
    for u in st.units:
        req = need.get(u.unit_id, 0.0)
        if u.unit_id in short:
            u.staff = math.floor(req * rng.uniform(0.25, 0.5))
            st.notes["short"].append(f"{u.unit_id}:{u.staff}/{req:.1f}")
        elif u.kind == "company":
            u.staff = math.ceil(req * rng.uniform(1.3, 1.8)) + int(rng.integers(20, 60))
        elif u.kind == "district HQ":
            u.staff = math.ceil(req * 1.5) + int(rng.integers(6, 20))
        elif req > 0:
            u.staff = max(1, math.ceil(req * rng.uniform(1.25, 1.8)))
        else:
            u.staff = int(rng.integers(0, 4))
    st.notes["short"].sort()
