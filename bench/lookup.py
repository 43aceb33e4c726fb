"""Benchmark: point lookup, batch and single, beside the reference a competent user would write.

The reference for a batch is ``geopandas.sjoin`` of the points (WGS-84) against
the buffered duty zones of the date (their WGS-84 polygons, which is what
``ds.zones_on(date)`` holds), keeping the lowest priority per point in input
order; for one point it is the zones' spatial index queried with that point. Both run in this
process on the same random points, uniform over the districts' extent.

Printed: points/s of both batch paths and their ratio, how many best answers
agree (feature level: the reference has no distances, so where several zones of
the best priority cover a point any of them counts), the disagreements sorted by
how far the point is from a zone edge, the median single lookup, and the index
build times (geometry, then the answer rows of the date).

    python bench/lookup.py                          # the demo, 1 million points
    python bench/lookup.py --scale 100              # generated into /tmp on first use
    python bench/lookup.py --points 200000 --single 5000
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from scaled_data import dataset_folder  # noqa: E402 - bench/ is on sys.path when run as a script

sys.path.insert(0, str(REPO))

DATE = "2026-03-01"
TARGETS = {"ratio": 20.0, "points_per_s": 10e6, "single_us": 20.0, "build_s": {1: 1.0, 100: 20.0}}


def best_of(runs: int, action: object) -> tuple[float, float, object]:
    """Shortest wall time and shortest CPU time of ``runs`` calls, and the last result.

    The machine is shared: the minimum is the honest figure, and CPU time (both
    paths run on one core) shows what another process's load hides.
    """
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(runs):
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        result = action()  # type: ignore[operator]
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall, cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1, help="dataset scale (1: the demo; others generated in /tmp)")
    parser.add_argument("--points", type=int, default=1_000_000, help="random points for the batch (default 1e6)")
    parser.add_argument("--single", type=int, default=20_000, help="points timed one by one (default 20000)")
    parser.add_argument("--runs", type=int, default=3, help="batch runs of ours; the best counts (default 3)")
    args = parser.parse_args()

    import geopandas as gpd
    import shapely

    from geo import load_dataset
    from geo.lookup import lookup, lookup_index, lookup_many

    folder = dataset_folder(args.scale)
    started = time.perf_counter()
    ds = load_dataset(folder)
    load_s = time.perf_counter() - started
    started, started_cpu = time.perf_counter(), time.process_time()
    answers = lookup_index(ds, DATE)
    index_s, index_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    geometry = answers.geometry
    sizes = geometry.describe()
    print(
        f"dataset {ds.name} ({folder}), scale {args.scale}: {sizes['features']:,} features, "
        f"{sizes['districts']:,} districts; loaded in {load_s:.2f} s"
    )
    build_target = TARGETS["build_s"].get(args.scale)
    print(
        f"index build: {index_s:.2f} s wall, {index_cpu:.2f} s CPU (geometry {geometry.build_s:.2f} s + answer "
        f"rows of {DATE} {index_s - geometry.build_s:.2f} s)"
        + (f"   target < {build_target:g} s" if build_target else "")
    )
    print(
        f"  grid {sizes['cell_m']:.2f} m cells, {sizes['cells']:,} cells, {sizes['mixed_share']:.1%} mixed, "
        f"{sizes['signatures']:,} signatures, {sizes['candidate_pairs']:,} candidate segment pairs"
    )

    rng = np.random.default_rng(20260301)
    west, south, east, north = ds.frame.total_bounds
    lon = rng.uniform(west, east, args.points)
    lat = rng.uniform(south, north, args.points)
    codes = geometry.cells[geometry.grid.padded_index(lon, lat)]
    print(f"\n{args.points:,} random points over the districts' extent; {np.mean(codes < 0):.1%} fall in mixed cells")

    lookup_many(ds, lon[:1000], lat[:1000], date=DATE)  # warm up (imports, categorical codes)
    ours_s, ours_cpu, ours = best_of(args.runs, lambda: lookup_many(ds, lon, lat, date=DATE))
    ours_rate = args.points / ours_s

    zones = ds.zones_on(DATE)
    reference_zones = gpd.GeoDataFrame(
        {
            "layer": zones["layer"].to_numpy(),
            "feature_id": zones["feature_id"].to_numpy(),
            "priority": zones["priority"].to_numpy(),
        },
        geometry=zones.geometry.values,
        crs=4326,
    )
    reference_zones.sindex  # noqa: B018 - build the spatial index before timing, as a user's session would have it

    def reference() -> object:
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
        joined = gpd.sjoin(points, reference_zones, how="left", predicate="intersects")
        joined = joined.sort_values("priority", kind="stable")  # NaN (no zone) last
        best = joined[~joined.index.duplicated()].sort_index()  # one answer per point, in input order
        return joined, best

    reference_s, reference_cpu, (joined, _) = best_of(1, reference)
    reference_rate = args.points / reference_s
    ratio = ours_rate / reference_rate
    print(
        f"batch  respmap lookup_many: {ours_rate / 1e6:6.2f} M points/s ({ours_s:.3f} s wall, {ours_cpu:.3f} s CPU, "
        f"best of {args.runs}; {args.points / ours_cpu / 1e6:.2f} M points per CPU second)"
        f"   aim {TARGETS['points_per_s'] / 1e6:g} M/s"
    )
    print(
        f"batch  reference sjoin:     {reference_rate / 1e6:6.2f} M points/s ({reference_s:.3f} s wall, "
        f"{reference_cpu:.3f} s CPU)"
    )
    print(f"batch  ratio: {ratio:.1f}x wall, {reference_cpu / ours_cpu:.1f}x CPU   target >= {TARGETS['ratio']:g}x")

    agree, explained = agreement(ds, geometry, lon, lat, ours, joined)
    disagree = args.points - agree
    print(f"agreement: {agree:,} of {args.points:,} best answers identical; {disagree:,} differ")
    for label, count in explained.items():
        print(f"  {label}: {count:,}")

    # -- single points ---------------------------------------------------------------
    n = min(args.single, args.points)
    single_lon, single_lat = lon[:n].tolist(), lat[:n].tolist()
    for x, y in zip(single_lon[:200], single_lat[:200], strict=True):
        lookup(ds, x, y, date=DATE)
    ours_times = []
    for x, y in zip(single_lon, single_lat, strict=True):
        started = time.perf_counter_ns()
        lookup(ds, x, y, date=DATE)
        ours_times.append(time.perf_counter_ns() - started)
    mixed = (codes[:n] < 0).tolist()
    mixed_times = [t for t, m in zip(ours_times, mixed, strict=True) if m]
    tree = reference_zones.sindex
    priority = reference_zones["priority"].to_numpy()
    reference_times = []
    for x, y in zip(single_lon[: n // 4], single_lat[: n // 4], strict=True):
        started = time.perf_counter_ns()
        hits = tree.query(shapely.Point(x, y), predicate="intersects")
        if len(hits):
            reference_zones.iloc[int(hits[np.argmin(priority[hits])])]
        reference_times.append(time.perf_counter_ns() - started)
    ours_median = statistics.median(ours_times) / 1000
    reference_median = statistics.median(reference_times) / 1000
    print(
        f"\nsingle respmap ds.lookup: median {ours_median:.1f} µs, p90 {np.percentile(ours_times, 90) / 1000:.1f} µs, "
        f"p99 {np.percentile(ours_times, 99) / 1000:.1f} µs over {n:,} points   target median < "
        f"{TARGETS['single_us']:g} µs"
    )
    if mixed_times:
        print(
            f"single respmap, points in mixed cells only: median {statistics.median(mixed_times) / 1000:.1f} µs "
            f"({len(mixed_times):,} points)"
        )
    print(
        f"single reference sindex query + best row: median {reference_median:.1f} µs "
        f"(ratio {reference_median / ours_median:.1f}x)"
    )


def agreement(
    ds: object, geometry: object, lon: np.ndarray, lat: np.ndarray, ours: object, joined: object
) -> tuple[int, dict[str, int]]:
    """Points where our best zone is among the reference's best-priority zones (or both have none).

    Differences are explained by how far the point lies from the edge of a zone
    involved: within 1 mm (the point is on the edge), or within 8 cm of a polygon
    the reference uses to stand for a round buffer (its chords cut inside the
    true circle by up to tolerance * (1 - cos(pi/32)), 7 cm for a 30 m tolerance);
    or by the part of a line that no stretch assignment covers, which lookup
    reports as a match with no unit while ``duty_zones`` has no polygon for it.
    """
    import pandas as pd
    import shapely

    n = len(lon)
    has_zone = ~ours["fallback"].to_numpy() & (ours["feature_id"] != "").to_numpy()  # type: ignore[index]
    our_key = np.where(has_zone, ours["layer"].astype(str) + "/" + ours["feature_id"].astype(str), "")  # type: ignore[index]
    hits = joined[joined["priority"].notna()]  # type: ignore[index]
    best_priority = hits.groupby(level=0)["priority"].transform("min")
    top = hits[hits["priority"] == best_priority]
    top_keys = (top["layer"] + "/" + top["feature_id"]).groupby(level=0).agg(set)
    reference_sets = pd.Series([set()] * n, dtype=object)
    reference_sets.loc[top_keys.index] = top_keys.to_numpy()
    same = np.fromiter(
        ((k in s) if k else not s for k, s in zip(our_key.tolist(), reference_sets.tolist(), strict=True)),
        dtype=bool,
        count=n,
    )
    differ = np.flatnonzero(~same)
    unheld_stretch = (ours["unit_ids"] == "").to_numpy() & ours["from_m"].notna().to_numpy()  # type: ignore[index]
    explained = {
        "within 1 mm of a zone edge": 0,
        "within 8 cm of a buffer's polygon edge (chords of round caps)": 0,
        "on a stretch of a line no assignment covers (a match with no unit; duty_zones has no polygon)": 0,
        "unexplained (farther from every edge involved)": 0,
    }
    if not len(differ):
        return int(same.sum()), explained
    zones = ds.zones_on(DATE)  # type: ignore[attr-defined]
    key_of_zone = (zones["layer"] + "/" + zones["feature_id"]).to_numpy()
    boundaries = shapely.boundary(np.asarray(zones["zone_metric"].values, dtype=object))
    x, y = geometry.metric(lon[differ], lat[differ])  # type: ignore[attr-defined]
    worst = 0.0
    for j, i in enumerate(differ.tolist()):
        if unheld_stretch[i]:  # the reference cannot see it, whatever else covers the point
            explained[
                "on a stretch of a line no assignment covers (a match with no unit; duty_zones has no polygon)"
            ] += 1
            continue
        involved = set(reference_sets.iat[i]) | ({our_key[i]} if our_key[i] else set())
        rows = np.flatnonzero(np.isin(key_of_zone, list(involved)))
        edge_m = float(shapely.distance(boundaries[rows], shapely.Point(x[j], y[j])).min()) if len(rows) else np.inf
        if edge_m <= 0.001:
            explained["within 1 mm of a zone edge"] += 1
        elif edge_m <= 0.08:
            explained["within 8 cm of a buffer's polygon edge (chords of round caps)"] += 1
        else:
            explained["unexplained (farther from every edge involved)"] += 1
            worst = max(worst, edge_m)
    if worst:
        explained[f"  (farthest unexplained: {worst:.3f} m from an edge)"] = 0
    return int(same.sum()), explained


if __name__ == "__main__":
    main()
