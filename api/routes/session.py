"""Signing in from a browser: the token becomes an HttpOnly session cookie, plus a CSRF value.

``POST /login`` (form or JSON ``{"token": ...}``) checks the token, sets ``respmap_session``
(HttpOnly, SameSite=Strict; Secure when served over HTTPS) and ``respmap_csrf`` (readable by
the page, echoed in ``X-CSRF-Token``). Failed attempts are limited per client address.
``POST /logout`` clears both; ``GET /me`` says who is signed in (pages use it).
"""

from __future__ import annotations

import secrets

import anyio.to_thread
from fastapi import APIRouter, Request

from api.auth import CSRF_COOKIE, SESSION_COOKIE, ActorDep
from api.case_store import app_store
from api.dependencies import DatasetDep
from api.errors import AuthenticationRequiredError, InvalidBodyError, RateLimitedError, error_responses
from api.rate_limit import RateLimiter
from api.responses import JSONAnswer
from cases.attribution import unit_name as unit_name_of
from cases.users import MAX_TOKEN_CHARS, authenticate

ORDER = 35
router = APIRouter(tags=["session"])
SESSION_HOURS = 12


def _limiter(request: Request) -> RateLimiter:
    """The app's own limiter of failed sign-ins (one per app, so tests and apps never share counts)."""
    limiter = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = request.app.state.login_limiter = RateLimiter(
            request.app.state.settings.login_attempts_per_minute, 60
        )
    return limiter


@router.post("/login", summary="Sign in a browser with a token", responses=error_responses(401, 422, 429))
async def login(request: Request) -> JSONAnswer:
    token = await _token_from(request)
    client = request.client.host if request.client else "unknown"
    limiter = _limiter(request)
    if wait := limiter.wait_s(client):  # locked out: not even a right token is tried
        raise RateLimitedError("too many failed sign-ins from this address; wait a minute", {"retry_after_s": wait})
    actor = await anyio.to_thread.run_sync(authenticate, app_store(request), token)
    if actor is None:
        limiter.retry_after(client)  # count the failure
        raise AuthenticationRequiredError("the token is not valid (unknown, disabled or mistyped)")
    csrf = secrets.token_urlsafe(24)
    answer = JSONAnswer({"name": actor.name, "role": actor.role, "unit_id": actor.unit_id, "csrf_token": csrf})
    secure = request.url.scheme == "https"
    age = SESSION_HOURS * 3600
    answer.set_cookie(SESSION_COOKIE, token, max_age=age, httponly=True, samesite="strict", secure=secure, path="/")
    answer.set_cookie(CSRF_COOKIE, csrf, max_age=age, httponly=False, samesite="strict", secure=secure, path="/")
    return answer


@router.post("/logout", summary="Sign a browser out")
async def logout() -> JSONAnswer:
    answer = JSONAnswer({"signed_out": True})
    answer.delete_cookie(SESSION_COOKIE, path="/")
    answer.delete_cookie(CSRF_COOKIE, path="/")
    return answer


@router.get("/me", summary="Who is signed in", responses=error_responses(401))
async def me(actor: ActorDep, ds: DatasetDep) -> JSONAnswer:
    unit_name = None if actor.unit_id is None else unit_name_of(ds, actor.unit_id)
    return JSONAnswer({"name": actor.name, "role": actor.role, "unit_id": actor.unit_id, "unit_name": unit_name})


async def _token_from(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form(max_files=0, max_fields=5)
        value = form.get("token")
    else:
        try:
            body = await request.json()
        except ValueError:
            raise InvalidBodyError('send the token as a form field or JSON {"token": ...}') from None
        value = body.get("token") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TOKEN_CHARS:
        raise InvalidBodyError("a token is required")
    return value.strip()
