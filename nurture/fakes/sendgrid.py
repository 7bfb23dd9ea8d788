"""A fake SendGrid speaking real HTTP on a loopback port: Mail Send in, signed Event Webhook posts out.

Point the official client at it (`SendGridAPIClient(api_key=fake.api_key, host=fake.url)`) and it behaves like
the parts of SendGrid nurture relies on:

- `POST /v3/mail/send` checks the bearer key and the JSON shape, answers 202 with an empty body and an
  `X-Message-Id` header, and records the message (`fake.messages`).
- Programmable trouble: `fail_next(429)` (with `X-RateLimit-Reset`), `fail_next(400)`, `fail_next(500)`...;
  `delay_next(seconds)` accepts the message and answers late, as a real provider does when the client times
  out: the mail went out even though the client never heard so.
- `events(message, "delivered", "open", ...)` builds SendGrid-shaped events; `post_events(...)` posts them as
  a JSON array to `webhook_url`, signed like SendGrid's Signed Event Webhook (`fake.public_key_b64` verifies).
  With `auto_events`, every accepted message's events are posted in the background (for `nurture dev`).
- A small control API for other processes: `GET /_fake/info`, `GET /_fake/messages`,
  `POST /_fake/failures`, `POST /_fake/events` (see `_Handler`).

Use it as a context manager (`with FakeSendGrid(webhook_url=...) as fake: ...`) or run it:
`python -m nurture.fakes.sendgrid --port 3030 --webhook-url http://127.0.0.1:8000/webhooks/sendgrid`.
"""

from __future__ import annotations

import json
import math
import queue
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import httpx

from nurture.clock import utcnow
from nurture.fakes.sendgrid_events import AcceptedMessage, WebhookSigner, build_event, new_event_id
from nurture.fakes.sendgrid_http import BurstServer, Handler, control
from nurture.fakes.sendgrid_mail import MAX_BODY_BYTES, validate_mail
from nurture.logging import get_logger

log = get_logger(__name__)

DEFAULT_API_KEY = "SG.fake-sendgrid-api-key"


@dataclass(frozen=True)
class Trouble:
    """What the next Mail Send request meets: an error status, or a late answer (then still accepted)."""

    status: int | None = None  # None: accept (after `delay`)
    delay: float = 0.0
    retry_after: float = 1.0  # seconds until X-RateLimit-Reset, for 429


@dataclass(frozen=True)
class SeenRequest:
    """Every Mail Send request, whatever it was answered."""

    status: int
    message_id: str | None


@dataclass(frozen=True)
class WebhookDelivery:
    url: str
    status: int | None  # None: the webhook could not be reached
    events: int


