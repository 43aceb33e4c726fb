"""``respmap import-assignments``: take back the responsibility workbook after the office edited it.

    respmap export -o 责任分工表.xlsx                       # the office edits it in Excel or WPS
    respmap import-assignments 责任分工表.xlsx --effective 2027-01-01 --by 张伟 --reason "机构调整" --dry-run
    respmap import-assignments 责任分工表.xlsx --effective 2027-01-01 --by 张伟 --reason "机构调整"

Prints the difference (assignments opened, closed, changed; units added or changed) and the
findings: ``respmap validate``'s on the data as it would be, and what the change itself breaks.
Exit 0 when applied (or, with ``--dry-run``, when it could be), 1 when refused (errors, or the
data changed while the change was being prepared), 2 for a usage error. Applying closes rows in
force the day before ``--effective`` and opens new ones on it; the tables switch together
(:mod:`geo.table_versions`) and the change is recorded in the store with who, when and why.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from api.assignment_changes import apply_and_record, edit_answer
from api.commands.common import (
    CommandError,
    UsageError,
    add_json_flag,
    dataset_path,
    open_dataset,
    print_json,
    print_text,
)
from api.state import STORE_GENERATION_KEY
from geo.assignment_diff import render_diff
from geo.assignment_edit import ChangedMeanwhile, EditRefused, PreparedEdit, prepare_edit
from geo.findings import LEVELS
from geo.table_versions import VersioningError

ORDER = 80
# Human output lists this many findings the change brings; --json lists every one.
SHOWN_FINDINGS = 30


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "import-assignments",
        parents=[common],
        help="apply the edited responsibility workbook (责任分工表.xlsx) from a date, with history",
        description=(
            "Read the workbook `respmap export` writes, after it was edited in Excel or WPS; show what changes, "
            "check it as `respmap validate` does plus what the change breaks, and apply it from --effective "
            "(rows in force end the day before, new rows start on it). Refused when errors remain."
        ),
    )
    parser.add_argument("workbook", type=Path, metavar="FILE.xlsx", help="the edited responsibility workbook")
    parser.add_argument("--effective", required=True, metavar="DATE", help="first day of the new state, YYYY-MM-DD")
    parser.add_argument("--by", required=True, metavar="NAME", help="who decided the change (kept in the history)")
    parser.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the history)")
    parser.add_argument("--dry-run", action="store_true", help="show the difference and the findings; change nothing")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def parse_effective(text: str) -> dt.date:
    """``--effective`` as a date; a UsageError naming the value when malformed."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--effective {text[:40]!r} is not a date (use YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    effective = parse_effective(args.effective)
    by, reason = args.by.strip(), args.reason.strip()
    if not by or not reason:
        raise UsageError("--by and --reason must say who decided the change and why")
    if args.workbook.suffix.lower() != ".xlsx":
        raise UsageError(f"{args.workbook.name}: give the .xlsx workbook `respmap export -o 责任分工表.xlsx` writes")
    store = _open_store(dataset_path(args), required=not args.dry_run)
    try:
        return _run(args, store, effective, by, reason)
    finally:
        if store is not None:
            store.dispose()


