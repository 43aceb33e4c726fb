"""Who is calling: a bearer token, or the session cookie a browser got at /login.

* ``Authorization: Bearer <token>`` (scripts, apps, the command line's peers);
* pages: ``POST /login`` with the token sets ``respmap_session`` (HttpOnly, SameSite=Strict)
  and ``respmap_csrf`` (readable by the page's script). A state-changing request that
  authenticates by cookie must echo the CSRF value in ``X-CSRF-Token`` (or a ``csrf_token``
  form field): another site can make the browser send the cookie, not read the value.

No credentials: the anonymous public (only where a route allows it). Bad credentials: 401.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.case_store import app_store
from api.errors import AuthenticationRequiredError, CsrfError, ForbiddenRoleError
from cases.users import PUBLIC, Actor, authenticate

SESSION_COOKIE = "respmap_session"
CSRF_COOKIE = "respmap_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

user_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="userToken",
    description="A user's token from `respmap users add`, sent as `Authorization: Bearer <token>`.",
)


async def optional_actor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(user_bearer)]
) -> Actor:
    """The caller, or the public when no credentials came; 401 for credentials that are wrong."""
    store = app_store(request)
    if credentials is not None:
        actor = await anyio.to_thread.run_sync(authenticate, store, credentials.credentials)
        if actor is None:
            raise AuthenticationRequiredError("the token is not valid (unknown, disabled or mistyped)")
        return actor
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return PUBLIC
    actor = await anyio.to_thread.run_sync(authenticate, store, token)
    if actor is None:
        raise AuthenticationRequiredError("the session has ended; sign in again at /login")
    if request.method not in SAFE_METHODS:
        await _check_csrf(request)
    return actor


async def _check_csrf(request: Request) -> None:
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.headers.get("content-type", "").startswith(
        ("multipart/form-data", "application/x-www-form-urlencoded")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else ""
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfError("this change came without the page's CSRF token; reload the page and try again")


async def required_actor(actor: Annotated[Actor, Depends(optional_actor)]) -> Actor:
    """A signed-in caller; 401 for the public."""
    if actor.is_public:
        raise AuthenticationRequiredError("sign in first: Authorization: Bearer <token>, or /login in a browser")
    return actor


def require_roles(*roles: str) -> Callable[..., Awaitable[Actor]]:
    """A dependency letting through only signed-in callers with one of ``roles`` (401 / 403)."""

    async def dependency(actor: Annotated[Actor, Depends(required_actor)]) -> Actor:
        if actor.role not in roles:
            raise ForbiddenRoleError(f"a {actor.role} may not do this (needs {' or '.join(roles)})")
        return actor

    return dependency


ActorDep = Annotated[Actor, Depends(required_actor)]
MaybeActorDep = Annotated[Actor, Depends(optional_actor)]
