"""Benchmark: the lookup index read from disk (geo/index_cache.py) beside building it, and server starts.

Three figures, each beside what respmap did before the cache (building the index in
every worker at every start):

1. the fine grid index of the dataset: built (``build_geometry_index``) versus read
   back from a file written once (``load_or_build`` on a second load of the data),
   wall and CPU, best of ``--rounds``; the file's size;
2. ``lookup_many`` on random points from the read index versus the built one: the same
   speed is expected (the same arrays), and every answer must be identical;
3. with ``--server``: ``respmap serve --workers 2`` started three times on one data
   folder (the first start writes the index, the later ones read it): wall time until
   both workers answer /healthz, and the CPU seconds the whole server used (parent and
   workers, start to stop; unlike wall time, not inflated by a busy shared machine).

    python bench/index_cache.py                       # the demo
    python bench/index_cache.py --server              # and three real server starts
    python bench/index_cache.py --dataset tests/data/mini --points 100000
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo import load_dataset  # noqa: E402
from geo.dataset import DEMO_DATASET  # noqa: E402
from geo.index_cache import load_or_build  # noqa: E402
from geo.lookup import lookup_many  # noqa: E402
from geo.lookup_dates import geometry_index  # noqa: E402
from geo.lookup_index import build_geometry_index  # noqa: E402

T = TypeVar("T")


def _timed(action: Callable[[], T]) -> tuple[T, float, float]:
    """The value of ``action()``, its wall seconds and its CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = action()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def index_figures(dataset: Path, rounds: int, folder: Path) -> None:
    ds = load_dataset(dataset)
    ds.zones_on(None)
    build_geometry_index(ds, max_cells=10_000)  # PROJ transformers made once, outside both timings
    builds = [_timed(lambda: build_geometry_index(ds)) for _ in range(rounds)]
    written = load_or_build(load_dataset(dataset), folder)
    reads = []
    for _ in range(rounds):
        again = load_dataset(dataset)
        reads.append(_timed(lambda again=again: load_or_build(again, folder)))
    assert all(r[0].origin == "cache" for r in reads), "the index was not read from the file"
    build_wall, build_cpu = min(b[1] for b in builds), min(b[2] for b in builds)
    read_wall, read_cpu = min(r[1] for r in reads), min(r[2] for r in reads)
    size_mb = written.path.stat().st_size / 1e6 if written.path else float("nan")
    print(f"dataset {ds.name} ({dataset}), {written.index.grid.n_cells:,} cells; best of {rounds}")
    print(f"index  reference build:        {build_wall:.3f} s wall, {build_cpu:.3f} s CPU")
    print(f"index  respmap read from file: {read_wall:.3f} s wall, {read_cpu:.3f} s CPU ({size_mb:.1f} MB file)")
    print(f"index  ratio: {build_wall / read_wall:.1f}x wall, {build_cpu / max(read_cpu, 1e-9):.1f}x CPU")


def lookup_figures(dataset: Path, n_points: int, rounds: int, folder: Path) -> None:
    fresh, cached = load_dataset(dataset), load_dataset(dataset)
    geometry_index(fresh)
    geometry_index(cached, cache_dir=folder)
    min_x, min_y, max_x, max_y = fresh.frame.total_bounds
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(min_x, max_x, n_points), rng.uniform(min_y, max_y, n_points)
    lookup_many(fresh, lon[:10], lat[:10])  # answer rows of the date, outside the timings
    lookup_many(cached, lon[:10], lat[:10])
    times: dict[str, list[float]] = {"built": [], "read": []}
    answers = {}
    for _ in range(rounds):
        for name, ds in (("built", fresh), ("read", cached)):
            answers[name], wall, _ = _timed(lambda ds=ds: lookup_many(ds, lon, lat))
            times[name].append(wall)
    built, read = min(times["built"]), min(times["read"])
    same = pd.DataFrame.equals(answers["built"], answers["read"])
    print(f"lookup_many {n_points:,} points, best of {rounds}:")
    print(f"  reference (built index): {n_points / built / 1e6:.2f} M points/s")
    print(f"  respmap (read index):    {n_points / read / 1e6:.2f} M points/s; ratio {built / read:.2f}x")
    print(f"  answers identical: {same}")


def server_figures(dataset: Path) -> None:
    from tests.api.http_server import running_server

    os.environ["RESPMAP_DATA_DIR"] = tempfile.mkdtemp(prefix="respmap-bench-start-")
    print(f"respmap serve --workers 2 on {dataset}, one data folder for all starts; load {os.getloadavg()[0]:.1f}")
    for run in ("first start (writes the index)", "second start (reads it)", "third start (reads it)"):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with running_server(dataset, workers=2):
            wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(f"  {run}: both workers answer /healthz after {wall:.1f} s; server CPU {cpu:.1f} s (to stop)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEMO_DATASET)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--points", type=int, default=500_000)
    parser.add_argument("--server", action="store_true", help="also start a real two-worker server three times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="respmap-bench-cache-") as folder:
        index_figures(args.dataset, args.rounds, Path(folder))
        lookup_figures(args.dataset, args.points, args.rounds, Path(folder))
    if args.server:
        server_figures(args.dataset.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
