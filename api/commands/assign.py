"""``respmap assign POINTS -o OUT``: who is responsible for every point of a file.

Reads CSV (UTF-8 or GBK), XLSX, GeoJSON or Parquet (by extension) and writes the same
rows, in the same order, with the best match's columns added (those of
:func:`geo.lookup.lookup_many`: layer, feature_id, name, unit_id, unit_name, role,
stretch, distance_m, fallback, district_id, error ...), as CSV, XLSX, GeoJSON or Parquet
(by the extension of ``-o``). A row whose coordinates are unusable is kept, with
the reason in ``error``; the run never stops for it. Big files are read and
written in chunks; the output appears only when complete (written to a temporary
file in the same folder, then renamed), and the input is never overwritten.

Reading, annotating and writing are :mod:`api.point_files`, shared with
``POST /lookup/csv``; this module is the command line around them.

Coordinates come from the first of lon/lng/longitude/long/x/经度/easting/X坐标/东坐标 and
lat/latitude/y/纬度/northing/Y坐标/北坐标 (any case), from ``--lon-col``/``--lat-col``, or from the point
geometry of GeoJSON and GeoParquet; ``--crs`` says which datum they are in.
A GeoJSON (``crs`` member) or GeoParquet file that declares its CRS is read in
it unless ``--crs`` says otherwise. GeoJSON output keeps an input geometry as it
was when it is WGS-84; other rows become points at their WGS-84 position (RFC
7946), or a null geometry when unusable.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from api.commands.common import CommandError, UsageError, open_dataset, write_atomically
from api.point_files import (
    CHUNK_ROWS,
    CLASH_PREFIX,
    ColumnChoiceError,
    Counts,
    PointFileError,
    assign_points,
    format_of,
    open_points,
    open_writer,
)
from geo.datums import UnknownCRSError, normalize_crs

ORDER = 21


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "assign",
        parents=[common],
        help="add the responsible unit to every point of a CSV, XLSX, GeoJSON or Parquet file",
        description=(
            "Look up every point of a file and write it again with the best match's columns added. Rows keep "
            "their order; rows with unusable coordinates are kept with the reason in an `error` column."
        ),
    )
    parser.add_argument("points", metavar="POINTS", help="input file: .csv (UTF-8 or GBK), .xlsx, .geojson or .parquet")
    parser.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="output file: .csv, .xlsx, .geojson or .parquet"
    )
    parser.add_argument("--lon-col", metavar="NAME", help="column holding longitude (x); default: found by name")
    parser.add_argument("--lat-col", metavar="NAME", help="column holding latitude (y); default: found by name")
    parser.add_argument(
        "--crs",
        help="datum of the coordinates: wgs84, cgcs2000, gcj02, bd09 or EPSG:<code> "
        "(default: the CRS a GeoJSON or GeoParquet file declares, else wgs84)",
    )
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="the day the answers are for (default: today)")
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    source = Path(args.points)
    target = Path(args.output)
    try:
        in_format = format_of(source, "POINTS")
        out_format = format_of(target, "-o")
    except ColumnChoiceError as exc:
        raise UsageError(str(exc)) from None
    if not source.is_file():
        raise UsageError(f"input file {str(source)[:200]} does not exist")
    if source.resolve() == target.resolve() or (target.exists() and os.path.samefile(source, target)):
        raise UsageError(f"refusing to overwrite the input {source}: choose another -o")
    if args.chunk_rows < 1:
        raise UsageError("--chunk-rows must be at least 1")
    try:
        crs = normalize_crs(args.crs or "wgs84")
    except UnknownCRSError as exc:
        raise UsageError(str(exc)) from None
    ds = open_dataset(args)
    from geo.lookup import as_date

    try:
        date = as_date(ds, args.date)
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    try:
        reader = open_points(
            source, lon_col=args.lon_col, lat_col=args.lat_col, chunk_rows=args.chunk_rows, file_format=in_format
        )
        crs = _coordinates_crs(source, reader.declared_crs, args.crs, crs)
        counts = Counts()

        def write(temporary: Path) -> None:
            nonlocal counts
            with _progress(reader.total, reader.unit) as bar:
                counts = assign_points(
                    ds,
                    reader,
                    open_writer(temporary, out_format),
                    crs=crs,
                    date=date,
                    on_chunk=lambda chunk: bar.update(chunk.progress),
                )

        write_atomically(target, write)
    except ColumnChoiceError as exc:
        raise UsageError(str(exc)) from None
    except PointFileError as exc:
        raise CommandError(str(exc)) from None
    _summary(counts, target)
    return 0


def _coordinates_crs(source: Path, declared: str | None, given: str | None, crs: str) -> str:
    """The CRS the coordinates are read in: ``--crs``, else what the file declares, else WGS-84.

    Says on stderr when the file's own CRS is used, or overruled by ``--crs``.
    """
    if declared is None:
        return crs
    if given is None:
        print(f"{source.name} declares its CRS as {declared}: its coordinates are read in it", file=sys.stderr)
        return declared
    if crs != declared:
        print(
            f"respmap: warning: {source.name} declares its CRS as {declared}, but --crs {given} is used as asked",
            file=sys.stderr,
        )
    return crs


# ---------------------------------------------------------------------------------------------
# Progress and summary
# ---------------------------------------------------------------------------------------------


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _progress(total: int | None, unit: str) -> Any:
    """A tqdm bar on a terminal; nothing when stderr is a file or a pipe (logs stay clean)."""
    if not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, unit_scale=unit == "B", file=sys.stderr, desc="assign", leave=False)


def _summary(counts: Counts, target: Path) -> None:
    print(
        f"{counts.rows} rows -> {target}: {counts.zone} in a duty zone, {counts.fallback} only in a district "
        f"(fallback unit), {counts.outside} outside every district, {counts.errors} with unusable coordinates",
        file=sys.stderr,
    )
    for line in counts.first_errors:
        print(f"  {line}", file=sys.stderr)
    if counts.renamed:
        names = ", ".join(sorted(counts.renamed))
        print(f"  the input already has {names}: the answer's are written as {CLASH_PREFIX}<name>", file=sys.stderr)
