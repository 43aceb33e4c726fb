#!/usr/bin/env python3
"""Generate the synthetic Ankang demo dataset (``layers/ankang``).

What: the command line of a deterministic generator that writes a complete respmap
dataset folder (catalog.toml, seven GeoJSON layers, units/standards/assignments CSV
tables and a README) for an invented but realistic layout of Ankang's city centre
(Hanbin district, about 32.69 N 109.03 E, the Han River flowing west to east).

Why: the real campaign plan is not public and must not be bundled, yet every part of
respmap (validation, lookup, coverage, maps, benchmarks) needs data that looks like the
real thing, contains a few realistic problems on purpose, and can be grown
(``--scale N``) for benchmarks.

How: the work is done by the ``layers/demo`` package (names, geometry, organisation,
staffing, writers); this file only parses arguments and reports.  Same arguments ->
byte-identical files.

Usage::

    python layers/generate_demo.py [--scale N] [--seed S] [--out DIR]
    python layers/generate_demo.py --cases 3000 [--cases-out DIR]   # also months of synthetic cases
    python layers/generate_demo.py --replay-cases DIR [--out DATASET] # ... put into the case store
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# The package sits beside this script; put its folder first so `demo` is ours.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo.builder import build
from demo.cases import ReplayError, make_cases, replay_cases, summary, write_cases
from demo.model import DEFAULT_SEED
from demo.writers import listing, write

DEFAULT_OUT = Path(__file__).resolve().parent / "ankang"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry: build, write, print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply every count (default 1)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default layers/ankang)")
    parser.add_argument("--cases", type=int, default=0, metavar="N", help="also write N synthetic cases (see below)")
    parser.add_argument(
        "--cases-out",
        type=Path,
        default=Path("demo_cases"),
        metavar="DIR",
        help="folder for cases.csv and case_events.csv (default ./demo_cases)",
    )
    parser.add_argument(
        "--replay-cases",
        type=Path,
        metavar="DIR",
        help="put DIR/cases.csv and DIR/case_events.csv into the case store of the dataset --out, step by step",
    )
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be a positive integer")
    if args.cases < 0:
        parser.error("--cases must be 0 or a positive integer")
    if args.replay_cases is not None:
        for name in ("cases.csv", "case_events.csv"):
            if not (args.replay_cases / name).is_file():
                parser.error(f"--replay-cases: {args.replay_cases / name} does not exist (write it with --cases N)")
        from cases.store import StoreError  # only the replay needs the case store

        started = time.perf_counter()
        try:
            counts = replay_cases(args.out, args.replay_cases)
        except (ReplayError, StoreError) as error:
            print(f"generate_demo.py: {error}", file=sys.stderr)
            return 1
        elapsed = time.perf_counter() - started
        print(
            f"replayed {args.replay_cases} into the case store of {args.out} in {elapsed:.1f} s: "
            f"{counts['created']} cases created, {counts['already']} already there, {counts['steps']} steps taken"
        )
        return 0
    started = time.perf_counter()
    demo = build(args.scale, args.seed)
    try:
        counts = write(demo, args.out)
    except OSError as error:
        print(f"generate_demo.py: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(f"wrote {args.out} (scale {args.scale}, seed {args.seed}) in {elapsed:.1f} s")
    for name, count in counts.items():
        print(f"  {name:<22} {count:>7}")
    print("planted problems:")
    for key, items in demo.planted.items():
        print(f"  {key:<8} {listing(items, 6)}")
    if args.cases:
        case_rows, event_rows = make_cases(demo, args.out, args.cases)
        try:
            write_cases(args.cases_out, case_rows, event_rows)
        except OSError as error:
            print(f"generate_demo.py: cannot write {args.cases_out}: {error.strerror or error}", file=sys.stderr)
            return 1
        print(f"wrote {args.cases_out}: {summary(case_rows, event_rows)}")
        print(f"  into the store: python layers/generate_demo.py --replay-cases {args.cases_out} --out {args.out}")
        print(f"  reports only:   respmap --dataset {args.out} cases import {args.cases_out / 'cases.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
