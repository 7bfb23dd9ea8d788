"""Request body limits, enforced before the body reaches a handler (so an oversized batch is never parsed)."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SMALL_BODY_BYTES = 64 * 1024  # tracking, identity and contact requests


class BodyLimit:
    """413 for bodies over the limit (per path prefix); the accepted body is buffered and replayed."""

    def __init__(self, app: ASGIApp, *, limits: Callable[[], dict[str, int]], default: int = SMALL_BODY_BYTES) -> None:
        self.app = app
        self.limits = limits  # read per request: the settings arrive with the context, at startup
        self.default = default

    def limit_for(self, path: str) -> int:
        ordered = sorted(self.limits().items(), key=lambda kv: -len(kv[0]))
        return next((n for prefix, n in ordered if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
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
