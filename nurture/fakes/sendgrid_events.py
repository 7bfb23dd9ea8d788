"""SendGrid-shaped Event Webhook events and SendGrid's webhook signature, for the fake SendGrid server.

Shapes follow SendGrid's Event Webhook reference: every event carries `email`, `timestamp`, `event`,
`sg_event_id`, `sg_message_id` (the Mail Send `X-Message-Id` followed by `.filter...`) and each `custom_args`
key as a top-level field. The signature is what SendGrid's Signed Event Webhook sends: ECDSA P-256 with
SHA-256 over the timestamp header value followed by the raw body, base64 DER.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nurture.clock import utcnow

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

EVENT_KINDS = frozenset(
    {
        "processed",
        "delivered",
        "deferred",
        "dropped",
        "bounce",
        "open",
        "click",
        "spamreport",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
    }
)


@dataclass(frozen=True)
class AcceptedMessage:
    """One message the fake answered 202 for."""

    message_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: datetime

    @property
    def recipients(self) -> list[str]:
        return [to["email"] for p in self.body.get("personalizations", []) for to in p.get("to", [])]

    @property
    def subject(self) -> str:
        personal = self.body.get("personalizations", [{}])[0].get("subject")
        return str(personal or self.body.get("subject", ""))

    @property
    def custom_args(self) -> dict[str, str]:
        """Message-level custom_args overlaid with the first personalization's (SendGrid's precedence)."""
        merged = dict(self.body.get("custom_args", {}))
        merged.update(self.body.get("personalizations", [{}])[0].get("custom_args", {}))
        return merged

    @property
    def mail_headers(self) -> dict[str, str]:
        """The `headers` the sender asked SendGrid to put on the email (List-Unsubscribe, ...)."""
        merged = dict(self.body.get("headers", {}))
        merged.update(self.body.get("personalizations", [{}])[0].get("headers", {}))
        return merged

    def content(self, mime_type: str) -> str | None:
        for part in self.body.get("content", []):
            if part.get("type") == mime_type:
                return str(part.get("value"))
        return None


@dataclass
class WebhookSigner:
    """A P-256 key pair; `public_key_b64` is what SendGrid shows on its Signed Event Webhook page."""

    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_key_b64(self) -> str:
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def private_key_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @classmethod
    def from_pem(cls, pem: bytes) -> WebhookSigner:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("not an EC private key")
        return cls(key)

    def sign(self, timestamp: str, body: bytes) -> str:
        signature = self.private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()

    def headers(self, body: bytes, timestamp: str | None = None) -> dict[str, str]:
        """Content-Type plus the two signature headers for `body` (timestamp defaults to the wall clock)."""
        ts = timestamp if timestamp is not None else str(int(utcnow().timestamp()))
        return {"Content-Type": "application/json", TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: self.sign(ts, body)}


def new_event_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def build_event(
    message: AcceptedMessage,
    kind: str,
    *,
    email: str | None = None,
    at: datetime | None = None,
    url: str | None = None,
    machine_open: bool = False,
    asm_group_id: int | None = None,
    reason: str | None = None,
    sg_event_id: str | None = None,
) -> dict[str, Any]:
    """One event for `message` as SendGrid would post it. `email` defaults to the first recipient."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown SendGrid event {kind!r}; one of {sorted(EVENT_KINDS)}")
    when = at or utcnow()
    event: dict[str, Any] = {
        "email": email or message.recipients[0],
        "timestamp": int(when.timestamp()),
        "event": kind,
        "sg_event_id": sg_event_id or new_event_id(),
        "sg_message_id": f"{message.message_id}.filterdrecv-fake-{secrets.token_hex(4)}-1-0",
        "smtp-id": f"<{message.message_id}@ismtpd0001p1fake.sendgrid.net>",
    }
    for category in message.body.get("categories", []) or []:
        event.setdefault("category", []).append(category)
    if kind == "delivered":
        event.update(response="250 2.0.0 OK", tls=1)
    elif kind == "deferred":
        event.update(response=reason or "421 4.7.0 try again later", attempt="1")
    elif kind == "bounce":
        event.update(reason=reason or "550 5.1.1 The email account does not exist", status="5.1.1", type="bounce")
    elif kind == "dropped":
        event.update(reason=reason or "Bounced Address")
    elif kind == "open":
        event.update(useragent="Mozilla/5.0", ip="203.0.113.7", sg_machine_open=machine_open)
    elif kind == "click":
        if url is None:
            raise ValueError("a click event needs the clicked url")
        event.update(useragent="Mozilla/5.0", ip="203.0.113.7", url=url, url_offset={"index": 0, "type": "html"})
    elif kind in ("group_unsubscribe", "group_resubscribe"):
        if asm_group_id is None:
            raise ValueError(f"a {kind} event needs asm_group_id")
        event.update(asm_group_id=asm_group_id, useragent="Mozilla/5.0", ip="203.0.113.7")
        if url is not None:
            event["url"] = url
    # custom_args come back as top-level fields; they never override SendGrid's own keys.
    for key, value in message.custom_args.items():
        event.setdefault(key, value)
    return event
