"""Benchmark: coverage analytics on the demo and on a scaled demo.

Times ``geo.coverage.build_coverage`` (gaps, slivers, conflicts, nesting,
unheld, workload: everything) on an already loaded dataset, best of a few
runs, against the targets (demo < 2 s, scale 100 < 60 s). Beside it, in the
same process, runs the reference a competent user would write for the
costly part, the overlaps: ``geopandas.overlay(zones, zones, how="intersection")``
of the held duty zones in the metric CRS, then a filter to pairs of
different units, and prints the ratio to respmap's own overlap step
(conflicts and nesting from STRtree candidate pairs).

    python bench/coverage.py               # demo + scale 100 (generated into /tmp if missing)
    python bench/coverage.py --scale 10    # demo + another scale
    python bench/coverage.py --scale 0     # demo only
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

from scaled_data import dataset_folder  # noqa: E402 - bench/ is on sys.path when run as a script

sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402

from geo import Dataset, load_dataset  # noqa: E402
from geo.coverage import build_coverage  # noqa: E402
from geo.coverage_overlaps import overlaps  # noqa: E402
from geo.zones import HOLDING_ROLES  # noqa: E402

DATE = pd.Timestamp("2026-03-01")
TARGET_S = {1: 2.0, 100: 60.0}


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Fastest wall time of ``runs`` calls, and the last result."""
    best = float("inf")
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def reference_overlaps(ds: Dataset) -> pd.DataFrame:
    """What a competent geopandas user writes: overlay the held zones with themselves, keep unit pairs."""
    zones = ds.zones_on(DATE)
    held = zones[zones["role"].isin(HOLDING_ROLES)]
    frame = gpd.GeoDataFrame(
        {"zone": range(len(held)), "unit": held["unit_id"].to_numpy(), "priority": held["priority"].to_numpy()},
        geometry=held["zone_metric"].values,
        crs=ds.metric_crs,
    )
    pairs = gpd.overlay(frame, frame, how="intersection", keep_geom_type=True)
    pairs = pairs[(pairs["zone_1"] < pairs["zone_2"]) & (pairs["unit_1"] != pairs["unit_2"])]
    pairs = pairs.assign(area_m2=pairs.area)
    return pairs[pairs["area_m2"] > 1e-3]


def measure(scale: int, *, with_reference: bool) -> None:
    folder = dataset_folder(scale)
    started = time.perf_counter()
    ds = load_dataset(folder)
    load_s = time.perf_counter() - started
    ds.zones_on(DATE)  # the per-date zone filter is the loader's cache, shared with lookups
    runs = 3 if scale <= 10 else 1
    total_s, report = best_of(runs, lambda: build_coverage(ds, DATE, 1.0))
    zones = ds.zones_on(DATE)
    overlap_s, _ = best_of(runs, lambda: overlaps(zones, 1.0))
    target = TARGET_S.get(scale)
    print(
        f"scale {scale}: {len(ds.duty_zones):,} duty zones ({len(zones):,} on {DATE.date()}); load {load_s:.2f} s (not counted)"
    )
    print(
        f"  respmap coverage (everything): {total_s:.2f} s"
        + (f"   target < {target:g} s" if target else "")
        + ("   OK" if target and total_s < target else ("   MISSED" if target else ""))
    )
    totals = report.totals
    print(
        f"    {totals['conflicts']} conflicts, {totals['nesting']} nesting, {totals['junctions']} junctions, "
        f"{totals['gaps']} gaps, {totals['slivers']} slivers, {totals['unheld_features']} unheld features, "
        f"{totals['unheld_stretches']} unheld stretches, {totals['idle_units']} idle units"
    )
    print(f"  respmap overlap step (conflicts + nesting, STRtree pairs): {overlap_s:.3f} s")
    if with_reference:
        reference_s, pairs = best_of(runs, lambda: reference_overlaps(ds))
        print(
            f"  reference geopandas.overlay(zones, zones) + unit filter: {reference_s:.3f} s "
            f"({len(pairs):,} overlapping pairs of different units, junctions and nesting not told apart)"
        )
        print(f"  ratio reference / respmap overlap step: {reference_s / overlap_s:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100, help="scaled demo to time besides the demo (0: none)")
    parser.add_argument(
        "--reference-at-scale", action="store_true", help="also run the overlay reference at --scale (slow)"
    )
    args = parser.parse_args()
    measure(1, with_reference=True)
    if args.scale and args.scale != 1:
        measure(args.scale, with_reference=args.reference_at_scale)


if __name__ == "__main__":
    main()
