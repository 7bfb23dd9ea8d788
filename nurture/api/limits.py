"""Request body limits, enforced before the body reaches a handler (so an oversized batch is never parsed).

The body is read chunk by chunk and refused (413) as soon as it passes the limit: nothing beyond the limit is
read or kept. Every door gets 64 KB unless its path prefix has a limit of its own; a `trusted` limit (the CSV
import door) applies only to a request carrying the API token, so a stranger cannot make the server read
megabytes before the door refuses it.

A door whose limit is larger than the small default (the event webhook's megabytes) holds at most
`LARGE_BODY_BUDGET_BYTES` of bodies at once, across its requests, and each body must arrive within
`LARGE_BODY_READ_SECONDS`. A body is held from its first byte until its handler is done, and a stranger needs no key
to send one, so without a bound many uploads at once could each hold megabytes before any signature is checked.
The bound counts bytes, not requests: slow uploads that trickle a few bytes cannot shut the door on a real batch;
to fill it a sender must really send the budget, and the deadline ends each try. A request whose bytes would
pass the budget gets 503 with Retry-After (SendGrid retries a refused batch for 24 hours); one past the
deadline, 408.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SMALL_BODY_BYTES = 64 * 1024  # tracking, identity and contact requests
LARGE_BODY_BUDGET_BYTES = 64 * 1024 * 1024  # per door with a larger limit: eight full 8 MB webhook batches at once
LARGE_BODY_READ_SECONDS = 30.0  # a large body arrives within this, or 408 (SendGrid posts a batch in one go)
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
        self._held: dict[str, int] = {}  # bytes of bodies held now, per door (its path prefix) with a larger limit

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
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)  # the first of a repeated header, as the token check reads it
        door, limit = self._door(scope["path"], headers.get(b"authorization", b""))
        if limit <= self.default:
            small = await self._read_body(receive, headers, limit, None, [0])
            await self._answer(scope, receive, send, small)
            return
        held = [0]  # this request's share of the door's budget, given back however the request ends
        try:
            try:
                async with asyncio.timeout(LARGE_BODY_READ_SECONDS) as reading:
                    read = await self._read_body(receive, headers, limit, door, held)
            except TimeoutError:
                if not reading.expired():
                    raise
                read = Refusal(408, f"body not received within {LARGE_BODY_READ_SECONDS:g} s")
            if not isinstance(read, bytes):
                self._release(door, held)  # a refused body is not held while the refusal is sent
            await self._answer(scope, receive, send, read)
        finally:
            self._release(door, held)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, read: bytes | Refusal | None) -> None:
        """Pass the body on, or send the refusal (outside the read's deadline: nothing else has answered yet)."""
        if isinstance(read, bytes):
            await self.app(scope, _replay(read, receive), send)
        elif read is not None:
            await _refuse(send, read.status, read.why, retry=read.status == 503)

    def _release(self, door: str | None, held: list[int]) -> None:
        if door is not None:
            self._held[door] = self._held.get(door, 0) - held[0]
        held[0] = 0

    async def _read_body(
        self, receive: Receive, headers: dict[bytes, bytes], limit: int, door: str | None, held: list[int]
    ) -> bytes | Refusal | None:
        """The whole body; a Refusal past `limit` or, for a `door` with a budget, past the door's budget; None when
        the client went away. What it holds is counted in `held` and the door's total as it arrives."""
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return _too_large(limit)
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # a disconnect (or anything else): there is no body to pass on
                return None
            chunk = message.get("body", b"")
            if held[0] + len(chunk) > limit:
                return _too_large(limit)
            if door is not None:
                if self._held.get(door, 0) + len(chunk) > LARGE_BODY_BUDGET_BYTES:
                    return Refusal(503, "too many large bodies at once: retry shortly")
                self._held[door] = self._held.get(door, 0) + len(chunk)
            held[0] += len(chunk)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


@dataclass(frozen=True)
class Refusal:
    status: int
    why: str


def _too_large(limit: int) -> Refusal:
    return Refusal(413, f"body larger than {limit} bytes")


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body as the app's first receive, then the connection's own (for its disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _longest_prefix(limits: dict[str, int], path: str) -> tuple[str, int] | None:
    ordered = sorted(limits.items(), key=lambda kv: -len(kv[0]))
    return next(((prefix, n) for prefix, n in ordered if path.startswith(prefix)), None)


async def _refuse(send: Send, status: int, why: str, *, retry: bool = False) -> None:
    body = json.dumps({"error": why}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry:
        headers.append((b"retry-after", str(BUSY_RETRY_SECONDS).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
