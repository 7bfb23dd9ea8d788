"""The daily digest per owner: their top leads in rank order (with why) and who went cold.

Delivered through the CRM webhook when one is configured (signed like handoffs, `kind: lead_digest`, an
idempotency key per owner and day), otherwise by email through SendGrid when it is configured; with neither,
the digest is only returned (the CLI prints it). The dev outbox keeps contact emails (one per drop), not these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine

from activities.email import OutgoingEmail, SendError, SendGridSender
from activities.handoff import sign_body
from nurture.config import Settings
from nurture.db.tables import OWNER
from nurture.lifecycle.leads import LeadView, gone_cold, top_leads
from nurture.logging import get_logger

log = get_logger(__name__)


class Channel(StrEnum):
    CRM = "crm_webhook"
    EMAIL = "email"
    NONE = "not_sent"


@dataclass(frozen=True)
class Digest:
    owner: str
    name: str
    email: str
    day: str  # YYYY-MM-DD (UTC)
    top: tuple[LeadView, ...]
    cold: tuple[LeadView, ...]

    def text(self) -> str:
        lines = [f"Leads for {self.name or self.owner} on {self.day}", "", "Top leads:"]
        lines += [f"  {i}. contact {v.contact_id} [{v.stage}] {v.why}" for i, v in enumerate(self.top, 1)] or ["  none"]
        lines += ["", "Gone cold (no engagement for 3 weeks):"]
        lines += [f"  contact {v.contact_id} [{v.stage}] last engaged {_day(v.last_engaged_at)}" for v in self.cold]
        if not self.cold:
            lines.append("  none")
        return "\n".join(lines)

    def payload(self) -> dict[str, object]:
        def card(v: LeadView) -> dict[str, object]:
            return {"contact_id": v.contact_id, "stage": v.stage, "grade": v.grade, "score": v.score, "why": v.why}

        return {
            "kind": "lead_digest",
            "owner": self.owner,
            "day": self.day,
            "top": [card(v) for v in self.top],
            "cold": [card(v) | {"last_engaged_at": _day(v.last_engaged_at)} for v in self.cold],
        }


def _day(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d") if at else "never"


def build_digests(engine: Engine, now: datetime, *, owner: str | None = None, limit: int = 10) -> list[Digest]:
    with engine.connect() as conn:
        query = select(OWNER.c.key, OWNER.c.name, OWNER.c.email).order_by(OWNER.c.key)
        if owner is not None:
            query = query.where(OWNER.c.key == owner)
        owners = conn.execute(query).all()
        return [
            Digest(
                o.key,
                o.name,
                o.email,
                now.strftime("%Y-%m-%d"),
                tuple(top_leads(conn, owner=o.key, limit=limit)),
                tuple(gone_cold(conn, o.key, now, limit=limit)),
            )
            for o in owners
        ]


def deliver(digest: Digest, settings: Settings, http: httpx.Client, now: datetime) -> Channel:
    """Send one digest; raises on a CRM or provider refusal so the caller can report it."""
    if settings.crm_webhook_url:
        secret = settings.crm_webhook_secret.get_secret_value() if settings.crm_webhook_secret else ""
        body = json.dumps(digest.payload() | {"sent_at": now.isoformat()}, separators=(",", ":"), sort_keys=True)
        headers = {
            "Content-Type": "application/json",
            "X-Nurture-Signature": sign_body(secret, body.encode()),
            "X-Nurture-Timestamp": str(int(now.timestamp())),
            "Idempotency-Key": f"digest:{digest.owner}:{digest.day}",
        }
        http.post(settings.crm_webhook_url, content=body.encode(), headers=headers).raise_for_status()
        log.info("digest.sent", owner=digest.owner, channel="crm")
        return Channel.CRM
    if settings.sendgrid_api_key is not None and digest.email:
        sender = SendGridSender(
            settings.sendgrid_api_key.get_secret_value(), settings.sendgrid_host, settings.sendgrid_timeout_seconds
        )
        text = digest.text()
        email = OutgoingEmail(
            touch_id=0,
            to_email=digest.email,
            to_name=digest.name,
            from_email=settings.from_email,
            from_name=settings.from_name,
            subject=f"Your leads for {digest.day}",
            html="<pre>" + text.replace("&", "&amp;").replace("<", "&lt;") + "</pre>",
            text=text,
            created_at=now,
        )
        try:
            sender.send(email)
        except SendError:
            log.warning("digest.not_sent", owner=digest.owner, channel="email")
            raise
        log.info("digest.sent", owner=digest.owner, channel="email")
        return Channel.EMAIL
    return Channel.NONE
