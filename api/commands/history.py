"""``respmap history``: every change of responsibility applied to the dataset, newest first.

    respmap history                    who changed what, when, why, from which date
    respmap history --feature S1       only changes touching this place
    respmap history --unit U17 --json  only changes touching this unit, as JSON

Reads the store (:mod:`cases.history`); version notes the store missed are recorded first.
"""

from __future__ import annotations

import argparse
from typing import Any

from api.commands.case_common import open_case_store
from api.commands.common import add_json_flag, dataset_path, print_json, print_text

ORDER = 81
# Rows of a change's difference shown under it (all of them with --json).
SHOWN_ITEMS = 12


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "history",
        parents=[common],
        help="list the changes of responsibility: who, when, why, what",
        description="List the changes of responsibility applied to the dataset (import-assignments), newest first.",
    )
    parser.add_argument("--feature", metavar="ID", help="only changes touching this feature")
    parser.add_argument("--unit", metavar="ID", help="only changes touching this unit")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cases.history import list_changes, sync_versions

    path = dataset_path(args)
    store = open_case_store(args)
    try:
        sync_versions(store, path)
        changes = list_changes(store, path, feature_id=args.feature, unit_id=args.unit)
    finally:
        store.dispose()
    if args.json:
        print_json({"dataset": str(path), "count": len(changes), "changes": changes})
        return 0
    if not changes:
        print_text("no change of responsibility recorded" + _filter_text(args))
        return 0
    for change in changes:
        print_text(_line(change))
        for item in _items(change["diff"], args.feature, args.unit)[:SHOWN_ITEMS]:
            print_text(f"      {item}")
    return 0


def _filter_text(args: argparse.Namespace) -> str:
    parts = [f"feature {args.feature}" if args.feature else "", f"unit {args.unit}" if args.unit else ""]
    shown = " and ".join(p for p in parts if p)
    return f" for {shown}" if shown else ""


def _line(change: dict[str, Any]) -> str:
    diff = change["diff"]
    counts = (
        f"{len(diff.get('changed', []))} changed, {len(diff.get('opened', []))} opened, "
        f"{len(diff.get('closed', []))} closed, {len(diff.get('units_added', []))} unit(s) added, "
        f"{len(diff.get('units_changed', []))} unit(s) edited"
    )
    places = ", ".join(change["features"][:8]) + (" ..." if len(change["features"]) > 8 else "")
    return (
        f"#{change['id']} {change['at'][:19].replace('T', ' ')} UTC  effective {change['effective']}  "
        f"by {change['by']}: {change['reason']}\n    {counts}; places: {places or '—'}"
    )


def _row_text(row: dict[str, Any]) -> str:
    stretch = "" if row.get("from_m") is None else f" {row['from_m']:g}-{row['to_m']:g} m"
    until = f" until {row['valid_until']}" if row.get("valid_until") else ""
    return f"{row['feature_id']}{stretch}: {row['unit_id']} {row['role']}{until}"


def _items(diff: dict[str, Any], feature_id: str | None, unit_id: str | None) -> list[str]:
    """The difference as short lines, only those about the feature / unit asked for."""

    def wanted(*rows: dict[str, Any]) -> bool:
        return all(
            [
                feature_id is None or any(r["feature_id"] == feature_id for r in rows),
                unit_id is None or any(r["unit_id"] == unit_id for r in rows),
            ]
        )

    lines = [
        f"~ {_row_text(c['before'])}  ->  {_row_text(c['after'])}"
        for c in diff.get("changed", [])
        if wanted(c["before"], c["after"])
    ]
    lines += [f"+ {_row_text(r)}" for r in diff.get("opened", []) if wanted(r)]
    lines += [f"- {_row_text(r)}" for r in diff.get("closed", []) if wanted(r)]
    if feature_id is None:
        for key, sign in (("units_added", "+"), ("units_changed", "~")):
            for unit in diff.get(key, []):
                if unit_id is None or unit["unit_id"] == unit_id:
                    fields = ", ".join(
                        f"{k} {v['before'] or '-'} -> {v['after'] or '-'}" for k, v in unit["fields"].items()
                    )
                    lines.append(f"{sign} unit {unit['unit_id']}: {fields}")
    return lines
