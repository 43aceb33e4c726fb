"""``respmap build -o DIR``: the whole report kit, with an index.html linking everything.

The city map (interactive HTML and printable PNG/PDF), a map per unit and per
district, the atlases, the responsibility table, the zones as GeoJSON and
GeoPackage and the coverage layers (see :mod:`maps.report`). The kit is built
beside DIR and swapped in at the end: a failed run leaves the previous kit
whole, and a folder holding anything else is never replaced.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.commands.common import CommandError, UsageError, add_date_flag, date_line, open_dataset, parse_date_option
from api.commands.render import glyph_warnings_on_stderr, report_missing_font

ORDER = 80


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from maps.static import MAX_DPI, MIN_DPI, PAPER_MM

    parser = subparsers.add_parser(
        "build",
        parents=[common],
        help="build the report kit (maps, atlas, tables, layers, index.html)",
        description="Everything a report needs in one folder, with an index.html linking it all.",
    )
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="DIR", help="the kit's folder")
    add_date_flag(parser)
    parser.add_argument("--paper", type=str.upper, choices=tuple(PAPER_MM), default="A4", help="paper size (A4)")
    parser.add_argument("--dpi", type=int, default=200, help=f"PNG resolution, {MIN_DPI}-{MAX_DPI} (200)")
    parser.add_argument("--hatch", action="store_true", help="hatching and dash patterns per category (grey print)")
    parser.add_argument(
        "--no-unit-maps",
        dest="unit_maps",
        action="store_false",
        help="leave out the PNG per unit and per district (the atlases still have them)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from maps.report import ReportFolderError, build_report
    from maps.static import MapOptions, MapRequestError

    date = parse_date_option(args.date)
    try:
        options = MapOptions(paper=args.paper, dpi=args.dpi, hatch=args.hatch, date=date).checked()
    except MapRequestError as exc:
        raise UsageError(str(exc)) from None
    ds = open_dataset(args)  # --date becomes the dataset's reference date
    date = ds.reference_date
    report_missing_font()
    try:
        with glyph_warnings_on_stderr():
            result = build_report(ds, args.output, date=date, options=options, unit_maps=args.unit_maps)
    except ReportFolderError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot build the kit in {args.output}: {exc.strerror or exc}") from None
    for note in result.notes:
        print(f"respmap: note: {note}", file=sys.stderr)
    print(
        f"report kit written: {result.folder}/index.html ({len(result.files)} files, {result.seconds:.0f} s; "
        f"{date_line(ds, 'en')})"
    )
    return 0
