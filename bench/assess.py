"""Benchmark: assessing a year of 1,000,000 cases over the demo's 156 units and 16 districts.

Generates the three case frames (the shape ``cases.frames.case_frames`` returns)
synthetically with numpy: cases reported through 2026 on the demo's units and
districts, most closed in time, some late, postponed, sent back, disputed and
reassigned, some still open. Then times, in the same process, best of a few runs:

- respmap: ``geo.assessment.assess`` for the year (every indicator per unit,
  district and city, the case ids behind each figure, scores and ranks);
- reference: the pandas a competent analyst would write for the same
  indicators (per-case facts by groupby on the events, a merge with the case
  units, a groupby per unit and per district), without case lists or scores.

It checks the two agree on every count per unit, and prints both times and the
ratio. Targets: respmap <= 5 s, and within 2x the reference.

    python bench/assess.py                 # 1,000,000 cases
    python bench/assess.py --cases 100000
    python bench/assess.py --no-bulletin    # the assessment only

It also times the November bulletin (PDF and DOCX) from the same cases; target PDF <= 10 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from geo import load_dataset  # noqa: E402
from geo.assessment import CaseFrames, assess, held_ground  # noqa: E402
from geo.periods import parse_period  # noqa: E402

TARGET_S = 5.0
TARGET_RATIO = 2.0
TARGET_BULLETIN_S = 10.0
HOUR_NS = 3_600_000_000_000


def synthetic_frames(
    count: int,
    unit_ids: np.ndarray,
    district_ids: np.ndarray,
    seed: int = 12,
    bounds: tuple[float, float, float, float] = (109.0, 32.65, 109.1, 32.73),
) -> CaseFrames:
    """``count`` cases reported through 2026 (UTC), with units and events, all built with numpy (no loops per case)."""
    rng = np.random.default_rng(seed)
    year_start = pd.Timestamp("2025-12-31T16:00:00Z").value  # 2026-01-01 00:00 Asia/Shanghai
    year_ns = 365 * 24 * HOUR_NS
    reported = year_start + rng.integers(0, year_ns, count)
    case_ids = np.char.add("C", np.arange(count).astype("U8")).astype(object)
    # some units are slow, some districts dirtier: skewed picks
    unit_weights = rng.gamma(2.0, 1.0, len(unit_ids))
    lead = rng.choice(len(unit_ids), count, p=unit_weights / unit_weights.sum())
    district = rng.integers(0, len(district_ids), count)
    deadline_h = rng.choice(np.array([2, 24, 48, 72]), count)
    due = reported + deadline_h * HOUR_NS
    public = rng.random(count) < 0.10
    outcome = rng.random(count)
    rejected = public & (outcome < 0.02)
    waiting = public & (outcome >= 0.02) & (outcome < 0.03)
    dispatched = ~rejected & ~waiting
    reassigned = dispatched & (rng.random(count) < 0.03)
    postponed = dispatched & ~reassigned & (rng.random(count) < 0.05)
    reworked = dispatched & (rng.random(count) < 0.05)
    still_open = dispatched & (rng.random(count) < 0.04)
    done = dispatched & ~still_open
    # the unit needs 0.2x..1.6x its deadline (late when > 1)
    work_ns = (deadline_h * HOUR_NS * rng.uniform(0.2, 1.6, count)).astype(np.int64)

    # events as blocks: (case index, time, action, to_state, due_at, unit)
    blocks: list[tuple[np.ndarray, np.ndarray, str, str, np.ndarray | None, np.ndarray | None]] = []
    every = np.arange(count)
    blocks.append((every, reported, "report", "reported", None, None))
    d = np.flatnonzero(dispatched)
    blocks.append((d, reported[d], "dispatch", "dispatched", due[d], None))
    r = np.flatnonzero(rejected)
    blocks.append((r, reported[r] + HOUR_NS, "reject", "rejected", None, None))
    handed = reported.copy()
    new_unit = rng.integers(0, len(unit_ids), count)
    ra = np.flatnonzero(reassigned)
    blocks.append((ra, reported[ra] + HOUR_NS // 2, "dispute", "dispatched", None, None))
    handed[ra] = reported[ra] + HOUR_NS
    due[ra] = handed[ra] + deadline_h[ra] * HOUR_NS
    blocks.append((ra, handed[ra], "reassign", "dispatched", due[ra], unit_ids[new_unit[ra]]))
    pp = np.flatnonzero(postponed)
    blocks.append((pp, handed[pp] + HOUR_NS // 4, "postpone", "postponed", due[pp] + 72 * HOUR_NS, None))
    blocks.append((pp, handed[pp] + HOUR_NS // 3, "dispatch", "dispatched", None, None))
    rectify_at = handed + work_ns
    rw = np.flatnonzero(reworked & done)
    blocks.append((rw, rectify_at[rw] - work_ns[rw] // 3, "rectify", "rectified", None, None))
    blocks.append((rw, rectify_at[rw] - work_ns[rw] // 4, "send_back", "dispatched", None, None))
    dn = np.flatnonzero(done)
    blocks.append((dn, rectify_at[dn], "rectify", "rectified", None, None))
    blocks.append((dn, rectify_at[dn] + HOUR_NS // 2, "close", "closed", None, None))

    case_col = np.concatenate([b[0] for b in blocks])
    at_col = np.concatenate([b[1] for b in blocks])
    action_col = np.concatenate([np.full(len(b[0]), b[2], dtype=object) for b in blocks])
    state_col = np.concatenate([np.full(len(b[0]), b[3], dtype=object) for b in blocks])
    due_col = np.concatenate([b[4] if b[4] is not None else np.full(len(b[0]), np.iinfo(np.int64).min) for b in blocks])
    unit_col = np.concatenate([b[5] if b[5] is not None else np.full(len(b[0]), None, dtype=object) for b in blocks])
    order = np.lexsort((at_col, case_col))  # blocks are in event order within a case, times increase
    case_sorted = case_col[order]
    first = np.r_[True, case_sorted[1:] != case_sorted[:-1]]
    start_of_case = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    seq = np.arange(len(order)) - start_of_case + 1
    events = pd.DataFrame(
        {
            "case_id": case_ids[case_sorted],
            "seq": seq,
            "at": pd.to_datetime(at_col[order], utc=True),
            "action": action_col[order],
            "from_state": None,
            "to_state": state_col[order],
            "due_at": pd.to_datetime(
                np.where(
                    due_col[order] == np.iinfo(np.int64).min,
                    np.datetime64("NaT"),
                    due_col[order].astype("datetime64[ns]"),
                ),
                utc=True,
            ),
            "unit_id": unit_col[order],
            "by_role": "admin",
        }
    )
    shared = dispatched & (rng.random(count) < 0.10)
    sh = np.flatnonzero(shared)
    rows_case = np.concatenate([every, sh, ra])
    rows_unit = np.concatenate([unit_ids[lead], unit_ids[(lead[sh] + 1) % len(unit_ids)], unit_ids[new_unit[ra]]])
    rows_role = np.concatenate([np.full(count, "lead"), np.full(len(sh), "shared"), np.full(len(ra), "manual")])
    rows_since = np.concatenate([reported, reported[sh], handed[ra]])
    reassigned_at = np.where(reassigned, handed, np.iinfo(np.int64).min)
    rows_until = np.concatenate([reassigned_at, reassigned_at[sh], np.full(len(ra), np.iinfo(np.int64).min)])
    case_units = pd.DataFrame(
        {
            "case_id": case_ids[rows_case],
            "unit_id": rows_unit,
            "role": rows_role,
            "since": pd.to_datetime(rows_since, utc=True),
            "until": pd.to_datetime(
                np.where(
                    rows_until == np.iinfo(np.int64).min, np.datetime64("NaT"), rows_until.astype("datetime64[ns]")
                ),
                utc=True,
            ),
        }
    )
    layers = np.array(["back_streets", "urban_villages", "unmanaged_compounds", "riverbank_segments"], dtype=object)
    cases = pd.DataFrame(
        {
            "case_id": case_ids,
            "category": "exposed_garbage",
            "category_name": "暴露垃圾",
            "severity": 2,
            "source": np.where(public, "public", "inspector"),
            "reported_at": pd.to_datetime(reported, utc=True),
            "state": "closed",
            "district_id": district_ids[district],
            "lon": bounds[0] + rng.random(count) * (bounds[2] - bounds[0]),
            "lat": bounds[1] + rng.random(count) * (bounds[3] - bounds[1]),
            "layer": layers[rng.choice(4, count, p=[0.5, 0.3, 0.15, 0.05])],
            "feature_id": None,
            "feature_name": None,
            "fallback": False,
            "due_at": pd.to_datetime(due, utc=True),
        }
    )
    return CaseFrames(cases=cases, case_units=case_units, events=events)


def reference(frames: CaseFrames, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same counts as a competent analyst would compute them with pandas groupby (per unit, per district)."""
    ev = frames.events[frames.events["at"] < end]
    ev = ev.sort_values(["case_id", "seq"])
    by_case = ev.groupby("case_id")
    state = by_case["to_state"].last()
    handing = ev[ev["action"].isin(["dispatch", "reassign"])]
    facts = pd.DataFrame({"state": state})
    facts["dispatched"] = facts.index.isin(handing["case_id"])
    facts["first_dispatch"] = ev[ev["action"] == "dispatch"].groupby("case_id")["at"].min()
    facts["last_reassign"] = ev[ev["action"] == "reassign"].groupby("case_id")["at"].max()
    facts["due_regular"] = handing.dropna(subset=["due_at"]).groupby("case_id")["due_at"].last()
    facts["due_in_force"] = ev.dropna(subset=["due_at"]).groupby("case_id")["due_at"].last()
    facts["postponed_any"] = facts.index.isin(ev.loc[ev["action"] == "postpone", "case_id"])
    facts["close_at"] = ev[ev["action"] == "close"].groupby("case_id")["at"].max()
    facts["last_rectify"] = ev[ev["action"] == "rectify"].groupby("case_id")["at"].max()
    in_period = ev[ev["at"] >= start]
    facts["rework"] = in_period[in_period["action"] == "send_back"].groupby("case_id").size()
    facts["rework"] = facts["rework"].fillna(0).astype(int)
    cases = frames.cases.set_index("case_id")[["reported_at", "district_id"]].join(facts)
    handed = cases[["first_dispatch", "last_reassign"]].max(axis=1)
    live = cases["dispatched"].fillna(False).astype(bool) & (cases["state"] != "rejected")
    cases["attributed"] = live & (cases["reported_at"] >= start) & (cases["reported_at"] < end)
    cases["due"] = live & (cases["due_regular"] >= start) & (cases["due_regular"] < end)
    cases["postponed"] = cases["due"] & cases["postponed_any"].fillna(False).astype(bool)
    cases["closed_on_time"] = cases["due"] & ~cases["postponed"] & (cases["close_at"] <= cases["due_regular"])
    cases["closed"] = cases["attributed"] & cases["close_at"].notna()
    cases["overdue_open"] = live & cases["state"].isin(["dispatched", "postponed"]) & (cases["due_in_force"] < end)
    cases["rectified"] = (cases["last_rectify"] >= start) & (cases["last_rectify"] >= handed)
    cases["hours"] = ((cases["last_rectify"] - handed).dt.total_seconds() / 3600).where(cases["rectified"], 0.0)
    figures = [
        "attributed",
        "due",
        "postponed",
        "closed",
        "closed_on_time",
        "overdue_open",
        "rectified",
        "rework",
        "hours",
    ]
    units = frames.case_units
    active = (units["since"] < end) & (units["until"].isna() | (units["until"] >= end))
    pairs = units.loc[active, ["case_id", "unit_id"]].drop_duplicates().join(cases[figures], on="case_id")
    per_unit = pairs.groupby("unit_id")[figures].sum()
    per_district = cases.groupby("district_id")[figures].sum()
    for table in (per_unit, per_district):
        table["on_time_rate"] = table["closed_on_time"] / (table["due"] - table["postponed"])
        table["close_rate"] = table["closed"] / table["attributed"]
        table["avg_hours_to_rectify"] = table["hours"] / table["rectified"]
    return per_unit, per_district


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Fastest wall time of ``runs`` calls, the CPU time of that run, and the last result.

    On a shared machine the wall time grows with the load; the process's CPU time shows the work itself.
    """
    best, best_cpu, result = float("inf"), 0.0, None
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        result = work()
        wall = time.perf_counter() - started
        if wall < best:
            best, best_cpu = wall, time.process_time() - cpu
    return best, best_cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--no-bulletin", dest="bulletin", action="store_false", help="skip timing the November bulletin"
    )
    args = parser.parse_args()

    ds = load_dataset(REPO / "layers" / "ankang")
    period = parse_period("2026", "Asia/Shanghai")
    unit_ids = ds.units["unit_id"].astype(str).to_numpy(dtype=object)
    district_ids = ds.frame["district_id"].astype(str).to_numpy(dtype=object)
    started = time.perf_counter()
    frames = synthetic_frames(args.cases, unit_ids, district_ids, bounds=tuple(ds.frame.total_bounds))
    print(
        f"generated {len(frames.cases):,} cases, {len(frames.case_units):,} unit rows, {len(frames.events):,} events "
        f"over {len(unit_ids)} units and {len(district_ids)} districts in {time.perf_counter() - started:.1f} s"
    )
    ground_s, _, ground = best_of(1, lambda: held_ground(ds, period))
    respmap_s, respmap_cpu, result = best_of(args.runs, lambda: assess(frames, period, ground))
    reference_s, reference_cpu, (ref_units, ref_districts) = best_of(
        args.runs, lambda: reference(frames, period.start_utc, period.end_utc)
    )

    for name in ("attributed", "due", "postponed", "closed", "closed_on_time", "overdue_open", "rectified", "rework"):
        mine = {s.id: s.figures[name] for s in result.units if s.figures["attributed"] or s.figures[name]}
        theirs = {k: int(v) for k, v in ref_units[name].items() if v}
        assert {k: v for k, v in mine.items() if v} == theirs, f"per-unit {name} differs from the reference"
        mine_d = {s.id: s.figures[name] for s in result.districts if s.figures[name]}
        assert mine_d == {k: int(v) for k, v in ref_districts[name].items() if v}, f"per-district {name} differs"
    print("every per-unit and per-district count equals the reference's")
    city = result.city.figures
    print(
        f"city: attributed {city['attributed']:,}, due {city['due']:,}, on-time rate {city['on_time_rate']:.3f}, "
        f"overdue open {city['overdue_open']:,}, rework {city['rework']:,}, disputes {city['disputes']:,}"
    )
    print(f"held ground of the year (coverage per responsibility segment, once): {ground_s:.2f} s")
    print(
        f"respmap assess (figures + case ids + scores + ranks): {respmap_s:.2f} s wall, "
        f"{respmap_cpu:.2f} s CPU  (target <= {TARGET_S:.0f} s)"
    )
    print(f"reference pandas groupby (figures only):              {reference_s:.2f} s wall, {reference_cpu:.2f} s CPU")
    print(f"machine load (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    ratio = respmap_s / reference_s
    print(f"ratio respmap / reference: {ratio:.2f}  (target <= {TARGET_RATIO:.0f})")
    ok = respmap_s <= TARGET_S and ratio <= TARGET_RATIO
    if args.bulletin:
        ok = bulletin_figures(ds, frames) and ok
    print("OK" if ok else "MISSED TARGET")
    return 0 if ok else 1


def bulletin_figures(ds: Any, frames: CaseFrames) -> bool:
    """Time the November bulletin (a month of the year's cases) as PDF and DOCX; target PDF <= 10 s.

    There is no competent-user reference for a laid-out document: the time is printed
    beside its target only.
    """
    import tempfile

    from geo.assessment import assess_dataset
    from maps.bulletin import build_bulletin, write_bulletin

    month = parse_period("2026-11", "Asia/Shanghai")
    started = time.perf_counter()
    assessment = assess_dataset(ds, frames, month)
    assess_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        bulletin = build_bulletin(ds, assessment)
        write_bulletin(bulletin, Path(folder) / "bulletin.pdf")
        pdf_s = time.perf_counter() - started
        started = time.perf_counter()
        write_bulletin(build_bulletin(ds, assessment), Path(folder) / "bulletin.docx")
        docx_s = time.perf_counter() - started
    shown = len(assessment.case_table)
    print(f"bulletin 2026-11 ({shown:,} cases on the map; month assessed in {assess_s:.2f} s):")
    print(f"  PDF  {pdf_s:.2f} s  (target <= {TARGET_BULLETIN_S:.0f} s)")
    print(f"  DOCX {docx_s:.2f} s")
    return pdf_s <= TARGET_BULLETIN_S


if __name__ == "__main__":
    raise SystemExit(main())
