"""``respmap tables``: this folder's responsibility tables against the versions kept in the store.

    respmap tables                          where the folder stands (in sync, behind, ahead, diverged)
    respmap tables --take                   write the store's newest version into the folder (as a server does)
    respmap tables --take --discard-local   ... also when the folder has changes the store lacks

With several machines on one database, each server writes the store's newest assignments and
units tables into its own folder before it loads (:mod:`cases.dataset_tables`). A folder that
changed on its own while others published (an edit made while the store was away, a table saved
by hand) is never overwritten by a server: it keeps serving its tables and logs an error. This
command shows that, and ``--take --discard-local`` resolves it in favour of the store; the folder's
own tables stay in ``history/`` as a version, so nothing is lost. Exit 0 when the folder is (now)
in sync or nothing was published, 1 when it diverged or cannot be compared.
"""

from __future__ import annotations

import argparse

from api.commands.case_common import open_case_store
from api.commands.common import CommandError, UsageError, add_json_flag, dataset_path, print_json, print_text

ORDER = 82
EXIT_BY_STATUS = {"no_store_versions": 0, "in_sync": 0, "written": 0, "behind": 0, "ahead": 0}
EXPLAINED = {
    "no_store_versions": "no change of responsibility was published to the store for this dataset yet",
    "in_sync": "the folder's tables are the store's newest version",
    "behind": "the store has newer tables (edits made on another server); a server takes them up on its next "
    "reload, `respmap tables --take` now",
    "ahead": "the folder has changes the store lacks, made on its newest version; a server publishes them once they "
    "load without errors",
}


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "tables",
        parents=[common],
        help="the folder's responsibility tables against the versions kept in the store",
        description=(
            "Say whether the folder's assignments and units tables are the newest version kept in the store "
            "(several servers on one database), and take that version up."
        ),
    )
    parser.add_argument("--take", action="store_true", help="write the store's newest version into the folder")
    parser.add_argument(
        "--discard-local",
        action="store_true",
        help="with --take: also when the folder has changes the store lacks (they stay in history/)",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from cases.dataset_tables import materialize
    from geo.table_versions import VersioningError

    if args.discard_local and not args.take:
        raise UsageError("--discard-local goes with --take")
    path = dataset_path(args)
    store = open_case_store(args)
    try:
        result = materialize(store, path, discard_local=args.discard_local, write=args.take)
    except (SQLAlchemyError, OSError, VersioningError) as exc:
        raise CommandError(f"cannot bring the tables of {path} up to the store's: {exc}") from None
    finally:
        store.dispose()
    message = result.message or EXPLAINED.get(result.status, result.status)
    if result.status == "written":
        message = f"took up version {result.latest_seq} of {result.dataset_key}: {', '.join(result.versions)}"
    elif result.status in EXPLAINED and result.message:
        message = f"{EXPLAINED[result.status]} ({result.message})"
    code = EXIT_BY_STATUS.get(result.status, 1)
    if args.json:
        print_json(
            {
                "dataset": str(path),
                "dataset_key": result.dataset_key,
                "status": result.status,
                "latest_seq": result.latest_seq,
                "written": list(result.versions),
                "message": message,
            }
        )
    else:
        print_text(f"{result.status}: {message}")
    return code
