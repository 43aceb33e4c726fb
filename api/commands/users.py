"""``respmap users``: the people who sign in to the case loop, and their tokens.

    respmap users add 张明 --role inspector           prints the token once
    respmap users add 住建局值班 --role unit --unit U17 a unit's clerk sees that unit's cases only
    respmap users list [--json]                       never shows tokens
    respmap users disable 张明                        the token stops working; the history keeps the name

Roles: admin (the office), inspector, unit (bound to a unit id of the dataset's units table or a
district headquarters), planner. The store keeps only a hash of each token, so a lost token is
replaced by adding the person again under another name and disabling the old one.
"""

from __future__ import annotations

import argparse
from typing import Any

from api.commands.case_common import open_case_store, store_errors
from api.commands.common import add_json_flag, open_dataset, print_json, print_text
from cases.workflow import ROLES

ORDER = 73


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "users",
        parents=[common],
        help="add, list or disable the people of the case loop",
        description="People who sign in with a token: admin (the office), inspector, unit, planner.",
    )
    actions = parser.add_subparsers(dest="users_action", metavar="ACTION", required=True, parser_class=type(parser))
    add = actions.add_parser("add", parents=[common], help="add a person; prints the token once")
    add.add_argument("name", help="the person's or desk's name (unique)")
    add.add_argument("--role", required=True, choices=ROLES, help="what the person may do")
    add.add_argument("--unit", metavar="UNIT_ID", help="for role unit: the unit whose cases the person handles")
    add_json_flag(add)
    add.set_defaults(handler=run_add)
    listing = actions.add_parser("list", parents=[common], help="list people (never their tokens)")
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)
    disable = actions.add_parser("disable", parents=[common], help="disable a person: the token stops working")
    disable.add_argument("name")
    add_json_flag(disable)
    disable.set_defaults(handler=run_disable)


def _known_units(args: argparse.Namespace) -> set[str]:
    """Unit ids a unit user may be bound to: the units table and the district headquarters."""
    ds = open_dataset(args)
    known = set(ds.units["unit_id"].astype(str)) if ds.units is not None and not ds.units.empty else set()
    if ds.frame is not None and not ds.frame.empty:
        known |= {str(u) for u in ds.frame["fallback_unit"] if u}
    return known


def _user_dict(user: Any) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "unit_id": user.unit_id,
        "created_at": user.created_at.isoformat(timespec="seconds"),
        "disabled": user.disabled_at is not None,
        "disabled_at": user.disabled_at.isoformat(timespec="seconds") if user.disabled_at else None,
    }


def run_add(args: argparse.Namespace) -> int:
    from cases.users import add_user

    known = _known_units(args) if args.role == "unit" and args.unit else None
    store = open_case_store(args)
    try:
        with store_errors():
            user, token = add_user(store, args.name, args.role, args.unit, known_units=known)
    finally:
        store.dispose()
    if args.json:
        print_json({**_user_dict(user), "token": token, "token_shown_once": True})
        return 0
    unit = f" for unit {user.unit_id}" if user.unit_id else ""
    print_text(f"added {user.name} ({user.role}{unit})")
    print_text(f"token: {token}")
    print_text("this token will not be shown again: hand it over now (the store keeps only its hash)")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from cases.users import list_users

    store = open_case_store(args)
    try:
        with store_errors():
            users = [_user_dict(u) for u in list_users(store)]
    finally:
        store.dispose()
    if args.json:
        print_json({"count": len(users), "users": users})
        return 0
    if not users:
        print_text("no users yet: respmap users add NAME --role admin|inspector|unit|planner [--unit ID]")
        return 0
    width = max(len(u["name"]) for u in users)
    for user in users:
        unit = f" {user['unit_id']}" if user["unit_id"] else ""
        status = f"  disabled {user['disabled_at'][:10]}" if user["disabled"] else ""
        print_text(f"{user['name']:<{width}}  {user['role']}{unit}  added {user['created_at'][:10]}{status}")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    from cases.users import disable_user

    store = open_case_store(args)
    try:
        with store_errors():
            user = disable_user(store, args.name)
    finally:
        store.dispose()
    if args.json:
        print_json(_user_dict(user))
    else:
        print_text(f"disabled {user.name} ({user.role}); the token no longer works")
    return 0
