"""``respmap export``: the responsibility table or the duty zones, by file type.

    respmap export -o 责任分工表.xlsx     a sheet per layer, units, standards (Chinese headers)
    respmap export -o zones.csv           the same table flat, UTF-8 with BOM for Excel
    respmap export -o zones.geojson       duty zones with every joined attribute (RFC 7946)
    respmap export -o zones.gpkg          the same as a GeoPackage (plus the districts)

Written atomically: a failed export leaves an earlier file of the same name whole.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from api.commands.common import (
    CommandError,
    UsageError,
    add_date_flag,
    date_line,
    open_dataset,
    parse_date_option,
    write_atomically,
)

ORDER = 75
TABLE_SUFFIXES = (".xlsx", ".csv")
ZONE_SUFFIXES = (".geojson", ".gpkg")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "export",
        parents=[common],
        help="write the responsibility table (xlsx/csv) or the zones (geojson/gpkg)",
        description=(
            "Write the responsibility table (责任分工表) as Excel (a sheet per layer, units, standards) or CSV, or "
            "the duty zones with their units' contacts and standards' figures as GeoJSON or GeoPackage."
        ),
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="FILE",
        help="the file to write: .xlsx, .csv, .geojson or .gpkg",
    )
    add_date_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    output: Path = args.output
    suffix = output.suffix.lower()
    if suffix not in TABLE_SUFFIXES + ZONE_SUFFIXES:
        raise UsageError(f"-o {output}: the file name must end in .xlsx, .csv, .geojson or .gpkg")
    if output.is_dir():
        raise UsageError(f"-o {output} is a folder; give a file name")
    parse_date_option(args.date)  # a malformed --date is a usage error before any loading
    ds = open_dataset(args)  # --date becomes the dataset's reference date
    date = ds.reference_date
    count: dict[str, int] = {}

    def write(tmp: Path) -> None:
        if suffix in TABLE_SUFFIXES:
            from maps.tables import export_table

            count["rows"] = export_table(ds, tmp, date=date)
        else:
            from geo.export import export_zones

            count["rows"] = export_zones(ds, tmp, date=date)

    try:
        write_atomically(output, write)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
    what = "zone rows" if suffix in TABLE_SUFFIXES else "zones"
    print(f"written: {output} ({count['rows']} {what}; {date_line(ds, 'en')})")
    return 0
