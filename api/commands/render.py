"""``respmap render``: a print-ready static map (PNG, SVG, PDF) or the atlas.

    respmap render -o city.png                       the whole city (A4, turned to fit)
    respmap render -o u12.pdf --unit U12 --hatch     one unit, hatching for black-and-white print
    respmap render -o d03.svg --district D03 --paper A3 --orientation landscape
    respmap render --atlas -o atlas.pdf [--by district]

The format follows the file name. Every file is written atomically: a failed
run leaves an earlier file of the same name whole.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from api.commands.common import (
    CommandError,
    UsageError,
    add_date_flag,
    date_line,
    open_dataset,
    parse_date_option,
    print_text,
    write_atomically,
)

ORDER = 70


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from maps.static import COLOR_BY, MAX_DPI, MIN_DPI, ORIENTATIONS, PAPER_MM

    parser = subparsers.add_parser(
        "render",
        parents=[common],
        help="draw a print-ready map (PNG/SVG/PDF) or the atlas",
        description=(
            "Draw a static map of the city, one unit or one district on an A4 or A3 page, with title, legend, "
            "scale bar, north arrow and source line, in colours that survive grey printing; or, with --atlas, "
            "a PDF with a cover map, contents and a page per unit (or district)."
        ),
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="FILE",
        help="the file to write: .png, .svg or .pdf (the atlas: .pdf)",
    )
    focus = parser.add_mutually_exclusive_group()
    focus.add_argument("--unit", metavar="ID", help="map one unit's zones")
    focus.add_argument("--district", metavar="ID", help="map one campaign district")
    parser.add_argument("--atlas", action="store_true", help="write the atlas: cover, contents, a page per unit")
    parser.add_argument("--by", choices=("unit", "district"), help="atlas pages per unit (default) or per district")
    parser.add_argument("--paper", type=str.upper, choices=tuple(PAPER_MM), default="A4", help="paper size (A4)")
    parser.add_argument(
        "--orientation", choices=ORIENTATIONS, default="auto", help="page orientation (auto: turned to the map's shape)"
    )
    parser.add_argument("--dpi", type=int, default=200, help=f"resolution of PNG output, {MIN_DPI}-{MAX_DPI} (200)")
    parser.add_argument(
        "--color-by",
        "--colour-by",
        dest="color_by",
        choices=COLOR_BY,
        help="colour zones by unit, layer or standard grade (default: layer for the city, else unit)",
    )
    parser.add_argument("--hatch", action="store_true", help="hatching and dash patterns per category (grey print)")
    parser.add_argument("--no-labels", dest="labels", action="store_false", help="leave out feature names")
    inset = parser.add_mutually_exclusive_group()
    inset.add_argument("--inset", dest="inset", action="store_true", default=None, help="add an overview inset")
    inset.add_argument("--no-inset", dest="inset", action="store_false", help="no overview inset")
    parser.add_argument("--title", help="a title instead of the default")
    add_date_flag(parser)
    parser.set_defaults(handler=run)


def report_missing_font() -> None:
    """Say once, plainly, on stderr, that Chinese text needs a font (instead of a Python warning)."""
    from maps import fonts

    if fonts.find_cjk_font() is None:
        fonts.mark_warned()
        print(
            f"respmap: warning: no Chinese (CJK) font found, Chinese text would print as boxes; {fonts.INSTALL_HINT}",
            file=sys.stderr,
        )


@contextmanager
def glyph_warnings_on_stderr() -> Iterator[None]:
    """Say which characters no font has as one plain line per message, not as a Python warning.

    The warning machinery would print a source line of contextlib under it, which
    reads like a crash; every other warning passes through unchanged.
    """
    from maps import fonts

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", fonts.MissingGlyphWarning)
        yield
    shown: set[str] = set()
    for item in caught:
        if issubclass(item.category, fonts.MissingGlyphWarning):
            text = str(item.message).removeprefix("respmap: ")
            if text not in shown:
                shown.add(text)
                print_text(f"respmap: warning: {text}", file=sys.stderr)
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno, source=item.source)


def map_options(args: argparse.Namespace, date: pd.Timestamp | None) -> Any:
    from maps.static import MapOptions, MapRequestError

    options = MapOptions(
        paper=args.paper,
        orientation=args.orientation,
        dpi=args.dpi,
        color_by=args.color_by,
        hatch=args.hatch,
        labels=args.labels,
        inset=args.inset,
        date=date,
        title=args.title,
    )
    try:
        return options.checked()
    except MapRequestError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from maps.static import FORMATS

    output: Path = args.output
    suffix = output.suffix.lower()
    if args.atlas:
        if args.unit or args.district:
            raise UsageError("--atlas draws every unit (or district); leave out --unit/--district")
        if suffix != ".pdf":
            raise UsageError(f"-o {output}: the atlas is a PDF, give a name ending in .pdf")
    elif suffix not in FORMATS:
        raise UsageError(f"-o {output}: the file name must end in .png, .svg or .pdf")
    if args.by and not args.atlas:
        raise UsageError("--by is for --atlas")
    if output.is_dir():
        raise UsageError(f"-o {output} is a folder; give a file name")
    options = map_options(args, parse_date_option(args.date))
    ds = open_dataset(args)  # --date becomes the dataset's reference date
    report_missing_font()
    with glyph_warnings_on_stderr():
        return _render(args, ds, output, suffix, options)


def _render(args: argparse.Namespace, ds: Any, output: Path, suffix: str, options: Any) -> int:
    from maps.static import FORMATS, MapRequestError

    try:
        if args.atlas:
            result = _atlas(ds, output, args.by or "unit", options)
            contents = f" and {result.toc_pages} more of contents" if result.toc_pages else ""
            print(
                f"atlas written: {output} ({result.pages} pages: a cover with the map and contents{contents}, "
                f"{result.entries} {args.by or 'unit'}s; {date_line(ds, 'en')})"
            )
        else:
            from maps.static import render_map

            box: dict[str, Any] = {}

            def write(tmp: Path) -> None:
                box["result"] = render_map(
                    ds, tmp, unit=args.unit, district=args.district, options=options, file_format=FORMATS[suffix]
                )

            write_atomically(output, write)
            result = box["result"]
            size = f"{result.width_px}x{result.height_px} px, " if suffix == ".png" else ""
            print(
                f"map written: {output} ({size}{len(result.labels_placed)} labels placed, "
                f"{len(result.labels_skipped)} left out where they would collide; {date_line(ds, 'en')})"
            )
    except MapRequestError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
    return 0


def _atlas(ds: Any, output: Path, by: str, options: Any) -> Any:
    from maps.atlas import render_atlas

    box: dict[str, Any] = {}
    with ProgressBar("atlas") as tick:

        def write(tmp: Path) -> None:
            box["result"] = render_atlas(ds, tmp, by=by, options=options, progress=tick)

        write_atomically(output, write)
    return box["result"]


class ProgressBar:
    """A tqdm bar on stderr when it is a terminal; yields ``tick(done, total)``."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __enter__(self) -> Any:
        def tick(done: int, total: int) -> None:
            if not sys.stderr.isatty():
                return
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc=self.label, unit="page", file=sys.stderr, leave=False)
            self.bar.update(done - self.bar.n)

        return tick

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
