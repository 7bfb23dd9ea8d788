"""The fake SendGrid's HTTP side: the server, the request handler, and the control API other processes use.

`POST /v3/mail/send` goes to `FakeSendGrid.handle_mail_send`; `GET /_fake/info`, `GET /_fake/messages`,
`POST /_fake/failures` and `POST /_fake/events` go to `control`.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx

from nurture.fakes.sendgrid_events import AcceptedMessage, build_event
from nurture.logging import get_logger

if TYPE_CHECKING:
    from nurture.fakes.sendgrid import FakeSendGrid

log = get_logger(__name__)


def control(fake: FakeSendGrid, method: str, path: str, raw: bytes) -> tuple[int, Any]:
    """One control API request: (status, JSON payload)."""
    if method == "GET" and path == "/_fake/info":
        return 200, fake.info()
    if method == "GET" and path == "/_fake/messages":
        return 200, [_describe(m) for m in fake.messages]
    try:
        data = json.loads(raw or b"{}")
        if method == "POST" and path == "/_fake/failures":
            if data.get("delay"):
                fake.delay_next(float(data["delay"]), int(data.get("count", 1)))
            else:
                retry_after = float(data.get("retry_after", 1.0))
                fake.fail_next(int(data["status"]), int(data.get("count", 1)), retry_after=retry_after)
            return 200, {"ok": True}
        if method == "POST" and path == "/_fake/events":
            msg = fake.message(data["message_id"])
            events = [build_event(msg, spec.pop("event"), **spec) for spec in map(dict, data["events"])]
            response = fake.post_events(events)
            return 200, {"webhook_status": response.status_code, "events": events}
    except (KeyError, TypeError, ValueError, httpx.HTTPError) as err:
        return 400, {"error": f"{type(err).__name__}: {err}"}
    return 404, {"error": "not found"}


def _describe(msg: AcceptedMessage) -> dict[str, Any]:
    return {
        "message_id": msg.message_id,
        "to": msg.recipients,
        "subject": msg.subject,
        "custom_args": msg.custom_args,
        "headers": msg.mail_headers,
        "received_at": msg.received_at.isoformat(),
    }


class BurstServer(ThreadingHTTPServer):
    """A listen queue deep enough for hundreds of sends at once (the socketserver default of 5 resets them)."""

    request_queue_size = 1024


class Handler(BaseHTTPRequestHandler):
    server_version = "FakeSendGrid/1.0"

    @property
    def fake(self) -> FakeSendGrid:
        return self.server.fake  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake_sendgrid.request", line=format % args)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._control("GET")

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/v3/mail/send":
            self._control("POST")
            return
        raw = self._body()
        status, headers, body, delay = self.fake.handle_mail_send(
            self.headers.get("Authorization"), raw, {k: v for k, v in self.headers.items()}
        )
        if delay and self.fake._stopping.wait(delay):
            return
        self._answer(status, headers, body)

    def _control(self, method: str) -> None:
        raw = self._body() if method == "POST" else b""
        status, payload = self.fake.handle_control(method, self.path.split("?", 1)[0], raw)
        self._answer(status, {"Content-Type": "application/json"}, json.dumps(payload).encode())

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            log.info("fake_sendgrid.client_gone", status=status)  # the client timed out and hung up
