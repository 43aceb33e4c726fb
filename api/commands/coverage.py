"""``respmap coverage``: what nobody holds, what two units claim, who lacks staff or money.

Prints a readable summary in the dataset's language (the worst shortfalls,
the largest conflicts, what nobody holds, gaps in the frame), or with
``--json`` the whole :meth:`geo.coverage.CoverageReport.to_dict`. With
``-o DIR`` it also writes the problem layers as GeoJSON (WGS-84) and the
unit and district tables as CSV in UTF-8 with a BOM, so that Excel on a
Chinese Windows opens them with the characters intact. Every file is written
atomically: an interrupted run leaves the previous file whole.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from api.commands.common import (
    CommandError,
    UsageError,
    add_date_flag,
    add_json_flag,
    date_line,
    open_dataset,
    print_json,
    print_text,
    stage_progress,
    write_atomically,
)
from geo.coverage import (
    COVERAGE_STAGES,
    DEFAULT_SLIVER_M2,
    PROBLEM_LAYERS,
    CoverageReport,
    compute_coverage,
    to_geojson,
)
from maps.wording import words

ORDER = 40
# Lines of each list in the human summary; --json and -o give everything.
SHOWN = 10

GEOJSON_FILES = {f"{name}.geojson": name for name in PROBLEM_LAYERS}
CSV_FILES = {"units.csv": "units", "districts.csv": "districts"}


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "coverage",
        parents=[common],
        help="gaps, conflicts, unheld places and workload against the standards",
        description=(
            "Coverage for planners: ground in no district, ground two units claim, features and stretches "
            "nobody holds, idle units, and per unit and district the cleaned area, the cleaners the standards "
            "require, the staff, the shortfall and the annual cost."
        ),
    )
    add_json_flag(parser)
    add_date_flag(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        type=Path,
        help="also write gaps/slivers/frame_overlaps/conflicts/nesting/unheld .geojson and units/districts .csv here",
    )
    parser.add_argument(
        "--sliver-m2",
        type=float,
        default=DEFAULT_SLIVER_M2,
        metavar="X",
        help=f"gap and overlap pieces smaller than X m² are slivers (default {DEFAULT_SLIVER_M2:g})",
    )
    parser.add_argument(
        "--sliver-width-m",
        type=float,
        default=0.0,
        metavar="W",
        help="pieces thinner than W m on average are slivers too (default 0: off)",
    )
    parser.add_argument(
        "--boundary-layer",
        metavar="ID",
        help="a polygon layer holding the city boundary: its ground outside every district is a gap too",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for name, value in (("--sliver-m2", args.sliver_m2), ("--sliver-width-m", args.sliver_width_m)):
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"{name} must be a number >= 0, not {value}")
    ds = open_dataset(args)  # --date becomes the dataset's reference date
    try:
        with stage_progress("coverage", len(COVERAGE_STAGES)) as stage:
            report = compute_coverage(
                ds,
                None,
                args.sliver_m2,
                sliver_width_m=args.sliver_width_m,
                boundary_layer=args.boundary_layer,
                progress=stage,
            )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    written = write_outputs(report, args.output) if args.output is not None else []
    if args.json:
        data = report.to_dict()
        data["date_source"] = ds.reference_date_source
        if written:
            data["files"] = [str(path) for path in written]
        print_json(data)
    else:
        print_text(summary(report, ds.name, ds.lang, date_text=date_line(ds)))
        for path in written:
            print(f"{_t(ds.lang, 'written')}: {path}")
    return 0


def write_outputs(report: CoverageReport, folder: Path) -> list[Path]:
    """Write the problem layers and the two tables into ``folder`` (created if missing)."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from exc
    written: list[Path] = []
    try:
        for file_name, attribute in GEOJSON_FILES.items():
            text = geojson_text(getattr(report, attribute))
            target = folder / file_name
            write_atomically(target, lambda tmp, text=text: _readable(tmp.write_text(text, encoding="utf-8"), tmp))
            written.append(target)
        for file_name, attribute in CSV_FILES.items():
            table: pd.DataFrame = getattr(report, attribute)
            target = folder / file_name
            write_atomically(
                target, lambda tmp, table=table: _readable(table.to_csv(tmp, index=False, encoding="utf-8-sig"), tmp)
            )
            written.append(target)
    except OSError as exc:
        raise CommandError(f"cannot write into {folder}: {exc.strerror or exc}") from exc
    return written


def _readable(_: object, path: Path) -> None:
    """Temporary files are created private (0600); results are ordinary files others may read."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def geojson_text(frame: Any) -> str:
    """A FeatureCollection (RFC 7946, WGS-84) as text, Chinese left readable."""
    return json.dumps(to_geojson(frame), ensure_ascii=False, allow_nan=False)


# -- the human summary --------------------------------------------------------
def _t(lang: str, key: str, **values: Any) -> str:
    """The summary's words: the ``coverage_`` entries of the one word table per language (maps/wording.py)."""
    text = words(lang)["coverage_" + key]
    return text.format(**values) if values else text


def _area(value: float, lang: str) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f} km²"
    return f"{value:,.0f} m²" if lang == "en" else f"{value:.0f} m²"


def _length(value: float) -> str:
    return f"{value / 1000:.1f} km" if value >= 1000 else f"{value:.0f} m"