class FakeSendGrid:
    """The fake server. Thread-safe; `start()`/`stop()` or use as a context manager."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        signer: WebhookSigner | None = None,
        auto_events: Iterable[str] = (),
    ) -> None:
        self.api_key = api_key
        self.webhook_url = webhook_url
        self.signer = signer or WebhookSigner()
        self.auto_events = tuple(auto_events)
        self._address = (host, port)
        self._lock = threading.Lock()
        self._trouble: deque[Trouble] = deque()
        self._messages: list[AcceptedMessage] = []
        self._requests: list[SeenRequest] = []
        self._deliveries: list[WebhookDelivery] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._outbox: queue.Queue[AcceptedMessage | None] = queue.Queue()

    # ---- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> Self:
        server = BurstServer(self._address, Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._stopping.clear()
        self._outbox = queue.Queue()
        self._threads = [
            threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-sendgrid", daemon=True),
            threading.Thread(target=self._post_auto_events, name="fake-sendgrid-webhook", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info("fake_sendgrid.started", url=self.url, webhook_url=self.webhook_url)
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay
        self._outbox.put(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The host to give the SendGrid client (`host=`)."""
        if self._server is None:
            raise RuntimeError("fake SendGrid is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def public_key_b64(self) -> str:
        """The Signed Event Webhook verification key (NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY)."""
        return self.signer.public_key_b64

    def info(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "api_key": self.api_key,
            "public_key": self.public_key_b64,
            "webhook_url": self.webhook_url,
        }

    def env(self) -> dict[str, str]:
        """Settings that point nurture at this fake (for `nurture dev` and subprocess tests)."""
        return {
            "NURTURE_SENDGRID_HOST": self.url,
            "NURTURE_SENDGRID_API_KEY": self.api_key,
            "NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY": self.public_key_b64,
        }

    # ---- programming trouble ---------------------------------------------------------------------------

    def fail_next(self, status: int, count: int = 1, *, retry_after: float = 1.0) -> None:
        """The next `count` Mail Send requests get `status` (429 carries X-RateLimit-Reset)."""
        with self._lock:
            self._trouble.extend([Trouble(status=status, retry_after=retry_after)] * count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next `count` messages are accepted at once but answered after `seconds`."""
        with self._lock:
            self._trouble.extend([Trouble(delay=seconds)] * count)

    def reset(self) -> None:
        with self._lock:
            self._trouble.clear()
            self._messages.clear()
            self._requests.clear()
            self._deliveries.clear()

    # ---- what happened ---------------------------------------------------------------------------------

    @property
    def messages(self) -> list[AcceptedMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._deliveries)

    def message(self, message_id: str) -> AcceptedMessage:
        for msg in self.messages:
            if msg.message_id == message_id:
                return msg
        raise KeyError(message_id)

    # ---- events ----------------------------------------------------------------------------------------

    def events(self, message: AcceptedMessage | str, *kinds: str, **fields: Any) -> list[dict[str, Any]]:
        """SendGrid-shaped events for an accepted message (see `build_event` for `fields`)."""
        msg = self.message(message) if isinstance(message, str) else message
        return [build_event(msg, kind, **fields) for kind in kinds]

    def post_events(
        self, events: list[dict[str, Any]], *, url: str | None = None, timestamp: str | None = None
    ) -> httpx.Response:
        """POST `events` as one signed JSON array to the webhook; returns the webhook's response."""
        target = url or self.webhook_url
        if target is None:
            raise RuntimeError("no webhook_url configured")
        body = json.dumps(events).encode()
        try:
            response = httpx.post(target, content=body, headers=self.signer.headers(body, timestamp), timeout=10)
        except httpx.HTTPError:
            self._record_delivery(WebhookDelivery(target, None, len(events)))
            raise
        self._record_delivery(WebhookDelivery(target, response.status_code, len(events)))
        return response

    def _record_delivery(self, delivery: WebhookDelivery) -> None:
        with self._lock:
            self._deliveries.append(delivery)

    def _post_auto_events(self) -> None:
        """Background poster: SendGrid retries non-2xx deliveries; this fake tries a few times, briefly."""
        while (msg := self._outbox.get()) is not None:
            events = [build_event(msg, kind) for kind in self.auto_events]
            for attempt in range(5):
                try:
                    if self.post_events(events).is_success:
                        break
                except httpx.HTTPError as err:
                    log.warning("fake_sendgrid.webhook_unreachable", error=str(err), attempt=attempt + 1)
                if self._stopping.wait(0.5 * 2**attempt):
                    return

    # ---- Mail Send -------------------------------------------------------------------------------------

    def _next_trouble(self) -> Trouble | None:
        with self._lock:
            return self._trouble.popleft() if self._trouble else None

    def handle_mail_send(
        self, auth: str | None, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes, float]:
        """(status, response headers, body, delay before answering) for one Mail Send request."""
        if auth != f"Bearer {self.api_key}":
            return self._refuse(401, "The provided authorization grant is invalid, expired, or revoked")
        if len(raw) > MAX_BODY_BYTES:
            return self._refuse(413, "The JSON payload you have included in your request is too large.")
        trouble = self._next_trouble()
        if trouble is not None and trouble.status is not None:
            extra: dict[str, str] = {}
            if trouble.status == 429:
                reset = math.ceil(utcnow().timestamp() + trouble.retry_after)
                extra = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
            return self._refuse(trouble.status, f"programmed failure ({trouble.status})", extra)
        try:
            body = json.loads(raw)
        except ValueError:
            return self._refuse(400, "Bad Request")
        if errors := validate_mail(body):
            with self._lock:
                self._requests.append(SeenRequest(400, None))
            return 400, {"Content-Type": "application/json"}, json.dumps({"errors": errors}).encode(), 0.0
        msg = AcceptedMessage(new_event_id(), body, headers, utcnow())
        with self._lock:
            self._messages.append(msg)
            self._requests.append(SeenRequest(202, msg.message_id))
        log.info("fake_sendgrid.accepted", message_id=msg.message_id, late=trouble is not None)
        if self.auto_events and self.webhook_url:
            self._outbox.put(msg)
        return 202, {"X-Message-Id": msg.message_id}, b"", trouble.delay if trouble else 0.0

    def _refuse(
        self, status: int, message: str, extra: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes, float]:
        with self._lock:
            self._requests.append(SeenRequest(status, None))
        body = json.dumps({"errors": [{"message": message, "field": None, "help": None}]}).encode()
        return status, {"Content-Type": "application/json", **(extra or {})}, body, 0.0

    def handle_control(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        """The control API (`GET /_fake/info`, `/_fake/messages`, `POST /_fake/failures`, `/_fake/events`)."""
        return control(self, method, path, raw)


if __name__ == "__main__":
    from nurture.fakes.sendgrid_cli import main

    main()
