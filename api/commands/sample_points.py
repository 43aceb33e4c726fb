"""``respmap sample-points FILE.csv``: write sample complaint points to try ``respmap assign`` on.

The README's tour needs a points file; this writes one for whatever dataset is
selected (default the demo): half along its streets, half anywhere in its
districts, WGS-84 ``lon``/``lat`` columns that ``assign`` finds by name.
Deterministic (``--seed``); ``--count 1000000`` gives a million.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from api.commands.common import UsageError, open_dataset, write_atomically
from geo.samples import DEFAULT_SEED, sample_points

ORDER = 20
DEFAULT_COUNT = 1000
MAX_COUNT = 20_000_000


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "sample-points",
        parents=[common],
        help="write sample complaint points (CSV) to try `respmap assign` on",
        description=(
            "Write a CSV of sample complaint points in the dataset's districts (half of them along its streets): "
            "point_id, lon, lat (WGS-84), category. Try it: respmap sample-points complaints.csv && "
            "respmap assign complaints.csv -o complaints_with_units.csv"
        ),
    )
    parser.add_argument("output", metavar="FILE.csv", type=Path, help="the CSV file to write")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help=f"how many points ({DEFAULT_COUNT:,})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed: the same seed, the same points")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    output: Path = args.output
    if output.suffix.lower() != ".csv":
        raise UsageError(f"{output}: sample points are written as CSV, give a name ending in .csv")
    if output.is_dir():
        raise UsageError(f"{output} is a folder; give a file name ending in .csv")
    if not 1 <= args.count <= MAX_COUNT:
        raise UsageError(f"--count must be between 1 and {MAX_COUNT:,}, not {args.count}")
    ds = open_dataset(args)
    try:
        points = sample_points(ds, args.count, seed=args.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    write_atomically(output, lambda tmp: points.to_csv(tmp, index=False, encoding="utf-8"))
    print(f"sample points written: {output} ({len(points):,} points in {ds.name}; lon/lat in WGS-84)")
    return 0
