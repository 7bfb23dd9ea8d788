"""Bearer-token protection for the admin endpoints (broadcasts).

The token comes from configuration (`NURTURE_API_TOKEN`). With no token configured the admin door is
closed (503), never open; a missing or wrong token is refused (401). Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status

from nurture.logging import get_logger

log = get_logger(__name__)

CALLER = "api-token"  # the name audits record for callers holding the configured token


def require_token(request: Request) -> str:
    """FastAPI dependency: the caller's name for audit records, or an HTTP refusal."""
    expected = request.app.state.ctx.settings.api_token
    if expected is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "admin API is closed: no NURTURE_API_TOKEN is configured"
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    if not hmac.compare_digest(given.strip().encode(), expected.get_secret_value().encode()):
        log.warning("api.bad_token", path=request.url.path, client=request.client.host if request.client else None)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid bearer token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return CALLER