def _run(args: argparse.Namespace, store: Any, effective: dt.date, by: str, reason: str) -> int:
    from api.workbook_import import WorkbookError, read_workbook

    if store is not None:
        _take_up_store_tables(store, dataset_path(args))
    ds = open_dataset(args)
    try:
        edited = read_workbook(args.workbook, ds)
        prepared = prepare_edit(ds, edited, effective)
    except WorkbookError as exc:
        raise CommandError(str(exc)) from None
    except (EditRefused, ChangedMeanwhile) as exc:
        raise CommandError(str(exc)) from None
    result = edit_answer(prepared, dry_run=bool(args.dry_run))
    result["workbook"] = str(args.workbook)
    if not args.json:
        _print_human(prepared)
    if not prepared.ok:
        return _finish(args, result, "refused: fix the errors above; nothing was changed", 1)
    if args.dry_run:
        return _finish(args, result, "dry run: nothing was changed", 0)
    if prepared.plan.diff.empty:
        return _finish(args, result, "nothing to change", 0)
    try:
        applied, change = apply_and_record(prepared, store, by=by, reason=reason)
        announced = change is not None and _announce_reload(store)
    except ChangedMeanwhile as exc:
        result["changed_files"] = exc.changed_files
        result["latest_change"] = exc.latest_change
        result["error"] = "changed_meanwhile"
        return _finish(args, result, f"refused: {exc}", 1)
    except (EditRefused, VersioningError) as exc:
        return _finish(args, result, f"refused: {exc}", 1)
    except OSError as exc:
        raise CommandError(
            f"cannot write the new tables in {ds.path}: {exc.strerror or exc}; nothing was changed"
        ) from None
    result.update(applied=True, version=str(applied.version), at=applied.at.isoformat())
    result["change_id"] = change["id"] if change else None
    recorded = (
        f"change #{change['id']}"
        if change
        else "NOT confirmed by the store (kept in change.json; published and recorded when a server on this "
        "folder next reloads or starts)"
    )
    return _finish(
        args,
        result,
        f"applied from {effective}: {recorded}, tables in {applied.version}; "
        + (
            "servers sharing the store reload it within seconds"
            if announced
            else "a running server takes it up on reload (POST /admin/reload)"
        ),
        0,
    )


def _announce_reload(store: Any) -> bool:
    """Bump the dataset generation servers sharing this store watch (``api.state``), so they reload."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        store.bump_counter(STORE_GENERATION_KEY)
    except SQLAlchemyError:
        return False
    return True


def _open_store(folder: Path, *, required: bool) -> Any:
    """The store for the history, opened before anything is read or written (a broken store changes nothing).

    A dry run creates and migrates nothing: it opens only a shared database (PostgreSQL, where other
    servers' edits may be newer than this folder), and goes on without it, with a warning, if it fails.
    """
    from cases.store import StoreError, open_store, store_config

    config = store_config(folder)
    if not required and config.backend != "postgresql":
        return None
    try:
        return open_store(config=config, upgrade=required)
    except StoreError as exc:
        if required:
            raise CommandError(f"{exc}; nothing was changed") from None
        print_warning(f"{exc}; comparing with the tables in {folder} as they are")
        return None


def print_warning(message: str) -> None:
    """A note on stderr (stdout stays the answer, JSON with --json)."""
    print_text(f"warning: {message}", file=sys.stderr)


def _take_up_store_tables(store: Any, folder: Path) -> None:
    """Write the store's newest tables into the folder first (edits made on other servers), as a server does."""
    from sqlalchemy.exc import SQLAlchemyError

    from cases.dataset_tables import materialize

    try:
        result = materialize(store, folder)
    except SQLAlchemyError as exc:
        print_warning(f"cannot read the tables kept in the store ({type(exc).__name__}); using {folder} as it is")
        return
    if result.status == "written":
        print_warning(f"took up {len(result.versions)} newer version(s) of the tables from the store first")
    elif result.status == "diverged":
        print_warning(result.message)


def _finish(args: argparse.Namespace, result: dict[str, Any], message: str, code: int) -> int:
    result["message"] = message
    if args.json:
        print_json(result)
    else:
        print_text(message)
    return code


def _print_human(prepared: PreparedEdit) -> None:
    print_text(render_diff(prepared.plan.diff, prepared.ds))
    shown = [(i, f) for i, f in enumerate(prepared.findings) if f.level == "error" or i in prepared.new_keys]
    shown.sort(key=lambda item: LEVELS.index(item[1].level))
    earlier = len(prepared.findings) - len(shown)
    if shown:
        print_text("")
    for _, finding in shown[:SHOWN_FINDINGS]:
        print_text(f"  {finding.level:7} {finding.code}: {finding.message}")
    if len(shown) > SHOWN_FINDINGS:
        print_text(f"  ... and {len(shown) - SHOWN_FINDINGS} more (see --json)")
    counts = {level: sum(1 for f in prepared.findings if f.level == level) for level in LEVELS}
    note = f"; {earlier} warning(s)/note(s) the data had before are not repeated" if earlier else ""
    print_text(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s){note}")
