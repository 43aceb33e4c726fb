"""``respmap db``: create, migrate and inspect the case store.

    respmap db upgrade     create the store or bring an older one to the newest schema
    respmap db status      where the store is and whether it is up to date (exit 1 if not)

The store is the one the server and every other command use: ``RESPMAP_DATABASE_URL`` if
set, else SQLite in ``RESPMAP_DATA_DIR`` or the dataset's ``data/`` folder (see
:mod:`cases.store`). A database from an older respmap is upgraded by Alembic migrations,
never dropped; ``status`` only reads (it does not create a store that is not there).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.commands.case_common import open_case_store, store_errors
from api.commands.common import add_json_flag, dataset_path, print_json, print_text

ORDER = 72


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "db",
        parents=[common],
        help="create, migrate or inspect the case store",
        description="The case store (SQLite by default, PostgreSQL with RESPMAP_DATABASE_URL).",
    )
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True, parser_class=type(parser))
    upgrade = actions.add_parser(
        "upgrade", parents=[common], help="create the store or migrate it to the newest schema"
    )
    add_json_flag(upgrade)
    upgrade.set_defaults(handler=run_upgrade)
    status = actions.add_parser("status", parents=[common], help="where the store is, its schema revision")
    add_json_flag(status)
    status.set_defaults(handler=run_status)


def _where(store_config: Any) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    return {
        "backend": store_config.backend,
        "url": make_url(store_config.url).render_as_string(hide_password=True),
        "data_dir": str(store_config.data_dir),
    }


def run_upgrade(args: argparse.Namespace) -> int:
    from cases.migrate import current_revision, head_revision

    with store_errors():
        before = _revision_if_present(args)
        store = open_case_store(args)
        try:
            after = current_revision(store.engine)
            info = {**_where(store.config), "revision": after, "head": head_revision(), "previous_revision": before}
        finally:
            store.dispose()
    if args.json:
        print_json(info)
        return 0
    if before is None:
        change = "created"
    elif before == after:
        change = "already up to date"
    else:
        change = f"upgraded from {before}"
    print_text(f"case store {info['url']}: {change}, schema revision {after}")
    print_text(f"photos and files in {info['data_dir']}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from cases.migrate import current_revision, head_revision
    from cases.store import store_config

    config = store_config(dataset_path(args))
    info = {**_where(config), "head": head_revision()}
    if config.backend == "sqlite" and not _sqlite_file(config.url).is_file():
        info.update(exists=False, revision=None, up_to_date=False)
    else:
        store = open_case_store(args, upgrade=False)
        try:
            with store_errors():
                try:
                    revision = current_revision(store.engine)
                except Exception as error:  # unreachable server, wrong password: one line
                    from cases.store import StoreError

                    raise StoreError(f"cannot read the store at {info['url']}: {str(error).splitlines()[0]}") from None
        finally:
            store.dispose()
        info.update(exists=True, revision=revision, up_to_date=revision == info["head"])
    if args.json:
        print_json(info)
    elif not info["exists"]:
        print_text(f"no case store yet at {info['url']}; `respmap db upgrade` creates it")
    elif info["up_to_date"]:
        print_text(f"case store {info['url']}: schema revision {info['revision']} (up to date)")
        print_text(f"photos and files in {info['data_dir']}")
    else:
        shown = info["revision"] or "no schema"
        print_text(f"case store {info['url']}: {shown}, newest is {info['head']}; run `respmap db upgrade`")
    return 0 if info["up_to_date"] else 1


def _revision_if_present(args: argparse.Namespace) -> str | None:
    """The schema revision before an upgrade (None: a new store, or one without a schema yet)."""
    from cases.migrate import current_revision
    from cases.store import store_config

    config = store_config(dataset_path(args))
    if config.backend == "sqlite" and not _sqlite_file(config.url).is_file():
        return None
    store = open_case_store(args, upgrade=False)
    try:
        return current_revision(store.engine)
    except Exception:  # unreachable now: the upgrade that follows says why, in one line
        return None
    finally:
        store.dispose()


def _sqlite_file(url: str) -> Path:
    from sqlalchemy.engine import make_url

    return Path(make_url(url).database or "")
