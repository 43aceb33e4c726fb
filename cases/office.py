"""The office at the command line: who acts when ``respmap cases ...`` runs on the local store.

The command line works on the store directly, as the campaign office (DESIGN §8), so its actor
is an admin. It is named after ``--by`` or the operating-system user. When a user of that name
exists in the store, is an admin and is not disabled, the actor carries that user's id, so
every event the command records names the person; a name with no user record still acts as the
office (role ``admin``, no user id), because whoever can open the store's files is the office.
A name that belongs to an inspector, a unit or a planner, or to a disabled user, is refused:
the command line must not let a unit's clerk act as the office under their own name.
"""

from __future__ import annotations

import getpass
import os

from sqlalchemy import select

from cases.models import User
from cases.store import Store
from cases.users import Actor, UserError

MAX_NAME_CHARS = 200


def default_office_name() -> str:
    """The operating-system user, as a name for the office (``office`` when none can be found)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no LOGNAME/USER
        name = os.environ.get("USER", "")
    return name.strip() or "office"


def office_actor(store: Store, name: str | None = None) -> Actor:
    """The admin :class:`Actor` the command line acts as (see the module docstring)."""
    shown = (name if name is not None else default_office_name()).strip()
    if not shown or len(shown) > MAX_NAME_CHARS or any(ord(ch) < 32 for ch in shown):
        raise UserError("--by must be a name of 1 to 200 printable characters")
    with store.reading() as session:
        user = session.execute(select(User).where(User.name == shown)).scalar()
    if user is None:
        return Actor(None, shown, "admin")
    if user.disabled_at is not None:
        raise UserError(f"user {shown!r} is disabled; act with another --by name")
    if user.role != "admin":
        raise UserError(f"user {shown!r} is a {user.role}; the command line acts as the office (an admin)")
    return Actor(user.id, user.name, "admin")
