"""The browser doors (`/track`, `/identify`): CORS for the configured origins, and `navigator.sendBeacon` bodies.

A site on another origin posts page views and identifies visitors from the browser. Only origins listed in
`NURTURE_CORS_ALLOWED_ORIGINS` (a JSON list; `"*"` for any) get the CORS headers; none by default. CORS is not
authentication (anyone can post without a browser): it only lets a listed site's pages read the answers.
`navigator.sendBeacon(url, JSON.stringify(view))` sends `text/plain` (a "simple" request, no preflight): the
body is taken as the JSON it carries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BROWSER_PATHS = ("/track", "/identify")
PREFLIGHT_MAX_AGE = "600"


class BrowserDoors:
    """ASGI middleware for the browser doors; every other path passes through untouched."""

    def __init__(self, app: ASGIApp, *, origins: Callable[[], Sequence[str]]) -> None:
        self.app = app
        self.origins = origins  # read per request: the settings arrive with the context, at startup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in BROWSER_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        allowed = self._allowed(origin)
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await _preflight(send, origin if allowed else None)
            return
        if _is_text_plain(headers.get(b"content-type", b"")):
            scope = {**scope, "headers": _as_json(scope["headers"])}

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed:
                message = {**message, "headers": [*message.get("headers", []), *_cors_headers(origin)]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _allowed(self, origin: str) -> bool:
        if not origin:
            return False
        listed = self.origins()
        return "*" in listed or origin in listed


def _is_text_plain(content_type: bytes) -> bool:
    return content_type.split(b";", 1)[0].strip().lower() == b"text/plain"


def _as_json(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, b"application/json" if k == b"content-type" else v) for k, v in headers]


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]


async def _preflight(send: Send, origin: str | None) -> None:
    if origin is None:
        body = json.dumps({"error": "this origin may not call this door from a browser"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 403, "headers": [*headers, (b"vary", b"Origin")]})
        await send({"type": "http.response.body", "body": body})
        return
    headers = [
        *_cors_headers(origin),
        (b"access-control-allow-methods", b"POST"),
        (b"access-control-allow-headers", b"Content-Type"),
        (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
