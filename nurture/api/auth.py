"""The API token: the one place a request's bearer token is checked.

The token comes from configuration (`NURTURE_API_TOKEN`). Unset, empty or made only of whitespace or invisible
characters (`nurture.config.blank`), the token doors are closed (503), never open. The bearer is compared with
`hmac.compare_digest` on the raw bytes: nothing is stripped or normalised on either side, so a bearer of
characters `str.strip()` would remove can never match an empty secret.
"""

from __future__ import annotations

import hmac
from enum import Enum

from fastapi import HTTPException, Request, status
from pydantic import SecretStr

from nurture.config import Settings, blank
from nurture.logging import get_logger

log = get_logger(__name__)

CALLER = "api-token"  # the name audits record for callers holding the configured token


class TokenCheck(Enum):
    CLOSED = "closed"  # no usable token configured
    MISSING = "missing"  # no bearer in the request
    WRONG = "wrong"
    VALID = "valid"


def configured_token(settings: Settings) -> bytes | None:
    """The configured token's bytes, or None when the door is closed."""
    return _usable(settings.api_token)


def _usable(token: SecretStr | None) -> bytes | None:
    if token is None:
        return None
    value = token.get_secret_value()
    return None if blank(value) else value.encode()


def check_header(settings: Settings, header: bytes) -> TokenCheck:
    """An `Authorization` header's bytes, as they came, against the configured token."""
    return _against(configured_token(settings), header)


def _against(expected: bytes | None, header: bytes) -> TokenCheck:
    """The header against one token's bytes (None: that door is closed)."""
    if expected is None:
        return TokenCheck.CLOSED
    scheme, _, given = header.partition(b" ")
    if scheme.lower() != b"bearer" or not given:
        return TokenCheck.MISSING
    if not hmac.compare_digest(given, expected):
        return TokenCheck.WRONG
    return TokenCheck.VALID


def check_token(request: Request) -> TokenCheck:
    header = request.headers.get("authorization", "").encode("latin-1")  # the bytes as they came
    check = check_header(request.app.state.ctx.settings, header)
    if check is TokenCheck.WRONG:
        log.warning("api.bad_token", path=request.url.path, client=request.client.host if request.client else None)
    return check


def has_api_token(request: Request) -> bool:
    """True when the request carries the configured bearer token (server-to-server calls)."""
    return check_token(request) is TokenCheck.VALID


def require_token(request: Request) -> str:
    """FastAPI dependency: the caller's name for audit records, or an HTTP refusal."""
    check = check_token(request)
    if check is TokenCheck.CLOSED:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "admin API is closed: no NURTURE_API_TOKEN is configured"
        )
    if check is TokenCheck.MISSING:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    if check is TokenCheck.WRONG:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid bearer token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return CALLER


def may_scrape(request: Request) -> TokenCheck:
    """`GET /metrics`: the metrics token (`NURTURE_METRICS_TOKEN`, for Prometheus, which then holds no admin
    power) or the API token. Its gauges move with what strangers' requests make the API do (a confirmation mail
    queued for a new address, none for a known one), so they are not for strangers to read."""
    settings = request.app.state.ctx.settings
    header = request.headers.get("authorization", "").encode("latin-1")
    checks = [_against(_usable(token), header) for token in (settings.api_token, settings.metrics_token)]
    for wanted in (TokenCheck.VALID, TokenCheck.WRONG, TokenCheck.MISSING):
        if wanted in checks:
            return wanted
    return TokenCheck.CLOSED
