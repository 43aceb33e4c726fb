"""Benchmark: what ``held_since`` costs a single lookup, beside the plain answer it extends.

``GET /lookup`` answers from cached bytes (:mod:`api.lookup_json`); ``held_since=true`` decodes
them, adds each unit's holding start (:func:`geo.held_since.holders_since`) and encodes again
(:mod:`api.held_since`). Printed, per point (median of random points over the districts, one
core, in this process): the plain answer (respmap's hot path, the reference), the answer with
``held_since`` without a store (dataset rows only), and the cost of the check the plain path now
makes for the parameter. Change ids come from the store and cost a query per unit on top.

    python bench/lookup_held_since.py                 # the demo dataset
    python bench/lookup_held_since.py --scale 100     # generated into /tmp on first use
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from scaled_data import dataset_folder  # noqa: E402 - bench/ is on sys.path when run as a script

sys.path.insert(0, str(REPO))

DATE = "2026-03-01"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1, help="dataset scale (1: the demo; others generated in /tmp)")
    parser.add_argument("--points", type=int, default=2000, help="random points (default 2000)")
    args = parser.parse_args()

    from api.held_since import add_held_since, wants_held_since
    from api.lookup_json import lookup_json
    from api.responses import dumps, loads
    from geo import load_dataset

    ds = load_dataset(dataset_folder(args.scale))
    minx, miny, maxx, maxy = ds.frame.total_bounds
    rng = np.random.default_rng(7)
    lons, lats = rng.uniform(minx, maxx, args.points), rng.uniform(miny, maxy, args.points)
    for lon, lat in zip(lons[:50], lats[:50], strict=True):  # warm the index and the answer pieces
        add_held_since(ds, None, loads(lookup_json(ds, lon, lat, date=DATE)))

    def per_point_us(action: object) -> float:
        times = []
        for lon, lat in zip(lons, lats, strict=True):
            started = time.perf_counter()
            action(lon, lat)  # type: ignore[operator]
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1e6

    plain = per_point_us(lambda lon, lat: lookup_json(ds, lon, lat, date=DATE))
    held = per_point_us(lambda lon, lat: dumps(add_held_since(ds, None, loads(lookup_json(ds, lon, lat, date=DATE)))))
    query = b"lon=109.024234&lat=32.685286&date=2026-03-01"
    started = time.perf_counter()
    for _ in range(100_000):
        wants_held_since(query)
    check_us = (time.perf_counter() - started) / 100_000 * 1e6
    print(f"dataset {ds.path.name}, {len(ds.assignments)} assignment rows, {args.points} points")
    print(f"plain GET /lookup answer (reference):  {plain:8.1f} µs per point")
    print(f"with held_since (no store):            {held:8.1f} µs per point   ratio {held / plain:.1f}x")
    print(f"the plain path's check for the param:  {check_us:8.3f} µs per request ({check_us / plain:.1%} of it)")


if __name__ == "__main__":
    main()
