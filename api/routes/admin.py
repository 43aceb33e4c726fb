"""Administration: reload the dataset from its folder without a restart.

``POST /admin/reload`` with ``Authorization: Bearer <RESPMAP_ADMIN_TOKEN>``.
No token configured: 403 for everyone. Wrong or missing token: 401. The token
is compared in constant time (``hmac.compare_digest``) so its value cannot be
guessed from response timings.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from api.errors import AdminDisabledError, AuthenticationRequiredError, error_responses
from api.responses import JSONAnswer

ORDER = 90
router = APIRouter(tags=["admin"])
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="adminToken",
    description="The server's admin token (RESPMAP_ADMIN_TOKEN), sent as `Authorization: Bearer <token>`.",
)


async def require_admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """Let the request through only with the configured admin token."""
    token = request.app.state.settings.admin_token
    if token is None or not token.get_secret_value():
        raise AdminDisabledError("admin routes are disabled: the server has no admin token (set RESPMAP_ADMIN_TOKEN)")
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode("utf-8"), token.get_secret_value().encode("utf-8")):
        raise AuthenticationRequiredError("a valid admin token is required: Authorization: Bearer <token>")


class Reloaded(BaseModel):
    reloaded: bool = Field(description="always true: the new dataset is serving")
    changed: bool = Field(description="whether the content hash changed")
    previous_hash: str = Field(description="content hash of the dataset served before")
    content_hash: str = Field(description="content hash of the dataset now served")
    generation: int = Field(description="reloads this worker has applied")
    loaded_at: str = Field(description="when the new snapshot was loaded (ISO 8601, UTC)")
    feature_counts: dict[str, int] = Field(description="features per layer")
    warnings: int = Field(description="warnings found while loading (errors refuse the reload)")


@router.post(
    "/admin/reload",
    summary="Reload the dataset from its folder",
    description=(
        "Loads and validates the dataset folder again. With errors the answer is 422 with the findings and the "
        "old dataset keeps serving; otherwise the new one replaces it atomically (requests in flight finish on "
        "the old snapshot). Other workers of the same `respmap serve` follow within about a second."
    ),
    response_model=Reloaded,
    responses=error_responses(401, 403, 422),
    dependencies=[Depends(require_admin)],
)
async def reload_dataset(request: Request) -> JSONAnswer:
    outcome: Any = await request.app.state.datasets.reload()
    return JSONAnswer(outcome.to_dict())
