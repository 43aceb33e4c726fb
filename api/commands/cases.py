"""``respmap cases``: the case loop from the command line, acting as the office on the local store.

    respmap cases categories                                   the categories in force
    respmap cases add 109.0137 32.7068 --category exposed_garbage --note "路口堆放" [--crs gcj02]
    respmap cases list --state dispatched --unit U17 --overdue
    respmap cases show 20261103-000001
    respmap cases event 20261103-000001 postpone --due 2026-11-05T18:00 --note "雨天"
    respmap cases import 第三轮暗访.xlsx [--crs gcj02]          one case per row; bad rows by row and field
    respmap cases export -o 11月案件.xlsx --period 2026-11 [--district D03 --unit U17 --state closed]

Every action takes ``--json``. The command line is the office: an admin named after ``--by``
or the OS user (:mod:`cases.office`). Refusals of the engine (a transition the state does not
allow, a point outside every district, a damaged photo) are one line on stderr and exit code 1;
malformed options exit 2. This module only parses and prints: the work is in ``cases/``
(:mod:`cases.service`, :mod:`cases.round_import`, :mod:`cases.case_export`).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from api.commands.case_common import (
    add_office_flag,
    case_service,
    office,
    open_case_store,
    parse_time_option,
    period_bounds,
    read_photo,
    store_errors,
)
from api.commands.common import (
    UsageError,
    add_json_flag,
    dataset_path,
    open_dataset,
    print_json,
    print_text,
    write_atomically,
)
from cases.workflow import ACTIONS, STATES

ORDER = 74
DEFAULT_LIST_LIMIT = 100


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "cases",
        parents=[common],
        help="report, list, move, import and export cases (as the office)",
        description="The case loop on the local store, acting as the office (an admin).",
    )
    actions = parser.add_subparsers(dest="cases_action", metavar="ACTION", required=True, parser_class=type(parser))

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, parents=[common], help=help_text, description=help_text)
        add_json_flag(sub)
        return sub

    categories = action("categories", "the case categories in force (code, name, group, deadline)")
    categories.set_defaults(handler=run_categories)

    add = action("add", "report a case at a point; attributed and dispatched at once")
    add.add_argument("lon", type=float, nargs="?", help="longitude (or x in --crs); leave out to use the photo's GPS")
    add.add_argument("lat", type=float, nargs="?", help="latitude (or y in --crs)")
    add.add_argument("--category", required=True, metavar="CODE", help="a code from `respmap cases categories`")
    add.add_argument("--crs", default="wgs84", help="wgs84 (GPS, default), gcj02, bd09, cgcs2000 or EPSG:n")
    add.add_argument("--note", default="", help="what was found")
    add.add_argument("--photo", metavar="FILE", help="a JPEG, PNG or WebP photo")
    add.add_argument("--at", metavar="ISO-TIME", help="when it was seen (default now; local time without a zone)")
    add.add_argument("--unit", metavar="ID", help="assign by hand (a point outside every district, or to override)")
    add_office_flag(add)
    add.set_defaults(handler=run_add)

    listing = action("list", "the cases, most urgent first")
    _add_filters(listing)
    listing.add_argument("--limit", type=int, default=DEFAULT_LIST_LIMIT, help="at most this many (default 100)")
    listing.add_argument("--offset", type=int, default=0, help="skip this many first")
    listing.set_defaults(handler=run_list)

    show = action("show", "one case with its whole history")
    show.add_argument("case_id")
    show.set_defaults(handler=run_show)

    event = action("event", "take a step on a case: " + ", ".join(ACTIONS))
    event.add_argument("case_id")
    event.add_argument("step", metavar="ACTION", help=", ".join(ACTIONS))
    event.add_argument("--note", default="", help="why, or what was done (needed for reject, dispute, send_back)")
    event.add_argument("--photo", metavar="FILE", help="a photo (the rectification, for instance)")
    event.add_argument("--due", metavar="ISO-TIME", help="postpone: the new deadline")
    event.add_argument("--unit", metavar="ID", help="reassign: the unit the case goes to")
    add_office_flag(event)
    event.set_defaults(handler=run_event)

    importing = action("import", "an inspection round (CSV or XLSX, one finding per row) as cases")
    importing.add_argument("file", help="the round's sheet (.csv or .xlsx)")
    importing.add_argument("--crs", help="datum of rows without a crs/坐标系 column value (default wgs84)")
    add_office_flag(importing)
    importing.set_defaults(handler=run_import)

    export = action("export", "the cases as CSV, XLSX or GeoJSON, filtered")
    export.add_argument("-o", "--output", required=True, metavar="FILE", help=".csv, .xlsx or .geojson")
    _add_filters(export)
    export.set_defaults(handler=run_export)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", action="append", metavar="S", help=f"{', '.join(STATES)} (repeat or a,b)")
    parser.add_argument("--unit", metavar="ID", help="cases now with this unit")
    parser.add_argument("--district", metavar="ID", help="cases in this district")
    parser.add_argument("--category", metavar="CODE", help="cases of this category")
    parser.add_argument("--period", help="reported in 2026-11, 2026-Q4, 2026-H2 or 2026 (local calendar)")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="reported on or after this day")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="reported on or before this day")
    parser.add_argument("--overdue", action="store_true", help="only open cases past their deadline")


# ----------------------------------------------------------------------------- handlers


def run_categories(args: argparse.Namespace) -> int:
    from cases.categories import load_categories

    with store_errors():
        found = load_categories(dataset_path(args))
    if args.json:
        print_json({"source": found.source, "categories": [c.to_dict() for c in found.items]})
        return 0
    print_text(f"categories from {found.source}:")
    width = max(len(c.code) for c in found.items)
    for kind in found.items:
        where = f"  only on {', '.join(kind.applies_to)}" if kind.applies_to else ""
        print_text(
            f"  {kind.code:<{width}}  {kind.name}  [{kind.group or '-'}]  within {kind.deadline_hours:g} h, "
            f"severity {kind.severity}{where}"
        )
    return 0


def _context(args: argparse.Namespace) -> tuple[Any, Any]:
    """The store and the engine over it and the dataset (the caller disposes of the store)."""
    ds = open_dataset(args)
    store = open_case_store(args)
    try:
        return store, case_service(args, store, ds)
    except BaseException:
        store.dispose()
        raise


def run_add(args: argparse.Namespace) -> int:
    if (args.lon is None) != (args.lat is None):
        raise UsageError("give both LON and LAT, or neither (a --photo whose EXIF has a GPS position)")
    if args.lon is None and args.photo is None:
        raise UsageError("where: give LON LAT, or a --photo whose EXIF has a GPS position")
    store, service = _context(args)
    try:
        actor = office(args, store)
        at = parse_time_option(args.at, service.zone, "--at")
        photo = read_photo(args.photo, store.config.photo_limit_mb)
        with store_errors():
            case = service.create(
                actor,
                lon=args.lon,
                lat=args.lat,
                crs=args.crs,
                category=args.category,
                note=args.note,
                at=at,
                photo=photo,
                force_unit=args.unit,
            )
    finally:
        store.dispose()
    if args.json:
        print_json(case)
        return 0
    print_text(f"reported {_line(case)}")
    if case.get("due_at"):
        print_text(f"  due {_time(case['due_at'])}; see it with `respmap cases show {case['case_id']}`")
    return 0


def _filters(args: argparse.Namespace, zone: dt.tzinfo, *, limit: int, offset: int) -> Any:
    from cases.service import CaseFilter

    states = tuple(s.strip() for given in (args.state or ()) for s in given.split(",") if s.strip())
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise UsageError(f"--state {unknown[0]!r}: states are {', '.join(STATES)}")
    start, end = period_bounds(args.period, args.first, args.last, zone)
    return CaseFilter(
        state=states,
        unit_id=args.unit,
        district_id=args.district,
        category=args.category,
        start=start,
        end=end,
        overdue=True if args.overdue else None,
        limit=limit,
        offset=offset,
    )


def run_list(args: argparse.Namespace) -> int:
    from cases.service import MAX_LIST_LIMIT

    if not 1 <= args.limit <= MAX_LIST_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIST_LIMIT}")
    if args.offset < 0:
        raise UsageError("--offset must be 0 or more")
    store, service = _context(args)
    try:
        filters = _filters(args, service.zone, limit=args.limit, offset=args.offset)
        actor = office(args, store)
        with store_errors():
            items, total = service.list(actor, filters)
    finally:
        store.dispose()
    if args.json:
        print_json({"total": total, "count": len(items), "offset": args.offset, "cases": items})
        return 0
    for case in items:
        print_text(_line(case))
    shown = f"{args.offset + 1}-{args.offset + len(items)} of {total}" if items else f"none of {total}"
    print_text(f"{shown} case(s)" + ("; --offset for more" if args.offset + len(items) < total else ""))
    return 0


def run_show(args: argparse.Namespace) -> int:
    store, service = _context(args)
    try:
        actor = office(args, store)
        with store_errors():
            case = service.get(actor, args.case_id)
    finally:
        store.dispose()
    if args.json:
        print_json(case)
        return 0
    _print_case(case)
    return 0


def run_event(args: argparse.Namespace) -> int:
    store, service = _context(args)
    try:
        actor = office(args, store)
        due = parse_time_option(args.due, service.zone, "--due")
        photo = read_photo(args.photo, store.config.photo_limit_mb)
        with store_errors():
            case = service.act(
                actor, args.case_id, args.step, note=args.note, due_at=due, unit_id=args.unit, photo=photo
            )
    finally:
        store.dispose()
    if args.json:
        print_json(case)
        return 0
    last = case["events"][-1]
    print_text(f"{last['action']} ({last['action_name']}): {_line(case)}")
    allowed = ", ".join(case["allowed_actions"]) or "nothing (final)"
    print_text(f"  next: {allowed}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from cases.round_import import import_round

    store, service = _context(args)
    try:
        actor = office(args, store)
        with store_errors():
            report = import_round(service, actor, Path(args.file), crs=args.crs)
    finally:
        store.dispose()
    if args.json:
        print_json(report.to_dict())
        return 0 if report.ok else 1
    for created in report.created:
        units = ", ".join(created["units"]) or "-"
        print_text(f"row {created['row']}: case {created['case_id']} -> {units}")
    for problem in report.problems:
        print_text(f"{report.file} {problem}")
    summary = (
        f"{report.file}: {report.rows} row(s): {len(report.created)} case(s) created, "
        f"{len(report.already)} already imported, {len(report.problems)} row(s) failed"
    )
    print_text(summary)
    if report.problems:
        print_text("fix the failed rows and import the file again: rows already imported are not created twice")
    return 0 if report.ok else 1


def run_export(args: argparse.Namespace) -> int:
    from cases.case_export import collect_cases, export_format, write_cases

    target = Path(args.output)
    with store_errors():
        export_format(target)
    store, service = _context(args)
    try:
        filters = _filters(args, service.zone, limit=1, offset=0)
        actor = office(args, store)
        with store_errors():
            cases = collect_cases(service, actor, filters)
            write_atomically(target, lambda tmp: write_cases(cases, tmp, lang=service.ds.lang))
    finally:
        store.dispose()
    if args.json:
        print_json({"file": str(target), "cases": len(cases)})
    else:
        print_text(f"{len(cases)} case(s) written to {target}")
    return 0


# ----------------------------------------------------------------------------- text


def _time(value: str | None) -> str:
    return "" if not value else value[:16].replace("T", " ")


def _line(case: dict[str, Any]) -> str:
    feature = case.get("feature") or {}
    place = feature.get("name") or feature.get("feature_id") or ""
    where = " ".join(p for p in (case.get("district_name") or case.get("district_id") or "", place) if p)
    units = ", ".join(f"{u['name']} ({u['unit_id']}, {u['role']})" for u in case.get("units") or []) or "no unit"
    late = "  OVERDUE" if case.get("overdue") else ""
    return (
        f"{case['case_id']}  {case['state']} {case['state_name']}  {case['category_name']}  "
        f"{_time(case['reported_at'])}  {where} -> {units}{late}"
    )


def _print_case(case: dict[str, Any]) -> None:
    print_text(_line(case))
    given = case.get("given") or {}
    print_text(
        f"  at {case['lon']:.6f}, {case['lat']:.6f} (WGS-84); given {given.get('lon')}, {given.get('lat')} "
        f"({given.get('crs')})"
    )
    if case.get("due_at"):
        print_text(f"  due {_time(case['due_at'])}" + ("  OVERDUE" if case.get("overdue") else ""))
    if case.get("note"):
        print_text(f"  note: {case['note']}")
    if case.get("fallback"):
        print_text("  nobody holds this place: the district headquarters answers (属地兜底)")
    print_text(f"  attributed on {case['attribution_date']} with dataset {case['dataset_hash']}")
    for photo in case.get("photos") or []:
        print_text(f"  photo {photo['url']} ({photo['width']} x {photo['height']})")
    for event in case.get("events") or []:
        extra = "".join(
            [
                f" due {_time(event['due_at'])}" if event.get("due_at") else "",
                f" to {event['unit_id']}" if event.get("unit_id") else "",
                f": {event['note']}" if event.get("note") else "",
            ]
        )
        who = f"{event['by_name']} ({event['by_role']})" if event.get("by_name") else event["by_role"]
        print_text(f"  {_time(event['at'])}  {event['action']} {event['action_name']} by {who}{extra}")
    allowed = ", ".join(case.get("allowed_actions") or []) or "nothing (final)"
    print_text(f"  next: {allowed}")
