"""The demo's organisation: units (departments, offices, communities, HQs, companies) and
who holds what (``assignments``), including the planted problems.

What: ``build_units`` invents about 156 units per scale step with contacts and phones;
``build_assignments`` gives every place a lead unit (the one that does this kind of work
in a real plan), shared and supervising units, splits streets into stretches, changes a
few leads on a past date and plants the problems listed in the demo README.

Why: the organisation is independent of how the ground is drawn; it reads each
feature's layer, district and length and writes ``Demo.units`` and ``Demo.rows``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from .model import (
    CHANGE_END,
    CHANGE_START,
    LAYER_ORDER,
    N_LEAD_CHANGES,
    N_SPLIT_STREETS,
    Demo,
    Feature,
    Row,
    Unit,
    floor_decimetre,
    fmt_m,
    to_lonlat,
    to_metric,
    unit_ids,
)
from .names import (
    COMPANIES,
    COUNTIES,
    DEPARTMENTS,
    GIVEN_CHARS,
    IDLE_DEPARTMENT,
    MORE_COUNTIES,
    STREET_PREFIXES,
    SURNAMES,
    cn_number,
    combo_names,
    dedupe,
)


def build_units(st: Demo) -> None:
    """About 156 units per scale step: departments, counties, offices, communities, HQs."""
    rng = st.rng
    n_d = len(st.layers["districts"])
    copies = st.scale
    n_so = 12 * copies
    n_cm = 80 * copies

    def person() -> str:
        return str(SURNAMES[rng.integers(len(SURNAMES))]) + str(GIVEN_CHARS[rng.integers(len(GIVEN_CHARS))])

    def landline() -> str:
        return f"0915-3{rng.integers(0, 1_000_000):06d}"

    def mobile() -> str:
        head = ["130", "133", "135", "137", "139", "150", "153", "158", "180", "189"]
        return f"{head[rng.integers(len(head))]}{rng.integers(0, 100_000_000):08d}"

    units: list[Unit] = []
    dep_ids = unit_ids("DEP", len(DEPARTMENTS) * copies, 2)
    st.dept: list[dict[str, str]] = []
    for c in range(copies):
        table = {}
        for k, name in enumerate(DEPARTMENTS):
            uid = dep_ids[c * len(DEPARTMENTS) + k]
            full = name if c == 0 else f"{name}第{cn_number(c + 1)}分局"
            units.append(Unit(uid, full, "department", "", person(), landline(), 0, "", c))
            table[name] = uid
        st.dept.append(table)
    co_ids = unit_ids("CO", len(COUNTIES) * copies, 2)
    st.county: list[list[str]] = []
    for c in range(copies):
        ids = []
        for k, name in enumerate(COUNTIES):
            uid = co_ids[c * len(COUNTIES) + k]
            if c:
                place = MORE_COUNTIES[(2 * (c - 1) + k) % len(MORE_COUNTIES)]
                name = f"{place}{'人民政府' if k == 0 else '城市管理局'}"
            units.append(Unit(uid, name, "county", "", person(), landline(), 0, "", c))
            ids.append(uid)
        st.county.append(ids)
    so_ids = unit_ids("SO", n_so, 2)
    st.so_of_district = [so_ids[d * 3 // 4] for d in range(n_d)]
    first_district = {}
    for d in range(n_d):
        first_district.setdefault(d * 3 // 4, d)
    for s in range(n_so):
        d = first_district[s]
        tag = st.layers["districts"][d].tag
        units.append(
            Unit(
                so_ids[s],
                f"{tag}街道办事处",
                "street office",
                st.county[d // 16][0],
                person(),
                landline(),
                0,
                str(st.layers["districts"][d].props["id"]),
                d // 16,
            )
        )
    cm_ids = unit_ids("CM", n_cm, 3)
    cm_names = combo_names(
        rng,
        n_cm,
        STREET_PREFIXES,
        ["社区居委会", "路社区居委会", "街社区居委会"],
        lambda p, s, k: f"{p}{cn_number(k)}{s}",
    )
    st.cm_of_district: list[list[str]] = [[] for _ in range(n_d)]
    for i in range(n_cm):
        d = i * n_d // n_cm
        st.cm_of_district[d].append(cm_ids[i])
        units.append(
            Unit(
                cm_ids[i],
                cm_names[i],
                "community",
                st.so_of_district[d],
                person(),
                mobile(),
                0,
                str(st.layers["districts"][d].props["id"]),
                d // 16,
            )
        )
    hq_ids = unit_ids("HQ", n_d, 2)
    st.hq = hq_ids
    for d, feat in enumerate(st.layers["districts"]):
        units.append(
            Unit(
                hq_ids[d],
                f"{feat.props['name']}指挥部",
                "district HQ",
                st.dept[d // 16]["市创建办"],
                person(),
                landline(),
                0,
                str(feat.props["id"]),
                d // 16,
            )
        )
        feat.props["hq_unit"] = hq_ids[d]
        feat.props["street_office"] = st.so_of_district[d]
    cp_ids = unit_ids("CP", len(COMPANIES) * copies, 2)
    st.company: list[list[str]] = []
    for c in range(copies):
        ids = []
        for k, name in enumerate(COMPANIES):
            uid = cp_ids[c * len(COMPANIES) + k]
            full = name if c == 0 else f"{name}第{cn_number(c + 1)}分公司"
            units.append(Unit(uid, full, "company", st.dept[c]["市城管局"], person(), mobile(), 0, "", c))
            ids.append(uid)
        st.company.append(ids)
    names = dedupe([u.name for u in units])
    for u, name in zip(units, names, strict=True):
        u.name = name
    st.units = units
    st.unit_by_id = {u.unit_id: u for u in units}
    st.idle = {st.dept[c][IDLE_DEPARTMENT] for c in range(copies)}
    st.planted["idle"] = sorted(st.idle)


def _pick(st: Demo, options: Sequence[str]) -> str:
    return options[int(st.rng.integers(len(options)))]


def _depts(st: Demo, c: int, exclude: Sequence[str] = ()) -> list[str]:
    return [uid for name, uid in st.dept[c].items() if uid not in st.idle and name not in exclude]


def _lead_for(st: Demo, f: Feature) -> str:
    """The natural lead unit for a feature, by layer (who does this work in a real plan)."""
    d, c, rng = f.district, f.district // 16, st.rng
    dept = st.dept[c]
    layer = f.layer
    if layer == "urban_villages":
        return st.so_of_district[d]
    if layer == "unmanaged_compounds":
        return _pick(st, st.cm_of_district[d])
    if layer == "city_entrances":
        return dept["市交通局"] if rng.random() < 0.5 else dept["市城管局"]
    if layer == "riverbank_segments":
        return dept["市水利局"] if f.props["bank"] == "北岸" else st.so_of_district[d]
    if layer == "facilities":
        kind = f.props["kind"]
        if kind == "公厕":
            return dept["市城管局"] if rng.random() < 0.5 else _pick(st, st.company[c])
        if kind == "垃圾转运站":
            return _pick(st, st.company[c])
        if rng.random() < 0.4:
            return st.so_of_district[d]
        return _pick(st, st.cm_of_district[d])
    u = rng.random()
    if u < 0.5:
        return _pick(st, _depts(st, c, exclude=("市创建办",)))
    if u < 0.65:
        return st.so_of_district[d]
    if u < 0.9:
        return _pick(st, st.cm_of_district[d])
    return _pick(st, st.company[c])


def _extras_for(st: Demo, f: Feature, lead: str) -> list[Row]:
    """Shared and supervising units, by layer."""
    d, c, rng = f.district, f.district // 16, st.rng
    dept = st.dept[c]
    fid = str(f.props["id"])
    rows: list[Row] = []

    def add(unit: str, role: str) -> None:
        if unit != lead and unit not in {r.unit_id for r in rows}:
            rows.append(Row(fid, unit, role))

    layer = f.layer
    if layer == "urban_villages":
        if rng.random() < 0.5:
            add(_pick(st, st.cm_of_district[d]), "shared")
        if rng.random() < 0.2:
            add(dept["市卫生局"], "shared")
        if rng.random() < 0.4:
            add(st.county[c][0], "supervisor")
    elif layer == "back_streets":
        if rng.random() < 0.25:
            add(_pick(st, st.cm_of_district[d]), "shared")
        if rng.random() < 0.1:
            add(dept["市城管局"], "supervisor")
    elif layer == "unmanaged_compounds":
        if rng.random() < 0.35:
            add(st.so_of_district[d], "supervisor")
        if rng.random() < 0.15:
            add(dept["市住建局"], "shared")
    elif layer == "city_entrances":
        add(_pick(st, st.company[c]), "shared")
        add(dept["市公安局交警支队"], "supervisor")
    elif layer == "riverbank_segments":
        if rng.random() < 0.3:
            add(dept["市林业局"], "shared")
        if rng.random() < 0.5:
            add(dept["市环保局"], "supervisor")
    elif layer == "facilities" and f.props["kind"] == "公厕" and rng.random() < 0.3:
        add(dept["市卫生局"], "supervisor")
    return rows


def build_assignments(st: Demo) -> None:
    """Lead/shared/supervisor rows, stretches, lead changes and the planted gaps."""
    rng = st.rng
    scale = st.scale
    # Lengths of lines as consumers will measure them: from the rounded lon/lat, in 4545.
    for layer in ("back_streets", "city_entrances", "riverbank_segments"):
        feats = st.layers[layer]
        metric = to_metric(to_lonlat(np.array([f.geom for f in feats], dtype=object)))
        for f, length in zip(feats, shapely.length(metric), strict=True):
            f.length_floor = floor_decimetre(float(length))
            f.workload_m2 = float(length) * float(f.props["width_m"])
    for layer in ("urban_villages", "unmanaged_compounds"):
        for f in st.layers[layer]:
            f.workload_m2 = float(shapely.area(f.geom))

    rows: dict[str, list[Row]] = {}
    for layer in LAYER_ORDER[1:]:
        for f in st.layers[layer]:
            fid = str(f.props["id"])
            lead = _lead_for(st, f)
            rows[fid] = [Row(fid, lead, "lead"), *_extras_for(st, f, lead)]

    # Planted 1: compounds nobody holds.
    overlap_ids = {x for pair in st.overlap_pairs for x in pair}
    compounds = [f for f in st.layers["unmanaged_compounds"] if str(f.props["id"]) not in overlap_ids]
    for k in rng.permutation(len(compounds))[:scale]:
        fid = str(compounds[int(k)].props["id"])
        rows[fid] = []
        st.planted["unheld"].append(fid)
    st.planted["unheld"].sort()

    # Planted 2: the overlapping pair gets two different leads.
    comp_by_id = {str(f.props["id"]): f for f in st.layers["unmanaged_compounds"]}
    for a, b in st.overlap_pairs:
        lead_a = rows[a][0].unit_id
        fb = comp_by_id[b]
        options = [u for u in st.cm_of_district[fb.district] if u != lead_a]
        rows[b] = [Row(b, _pick(st, options), "lead")]
        st.planted["overlap"].append(f"{a}+{b}")

    # Planted 3 and the split streets.
    streets = st.layers["back_streets"]
    order = [int(i) for i in rng.permutation(len(streets))]
    gap_streets = [i for i in order if 470 <= streets[i].length_floor <= 900][:scale]
    for i in gap_streets:
        f = streets[i]
        fid = str(f.props["id"])
        to_m = 300.0 if f.length_floor >= 480 else 200.0
        rows[fid] = [Row(fid, rows[fid][0].unit_id, "lead", 0.0, to_m)]
        st.planted["gap"].append(f"{fid}:0-{fmt_m(to_m)}-{fmt_m(f.length_floor)}")
    split_pool = [i for i in order if i not in gap_streets and streets[i].length_floor >= 380]
    split = split_pool[: N_SPLIT_STREETS * scale]
    for i in split:
        f = streets[i]
        fid = str(f.props["id"])
        cut = float(round(f.length_floor * rng.uniform(0.35, 0.65) / 10) * 10)
        first = rows[fid][0].unit_id
        others = [
            u
            for u in (_depts(st, f.district // 16) + st.cm_of_district[f.district])
            if u != first and u not in {r.unit_id for r in rows[fid]}
        ]
        second = _pick(st, others)
        rows[fid] = [
            Row(fid, first, "lead", 0.0, cut),
            Row(fid, second, "lead", cut, f.length_floor),
            *rows[fid][1:],
        ]
        st.notes["split"].append(f"{fid}:0-{fmt_m(cut)}-{fmt_m(f.length_floor)}")

    # Lead changes on 2026-01-01.
    taken = set(st.planted["unheld"]) | overlap_ids
    taken |= {str(streets[i].props["id"]) for i in gap_streets + split}
    pools = [
        st.layers[x] for x in ("back_streets", "urban_villages", "unmanaged_compounds", "back_streets", "facilities")
    ]
    for k in range(N_LEAD_CHANGES * scale):
        pool = [f for f in pools[k % len(pools)] if str(f.props["id"]) not in taken]
        f = pool[int(rng.integers(len(pool)))]
        fid = str(f.props["id"])
        taken.add(fid)
        old = rows[fid][0].unit_id
        present = {r.unit_id for r in rows[fid]}
        new = old
        for _ in range(50):
            new = _lead_for(st, f)
            if new not in present:
                break
        if new in present:
            new = _pick(st, [u for u in _depts(st, f.district // 16) if u not in present])
        rows[fid] = [
            Row(fid, old, "lead", valid_until=CHANGE_END),
            Row(fid, new, "lead", valid_from=CHANGE_START),
            *rows[fid][1:],
        ]
        st.notes["change"].append(f"{fid}:{old}->{new}")

    # Every unit but the planted idle ones holds something.
    _cover_every_unit(st, rows, taken)
    st.rows = rows


def _cover_every_unit(st: Demo, rows: dict[str, list[Row]], frozen: set[str]) -> None:
    """Give each unit that holds nothing today a shared/supervisor row near home (except idle)."""
    held = {r.unit_id for rs in rows.values() for r in rs if not r.valid_until}  # a duty that ended is none
    by_district: dict[int, list[Feature]] = {}
    for layer in ("back_streets", "unmanaged_compounds", "urban_villages"):
        for f in st.layers[layer]:
            if str(f.props["id"]) not in frozen:
                by_district.setdefault(f.district, []).append(f)
    n_d = len(st.layers["districts"])
    district_index = {str(f.props["id"]): d for d, f in enumerate(st.layers["districts"])}
    for u in st.units:
        if u.unit_id in held or u.unit_id in st.idle:
            continue
        if u.district:
            near = [district_index[u.district]]
        else:
            near = list(range(16 * u.copy, min(n_d, 16 * u.copy + 16)))
        cands = [f for dd in near for f in by_district.get(dd, [])]
        if not cands:
            cands = [f for fs in by_district.values() for f in fs]
        role = "supervisor" if u.kind in ("district HQ", "county", "street office") else "shared"
        for _ in range(100):
            f = cands[int(st.rng.integers(len(cands)))]
            fid = str(f.props["id"])
            if u.unit_id not in {r.unit_id for r in rows[fid]}:
                rows[fid].append(Row(fid, u.unit_id, role))
                break
