"""Request body limits, enforced before the body reaches a handler (so an oversized batch is never parsed).

The body is read chunk by chunk and refused (413) as soon as it passes the limit: nothing beyond the limit is
read or kept. Every door gets 64 KB unless its path prefix has a limit of its own; a `trusted` limit (the CSV
import door) applies only to a request carrying the API token, so a stranger cannot make the server read
megabytes before the door refuses it.

A door whose limit is larger than the small default (the event webhook's megabytes) reads at most
`LARGE_BODIES_AT_ONCE` bodies at once, per door: a body is held from its first byte until its handler is done, and
a stranger can send a signed-looking batch without the key, so without a bound, many slow uploads at once would
each hold megabytes before any signature could be checked. A request past the bound waits for a slot without
reading (the sender's connection holds its bytes) for up to `LARGE_BODY_WAIT_SECONDS`, then gets 503 with
Retry-After, nothing read (SendGrid retries a refused batch for 24 hours).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SMALL_BODY_BYTES = 64 * 1024  # tracking, identity and contact requests
LARGE_BODIES_AT_ONCE = 8  # per door with a larger limit: 8 x the webhook's 8 MB is the most it ever holds
LARGE_BODY_WAIT_SECONDS = 10.0  # how long a request past the bound waits for a slot before the 503
BUSY_RETRY_SECONDS = 5


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
        self._large: dict[str, asyncio.Semaphore] = {}  # per door (its path prefix) with a larger limit

    def limit_for(self, path: str, authorization: bytes = b"") -> int:
        return self._door(path, authorization)[1]

    def _door(self, path: str, authorization: bytes) -> tuple[str, int]:
        """The prefix whose limit applies (empty for the default) and the limit."""
        trusted = _longest_prefix(self.trusted(), path)
        if trusted is not None and self.is_trusted(authorization):
            return "trusted " + trusted[0], trusted[1]
        found = _longest_prefix(self.limits(), path)
        return ("", self.default) if found is None else found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        door, limit = self._door(scope["path"], headers.get(b"authorization", b""))
        if limit <= self.default:
            await self._read(scope, receive, send, headers, limit)
            return
        gate = self._large.get(door)
        if gate is None:
            gate = self._large[door] = asyncio.Semaphore(LARGE_BODIES_AT_ONCE)
        try:
            async with asyncio.timeout(LARGE_BODY_WAIT_SECONDS):
                await gate.acquire()
        except TimeoutError:
            await _busy(send)
            return
        try:
            await self._read(scope, receive, send, headers, limit)
        finally:
            gate.release()

    async def _read(self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes], limit: int) -> None:
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


def _longest_prefix(limits: dict[str, int], path: str) -> tuple[str, int] | None:
    ordered = sorted(limits.items(), key=lambda kv: -len(kv[0]))
    return next(((prefix, n) for prefix, n in ordered if path.startswith(prefix)), None)


async def _busy(send: Send) -> None:
    body = json.dumps({"error": "too many large bodies at once: retry shortly"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(BUSY_RETRY_SECONDS).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


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
