"""``respmap build -o DIR``: the whole report kit, with an index.html linking everything.

The city map (interactive HTML and printable PNG/PDF), a map per unit and per
district, the atlases, the responsibility table, the zones as GeoJSON and
GeoPackage and the coverage layers (see :mod:`maps.report`); with a case store that has cases,
the last complete month's assessment and bulletin in ``assessment/``. The kit is built
beside DIR and swapped in at the end: a failed run leaves the previous kit
whole, and a folder holding anything else is never replaced.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.commands.common import (
    CommandError,
    UsageError,
    add_date_flag,
    dataset_path,
    date_line,
    open_dataset,
    parse_date_option,
)
from api.commands.render import glyph_warnings_on_stderr, report_missing_font
from geo import Dataset

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
    assessed = _period_assessment(args, ds, Path(result.folder) / "assessment")
    print(
        f"report kit written: {result.folder}/index.html ({len(result.files)} files, {result.seconds:.0f} s; "
        f"{date_line(ds, 'en')})"
    )
    if assessed:
        print(f"assessment and bulletin of the last month: {assessed[0].parent}/ ({len(assessed)} files)")
    return 0


def _period_assessment(args: argparse.Namespace, ds: Dataset, folder: Path) -> list[Path]:
    """The last complete month's assessment and bulletin, when a case store exists and has cases in it.

    A kit is built without a store too: none is created for it (no side effect on a machine that
    never used the case loop).
    """
    from sqlalchemy.engine import make_url

    from api.commands.assess import write_period_kit
    from api.commands.case_common import open_case_store
    from cases.store import store_config

    config = store_config(dataset_path(args))
    if config.backend == "sqlite" and not Path(make_url(config.url).database or "").is_file():
        return []
    store = open_case_store(args)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = write_period_kit(store, ds, folder)
    finally:
        store.dispose()
    if not written:
        folder.rmdir()
    return written
