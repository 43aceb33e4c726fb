"""``respmap assess``: indicators, scores and ranks of every unit and district for a period.

    respmap assess --period 2026-11                 a month (or 2026-Q4, 2026-H2, 2026)
    respmap assess --from 2026-11-01 --to 2026-11-07 --json
    respmap assess --period 2026-Q4 -o 考核-2026Q4/

Reads the local case store (``RESPMAP_DATABASE_URL`` / ``RESPMAP_DATA_DIR``, as
``respmap cases``) and assesses with :mod:`geo.assessment` as at the period's end.
Text: the city's figures, the best and the worst. ``--json``: the whole
assessment with the case ids behind every figure. ``-o DIR`` writes
``assessment.json``, ``assessment.xlsx`` (a sheet per level: units, districts,
city, and a sheet of the cases behind each figure) and ``assessment_districts.geojson``
/ ``assessment_cases.geojson`` (WGS-84), each atomically.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from api.assessment_source import cases_geojson
from api.commands.case_common import open_case_store, store_errors
from api.commands.common import (
    CommandError,
    UsageError,
    add_json_flag,
    open_dataset,
    print_json,
    print_text,
    terminal_safe,
    write_atomically,
)
from geo.assessment import COUNTED, FIGURE_NAMES_ZH, FIGURES, Assessment, AssessmentInputError, Standing
from geo.assessment_rules import AssessmentRulesError
from geo.periods import Period, dataset_timezone, parse_period

if TYPE_CHECKING:
    from cases.store import Store
    from geo import Dataset

ORDER = 76
SHOWN = 3


def add_period_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", help="a month 2026-11, a quarter 2026-Q4, a half-year 2026-H2 or a year 2026")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="first day (with --to; local calendar)")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last day, included")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "assess",
        parents=[common],
        help="indicators, scores and ranks of units and districts for a period (考核)",
        description=(
            "Assess a period from the case store: per unit and district the cases attributed, due, closed on "
            "time, the on-time and close rates, rework, overdue cases, time to rectify, cases per km and per "
            "10,000 m² of held ground, a score from [assessment] in catalog.toml, and the rank."
        ),
    )
    add_period_flags(parser)
    add_json_flag(parser)
    parser.add_argument(
        "-o", "--output", metavar="DIR", type=Path, help="also write assessment .json, .xlsx and .geojson here"
    )
    parser.add_argument(
        "--no-cases",
        dest="cases",
        action="store_false",
        help="leave the case ids behind each figure out of --json (a city's year is a million ids)",
    )
    parser.set_defaults(handler=run)


def assessment_from_args(args: argparse.Namespace) -> tuple[Any, Assessment, Any]:
    """(dataset, assessment, store) for the period the options name; refusals as one-line errors."""
    from api.assessment_source import assess_period, period_of

    ds = open_dataset(args)
    if not (args.period or args.first or args.last):
        raise UsageError("give --period (2026-11, 2026-Q4, 2026-H2, 2026) or --from and --to dates")
    with store_errors():
        period = period_of(ds, args.period, args.first, args.last)
    store = open_case_store(args)
    try:
        with store_errors():
            assessment = assess_period(store, ds, period)
    except (AssessmentRulesError, AssessmentInputError) as error:
        store.dispose()
        raise CommandError(terminal_safe(str(error))) from None
    return ds, assessment, store


def run(args: argparse.Namespace) -> int:
    ds, assessment, store = assessment_from_args(args)
    store.dispose()
    written = write_outputs(assessment, args.output, ds.frame) if args.output is not None else []
    if args.json:
        data = assessment.to_dict(include_cases=args.cases)
        if written:
            data["files"] = [str(path) for path in written]
        print_json(data)
    else:
        print_text(summary(assessment, ds.name))
        for path in written:
            print_text(f"wrote {path}")
    return 0


def summary(assessment: Assessment, dataset_name: str) -> str:
    """The city's figures, the best and the worst units, in a few lines."""
    city = assessment.city.figures
    period = assessment.period
    lines = [
        f"{dataset_name}: assessment {period.label} ({period.label_zh}, {period.first_day} .. {period.last_day}, "
        f"{period.timezone}), as at {period.end_utc.tz_convert(period.timezone):%Y-%m-%d %H:%M}",
        f"  cases attributed {city['attributed']}, due {city['due']} (postponed {city['postponed']}), "
        f"closed on time {city['closed_on_time']}, on-time rate {_rate(city['on_time_rate'])}",
        f"  closed {city['closed']} (close rate {_rate(city['close_rate'])}), rework {city['rework']}, "
        f"overdue and open {city['overdue_open']}, disputes {city['disputes']}",
        f"  units ranked {len(assessment.ranked_units())} of {len(assessment.units)} "
        f"(score out of {assessment.rules.max_score:g}, rules: {assessment.rules.source})",
    ]
    for title, standings in (("best", assessment.best(SHOWN)), ("worst", assessment.worst(SHOWN))):
        if standings:
            lines.append(f"{title}:")
            lines.extend(_standing_line(s) for s in standings)
    return "\n".join(lines)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _standing_line(s: Standing) -> str:
    f = s.figures
    tie = f"  ({s.note})" if s.tied_with else ""
    return (
        f"  {s.rank:>3}. {s.name or s.id} ({s.id})  {s.score:.2f}  cases {f['attributed']}, "
        f"on time {_rate(f['on_time_rate'])}, overdue {f['overdue_open']}{tie}"
    )


