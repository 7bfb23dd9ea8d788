"""Signed tokens for URLs nurture renders into emails (open pixel, click redirect, unsubscribe, confirm).

A token is `base64url(json).base64url(hmac_sha256(secret, purpose + "." + payload))`. The purpose is bound
into the MAC, so a click token cannot be replayed as an unsubscribe token; a click token carries the exact
URL it may redirect to (no open redirect).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

PURPOSES = frozenset({"open", "click", "unsubscribe", "confirm", "contact", "preferences"})  # contact: a browser


class BadTokenError(ValueError):
    """The token is malformed, forged, for another purpose, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: str, purpose: str, fields: dict[str, str], expires_at: datetime | None = None) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    body = dict(fields)
    if expires_at is not None:
        body["exp"] = str(int(expires_at.timestamp()))
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret.encode(), f"{purpose}.{payload}".encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify(secret: str, purpose: str, token: str, now: datetime | None = None) -> dict[str, str]:
    """The signed fields, or BadTokenError."""
    try:
        payload, mac = token.split(".")
        expected = hmac.new(secret.encode(), f"{purpose}.{payload}".encode(), hashlib.sha256).digest()
        # the MAC as text, exactly as signed: a padded or re-encoded variant is another token, refused
        if not hmac.compare_digest(_b64(expected).encode(), mac.encode()):
            raise BadTokenError("bad signature")
        fields = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError) as err:
        if isinstance(err, BadTokenError):
            raise
        raise BadTokenError("malformed token") from err
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise BadTokenError("malformed token")
    exp = fields.pop("exp", None)
    if exp is not None and now is not None and int(exp) < now.timestamp():
        raise BadTokenError("expired token")
    return fields