def _money(value: float, lang: str) -> str:
    if lang == "zh":
        return f"{value / 1e4:.1f} 万元"
    return f"{value:,.0f} yuan"


def _list(lang: str, items: list[str]) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _frame_line(report: CoverageReport, lang: str) -> str:
    totals = report.totals
    return _t(
        lang,
        "frame",
        n=totals["districts"],
        area=_area(totals["frame_area_m2"], lang),
        gaps=totals["gaps"],
        gap_area=_area(totals["gap_area_m2"], lang),
        overlaps=totals["frame_overlaps"],
        overlap_area=_area(totals["frame_overlap_area_m2"], lang),
        slivers=totals["slivers"],
    )


def summary(report: CoverageReport, dataset_name: str, lang: str, *, date_text: str | None = None) -> str:
    """The readable summary printed by ``respmap coverage`` (without ``--json``).

    ``date_text`` names the date and where it comes from (:func:`api.commands.common.date_line`).
    """
    totals = report.totals
    lines = [f"{dataset_name} — {_t(lang, 'title')} · {date_text or report.date.isoformat()}", ""]
    if not totals["districts"]:
        # "0 districts, 0 m² in all; 0 gap(s)" would read as a clean bill of health.
        lines.append(_t(lang, "no_frame"))
    else:
        lines.append(_frame_line(report, lang))
    if report.districts_without_hq:
        names = dict(zip(report.districts["district_id"], report.districts["name"], strict=True))
        lines.append(
            f"{_t(lang, 'no_hq')}: {_list(lang, [f'{names.get(d, d)} ({d})' for d in report.districts_without_hq])}"
        )
    for row in report.gaps.head(SHOWN).itertuples(index=False):
        lines.append(
            f"  {row.gap_id}  {_area(row.area_m2, lang)}  {_t(lang, row.kind)}  {_list(lang, row.district_ids)}  "
            f"({row.lon:.6f}, {row.lat:.6f})"
        )
    _more(lines, lang, len(report.gaps))

    lines += ["", f"{_t(lang, 'conflicts')}: {len(report.conflicts)}, {_area(totals['conflict_area_m2'], lang)}"]
    for row in report.conflicts.head(SHOWN).itertuples(index=False):
        features = _list(lang, [f"{n} ({f})" for n, f in zip(row.feature_names, row.feature_ids, strict=True)])
        units = _list(lang, [f"{n} ({u})" if n else u for n, u in zip(row.unit_names, row.unit_ids, strict=True)])
        lines.append(f"  {row.conflict_id}  {_area(row.area_m2, lang)}  {_t(lang, row.kind)}  {features}: {units}")
    _more(lines, lang, len(report.conflicts))

    unheld_area = totals["unheld_area_m2"]
    lines += ["", f"{_t(lang, 'unheld')}: {len(report.unheld)}, {_area(unheld_area, lang)}"]
    for row in report.unheld.head(SHOWN).itertuples(index=False):
        where = f" {row.from_m:.0f}-{row.to_m:.0f} m" if row.reason == "stretch_uncovered" else ""
        fallback = f"  {_t(lang, 'fallback')} {row.fallback_unit}" if row.fallback_unit else ""
        lines.append(
            f"  {row.name} ({row.feature_id}){where}  {row.layer}  {_area(row.area_m2, lang)}  "
            f"{_t(lang, row.reason)}  {row.district_id}{fallback}"
        )
    _more(lines, lang, len(report.unheld))

    units = report.units.set_index("unit_id")
    idle = [f"{units.at[u, 'name']} ({u})" if u in units.index else u for u in report.idle_units]
    lines += ["", f"{_t(lang, 'idle')}: {_list(lang, idle) if idle else _t(lang, 'none')}", ""]

    lines.append(
        _t(
            lang,
            "workload",
            area=_area(totals["area_m2"], lang),
            length=_length(totals["length_m"]),
            required=totals["required_workers"],
            staff=totals["staff"],
            shortfall=totals["shortfall"],
            cost=_money(totals["cost_yuan"], lang),
        )
    )
    if totals["unpriced_area_m2"] > 0:
        lines.append(f"  {_t(lang, 'unpriced')}: {_area(totals['unpriced_area_m2'], lang)}")
    short = report.units[report.units["shortfall"] > 0].sort_values("shortfall", ascending=False)
    if short.empty:
        lines.append(_t(lang, "no_short"))
    else:
        lines.append(f"{_t(lang, 'short')}:")
        for row in short.head(SHOWN).itertuples(index=False):
            staff = "?" if pd.isna(row.staff) else f"{row.staff:.0f}"
            detail = _t(
                lang,
                "short_line",
                required=row.required_workers,
                staff=staff,
                shortfall=row.shortfall,
                cost=_money(row.cost_yuan, lang),
            )
            lines.append(f"  {row.name} ({row.unit_id})  {detail}")
        _more(lines, lang, len(short))
    lines += ["", _t(lang, "info", nesting=totals["nesting"], junctions=totals["junctions"])]
    return "\n".join(lines)


def _more(lines: list[str], lang: str, count: int) -> None:
    if count > SHOWN:
        lines.append("  " + _t(lang, "more", n=count - SHOWN))
