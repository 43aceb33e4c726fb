"""People and their tokens.

A token is shown once, when the user is added (``respmap users add``); the store keeps only
its SHA-256. Users are disabled, never deleted, so events keep naming who acted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from cases.models import User
from cases.store import Store
from cases.workflow import ROLES

TOKEN_PREFIX = "rm_"
MAX_TOKEN_CHARS = 200


class UserError(ValueError):
    """A user that cannot be added or changed (duplicate name, unknown role or unit)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, or the anonymous public (``user_id`` None, role ``public``)."""

    user_id: int | None
    name: str
    role: str
    unit_id: str | None = None

    @property
    def is_public(self) -> bool:
        return self.role == "public"


PUBLIC = Actor(None, "public", "public")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    store: Store, name: str, role: str, unit_id: str | None = None, *, known_units: set[str] | None = None
) -> tuple[User, str]:
    """Add a user; returns the record and the token (shown once, stored only as a hash)."""
    name = name.strip()
    if not name or len(name) > 200 or any(ord(ch) < 32 for ch in name):
        raise UserError("a user name must be 1 to 200 printable characters")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if role == "unit":
        if not unit_id:
            raise UserError("a unit user needs --unit UNIT_ID (the unit whose cases it handles)")
        if known_units is not None and unit_id not in known_units:
            raise UserError(f"unknown unit {unit_id!r}: it is not in the dataset's units table")
    elif unit_id:
        raise UserError(f"--unit is only for role unit, not {role}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.session() as session:
        if session.execute(select(User.id).where(User.name == name)).first() is not None:
            raise UserError(f"a user named {name!r} already exists")
        user = User(
            name=name,
            role=role,
            unit_id=unit_id if role == "unit" else None,
            token_hash=hash_token(token),
            created_at=dt.datetime.now(dt.UTC),
        )
        session.add(user)
    return user, token


def list_users(store: Store) -> list[User]:
    with store.reading() as session:
        return list(session.execute(select(User).order_by(User.id)).scalars())


def disable_user(store: Store, name: str) -> User:
    with store.session() as session:
        user = session.execute(select(User).where(User.name == name)).scalar()
        if user is None:
            raise UserError(f"no user named {name!r}")
        if user.disabled_at is None:
            user.disabled_at = dt.datetime.now(dt.UTC)
        return user


def authenticate(store: Store, token: str) -> Actor | None:
    """The actor a token belongs to, or None (unknown, disabled, malformed)."""
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return None
    digest = hash_token(token)
    # Core, not the ORM: every request with a token asks this (a third of a ping's cost with the ORM).
    with store.one_read() as connection:
        user = connection.execute(_BY_TOKEN, {"digest": digest}).first()
    # The lookup is by hash (an index); compare again in constant time for good measure.
    if user is None or user.disabled_at is not None or not hmac.compare_digest(user.token_hash, digest):
        return None
    return Actor(user.id, user.name, user.role, user.unit_id)


_BY_TOKEN = select(User.id, User.name, User.role, User.unit_id, User.token_hash, User.disabled_at).where(
    User.token_hash == bindparam("digest")
)