# -- files ---------------------------------------------------------------------------------------


def standings_frame(standings: tuple[Standing, ...] | list[Standing]) -> pd.DataFrame:
    """One row per unit or district: rank, score, points, every figure (Chinese headers after the id)."""
    rows = []
    for s in standings:
        row: dict[str, Any] = {"编号 id": s.id, "名称 name": s.name, "排名 rank": s.rank, "得分 score": s.score}
        for name in FIGURES:
            row[f"{FIGURE_NAMES_ZH[name]} {name}"] = s.figures[name]
        for name, value in s.points.items():
            row[f"分项得分 {name}"] = value
        row["说明 note"] = s.note
        rows.append(row)
    return pd.DataFrame(rows)


def cases_frame(assessment: Assessment) -> pd.DataFrame:
    """Every (level, id, figure, case id): the cases behind each count."""
    parts = []
    for level, standings in (
        ("unit", assessment.units),
        ("district", assessment.districts),
        ("city", (assessment.city,)),
    ):
        for s in standings:
            for name in COUNTED:
                ids = s.case_ids[name]
                if len(ids):
                    parts.append(
                        pd.DataFrame(
                            {"level": level, "id": s.id, "name": s.name, "figure": name,
                             "figure_zh": FIGURE_NAMES_ZH[name], "case_id": ids}
                        )
                    )  # fmt: skip
    columns = ["level", "id", "name", "figure", "figure_zh", "case_id"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def write_outputs(assessment: Assessment, folder: Path, frame: Any = None) -> list[Path]:
    """assessment.json, .xlsx and the two GeoJSON files in ``folder`` (created if missing)."""
    from maps.tables import Sheet, write_xlsx

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder}: is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    target = folder / "assessment.json"
    write_atomically(target, lambda p: p.write_text(json.dumps(assessment.to_dict(), ensure_ascii=False), "utf-8"))
    written.append(target)
    percent = {f"{FIGURE_NAMES_ZH[n]} {n}": "0.0%" for n in ("on_time_rate", "close_rate")}
    sheets = [
        Sheet("单位 units", standings_frame(assessment.units), percent),
        Sheet("片区 districts", standings_frame(assessment.districts), percent),
        Sheet("全市 city", standings_frame([assessment.city]), percent),
        Sheet("案件明细 cases", cases_frame(assessment), {}),
    ]
    target = folder / "assessment.xlsx"
    write_atomically(target, lambda p: write_xlsx(sheets, p))
    written.append(target)
    for name, collection in (
        ("assessment_districts.geojson", districts_geojson(assessment, frame)),
        ("assessment_cases.geojson", cases_geojson(assessment)),
    ):
        target = folder / name
        write_atomically(target, lambda p, c=collection: p.write_text(json.dumps(c, ensure_ascii=False), "utf-8"))
        written.append(target)
    return written


def districts_geojson(assessment: Assessment, frame: Any = None) -> dict[str, Any]:
    """Each district's figures, score and rank on its polygon (WGS-84, from the dataset's frame)."""
    features = []
    geometries = {}
    if frame is not None:
        geometries = dict(zip(frame["district_id"].astype(str), frame.geometry, strict=False))
    for s in assessment.districts:
        data = s.to_dict(include_cases=False)
        geometry = geometries.get(s.id)
        features.append(
            {
                "type": "Feature",
                "properties": data,
                "geometry": None if geometry is None or geometry.is_empty else geometry.__geo_interface__,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def last_complete_month(day: dt.date, timezone: str) -> Period:
    """The calendar month before the one holding ``day`` (a report built on 3 December covers November)."""
    first = day.replace(day=1) - dt.timedelta(days=1)
    return parse_period(f"{first.year}-{first.month:02d}", timezone)


def write_period_kit(store: Store, ds: Dataset, folder: Path, period: Period | None = None) -> list[Path]:
    """The period's assessment files and bulletin (PDF and DOCX) in ``folder``, for ``respmap build``.

    ``period`` defaults to the last complete month before the dataset's reference date. Nothing is
    written (an empty list) when no case counts in the period: a kit without cases has no assessment.
    """
    from api.assessment_source import assess_period, case_photos
    from maps.bulletin import build_bulletin, write_bulletin

    period = period or last_complete_month(ds.reference_date.date(), dataset_timezone(ds))
    assessment = assess_period(store, ds, period)
    city = assessment.city.figures
    if not (city["attributed"] or city["due"] or city["overdue_open"]):
        return []
    written = write_outputs(assessment, folder, ds.frame)
    photos = case_photos(store, assessment.overdue["case_id"].head(assessment.rules.worst_overdue).tolist())
    bulletin = build_bulletin(ds, assessment, photos=photos)
    for suffix in (".pdf", ".docx"):
        written.append(write_bulletin(bulletin, folder / f"bulletin-{period.label}{suffix}"))
    return written
