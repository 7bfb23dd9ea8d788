"""Request body limits, enforced before the body reaches a handler (so an oversized batch is never parsed).

The body is read chunk by chunk and refused (413) as soon as it passes the limit: nothing beyond the limit is
read or kept. Every door gets 64 KB unless its path prefix has a limit of its own; a `trusted` limit (the CSV
import door) applies only to a request carrying the API token, so a stranger cannot make the server read
megabytes before the door refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SMALL_BODY_BYTES = 64 * 1024  # tracking, identity and contact requests


class BodyLimit:
    """413 for bodies over the limit (per path prefix); the accepted body is buffered and replayed."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Callable[[], dict[str, int]],
        trusted: Callable[[], dict[str, int]] = dict,
        is_trusted: Callable[[bytes], bool] = lambda _authorization: False,
        default: int = SMALL_BODY_BYTES,
    ) -> None:
        self.app = app
        self.limits = limits  # read per request: the settings arrive with the context, at startup
        self.trusted = trusted  # limits for callers holding the API token only
        self.is_trusted = is_trusted  # the request's Authorization header -> holds the API token?
        self.default = default

    def limit_for(self, path: str, authorization: bytes = b"") -> int:
        trusted = _longest_prefix(self.trusted(), path)
        if trusted is not None and self.is_trusted(authorization):
            return trusted
        found = _longest_prefix(self.limits(), path)
        return self.default if found is None else found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.limit_for(scope["path"], headers.get(b"authorization", b""))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _longest_prefix(limits: dict[str, int], path: str) -> int | None:
    ordered = sorted(limits.items(), key=lambda kv: -len(kv[0]))
    return next((n for prefix, n in ordered if path.startswith(prefix)), None)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": f"body larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
