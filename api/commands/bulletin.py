"""``respmap bulletin``: the period's 通报 (or a campaign 快报) as PDF or Word.

    respmap bulletin --period 2026-11 -o 2026年11月考核通报.pdf
    respmap bulletin --period 2026-Q4 -o 通报.docx --number 4 --issuer "安康市双创办"
    respmap bulletin --from 2026-11-01 --to 2026-11-07 --kind 快报 -o 快报.pdf

Assesses the period from the local case store (as ``respmap assess``) and lays
the result out with :mod:`maps.bulletin`: summary, rankings, the case map, a
chart per district, the longest-overdue cases with their photos, the appendix.
The file is written atomically; the format follows the extension.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from api.assessment_source import case_photos
from api.commands.assess import add_period_flags, assessment_from_args
from api.commands.common import CommandError, UsageError, add_json_flag, print_json, print_text, terminal_safe

ORDER = 77


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "bulletin",
        parents=[common],
        help="the period's assessment bulletin (通报 / 快报) as PDF or DOCX",
        description="Write the period's assessment bulletin (通报, or a 快报) as a PDF or a Word document.",
    )
    add_period_flags(parser)
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="FILE", help=".pdf or .docx")
    parser.add_argument("--number", type=int, metavar="N", help="第 N 期 (default: the month, quarter or half)")
    parser.add_argument("--kind", default="通报", choices=("通报", "快报"), help="通报 (default) or 快报")
    parser.add_argument("--issuer", metavar="TEXT", help="the issuing office printed at the top")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from maps.bulletin import FORMATS, BulletinError, build_bulletin, write_bulletin

    target: Path = args.output
    if target.suffix.lower() not in FORMATS:
        raise UsageError(f"-o {target.name}: the file name must end in .pdf or .docx")
    if not target.parent.is_dir() and str(target.parent):
        raise UsageError(f"-o {target}: the folder {target.parent} does not exist")
    started = time.perf_counter()
    ds, assessment, store = assessment_from_args(args)
    try:
        overdue_ids = assessment.overdue["case_id"].head(assessment.rules.worst_overdue).tolist()
        photos = case_photos(store, overdue_ids)
    finally:
        store.dispose()
    try:
        bulletin = build_bulletin(ds, assessment, number=args.number, kind=args.kind, issuer=args.issuer, photos=photos)
        write_bulletin(bulletin, target)
    except BulletinError as error:
        raise UsageError(terminal_safe(str(error))) from None
    except OSError as error:
        raise CommandError(terminal_safe(f"cannot write {target}: {error.strerror or error}")) from None
    seconds = time.perf_counter() - started
    if args.json:
        print_json(
            {
                "file": str(target),
                "title": bulletin.title,
                "number": bulletin.number,
                "period": assessment.period.to_dict(),
                "overdue_listed": len(bulletin.overdue),
                "notes": list(bulletin.notes),
                "seconds": round(seconds, 2),
            }
        )
    else:
        print_text(f"wrote {target}: {bulletin.title}（{bulletin.number_line}） in {seconds:.1f} s")
        for note in bulletin.notes:
            print_text(f"  note: {note}")
    return 0
