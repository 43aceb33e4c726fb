"""``respmap map``: write one self-contained interactive map (HTML) that works offline.

Leaflet, the plugins, the styles and the data are all inside the file, so it
opens from a USB stick on a machine with no network. ``--unit`` or
``--district`` focus the map (their zones strong, the rest faint, fitted to
their extent); ``--color-by`` picks the colouring; ``--tiles`` adds a base
map (which then does need the internet; ``amap`` shifts every overlay to
GCJ-02 so it lines up with AMap's streets).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from api.commands.common import CommandError, UsageError, add_date_flag, date_line, open_dataset, write_atomically
from maps.cases_layer import CasesLayer
from maps.interactive import (
    COLOUR_BY,
    TIANDITU_KEY_ENV,
    TILES,
    AssetsMissingError,
    TilesError,
    UnknownFocusError,
    options_from,
    render_map,
)

if TYPE_CHECKING:
    from geo import Dataset

ORDER = 60


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "map",
        parents=[common],
        help="write an interactive coverage map as one self-contained HTML file",
        description=(
            "Write an interactive map (Leaflet) of every layer: districts, duty zones coloured by unit, standard or "
            "coverage status, gaps and conflicts, with popups, search, measure and a legend. The file needs no "
            "network unless --tiles asks for a base map."
        ),
    )
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.html", help="the HTML file to write")
    focus = parser.add_mutually_exclusive_group()
    focus.add_argument("--unit", metavar="ID", help="focus on one unit: its zones strong, the rest faint")
    focus.add_argument("--district", metavar="ID", help="focus on one campaign district")
    parser.add_argument(
        "--color-by",
        "--colour-by",
        dest="colour_by",
        choices=COLOUR_BY,
        default="coverage",
        help="colour duty zones by coverage status (default: held, nobody, claimed twice, fallback only), by unit "
        "(the legend finds a unit and shows its ground) or by standard grade",
    )
    parser.add_argument(
        "--tiles",
        choices=TILES,
        default="none",
        help=f"base map: none (default, fully offline), osm, amap (GCJ-02), tianditu (key from ${TIANDITU_KEY_ENV})",
    )
    add_date_flag(parser)
    parser.add_argument("--lang", choices=("zh", "en"), help="language of the labels (default: the dataset's)")
    parser.add_argument(
        "--cases",
        metavar="PERIOD",
        help="draw the cases reported in this period from the local case store, with their history "
        "(2026-11, 2026-Q4, 2026-H2, 2026, or all); without it the file has no cases layer",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    output: Path = args.output
    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {output}: the map is an HTML file, give a name ending in .html")
    if output.is_dir():
        raise UsageError(f"-o {output} is a folder; give a file name ending in .html")
    try:
        options = options_from(
            {
                "unit": args.unit,
                "district": args.district,
                "colour_by": args.colour_by,
                "tiles": args.tiles,
                "date": args.date,
                "lang": args.lang,
            }
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    ds = open_dataset(args)
    try:
        html = render_map(ds, options, inline=True, cases=_period_cases(args, ds) if args.cases else None)
    except UnknownFocusError as exc:
        raise UsageError(str(exc.args[0])) from None
    except TilesError as exc:
        raise UsageError(str(exc)) from None
    except AssetsMissingError as exc:
        raise CommandError(str(exc)) from None
    write_atomically(output, lambda tmp: tmp.write_text(html, encoding="utf-8"))
    size_kb = len(html.encode("utf-8")) / 1024
    print(
        f"map written: {output} ({size_kb:,.0f} KB, self-contained{'' if options.tiles == 'none' else ', base map online'}; "
        f"{date_line(ds, 'en')})"
    )
    return 0


# Cases drawn in one file at most (the served map pages through GET /cases instead).
MAX_FILE_CASES = 5000


def _period_cases(args: argparse.Namespace, ds: Dataset) -> CasesLayer:
    """The cases reported in ``--cases PERIOD``, read as the office, each with its history."""
    from api.commands.case_common import open_case_store, period_bounds, store_errors
    from cases.categories import load_categories
    from cases.service import CaseFilter, CaseService
    from cases.users import Actor

    store = open_case_store(args)
    try:
        with store_errors():
            service = CaseService(store, ds, load_categories(ds.path))
            start, end = (None, None) if args.cases == "all" else period_bounds(args.cases, None, None, service.zone)
            office = Actor(None, "office", "admin")  # reading only: the command line is the office
            summaries: list[dict] = []
            while len(summaries) < MAX_FILE_CASES:
                page, total = service.list(office, CaseFilter(start=start, end=end, limit=1000, offset=len(summaries)))
                summaries.extend(page)
                if not page or len(summaries) >= total:
                    break
            cases = [service.get(office, c["case_id"]) for c in summaries[:MAX_FILE_CASES]]
    finally:
        store.dispose()
    return CasesLayer.static(cases)
