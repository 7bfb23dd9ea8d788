"""Web tracking and identity stitching: page views, pixel opens and link clicks, anonymous -> contact.

Callers authenticate the contact (signed token or API token) before a contact id reaches these functions.
Each function runs inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from nurture.db.tables import CONTACT, EVENT, TOUCH, VISITOR, upsert
from nurture.inbound.privacy import not_erased
from nurture.inbound.routing import Routable, action_for_kind
from nurture.inbound.scanners import machine_reason
from nurture.inbound.store import Stored, event_row, insert_events, route
from nurture.redaction import Redactor


@dataclass(frozen=True)
class WebClient:
    """What the HTTP request says about who followed a link."""

    method: str
    user_agent: str | None


@dataclass(frozen=True)
class PageViewIn:
    url: str
    occurred_at: datetime
    anonymous_id: str | None = None
    contact_id: int | None = None
    title: str | None = None
    referrer: str | None = None
    topic: str | None = None
    client_event_id: str | None = None  # lets a browser retry without counting twice


class UnknownContactError(LookupError):
    pass


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _upsert_visitor(conn: Connection, anonymous_id: str, now: datetime) -> int | None:
    """Record the visitor (first seen now) and return the contact it is linked to, if any."""
    conn.execute(
        upsert(conn, VISITOR)
        .values(anonymous_id=anonymous_id, first_seen_at=now)
        .on_conflict_do_nothing(index_elements=["anonymous_id"])
    )
    return conn.execute(select(VISITOR.c.contact_id).where(VISITOR.c.anonymous_id == anonymous_id)).scalar()


def _require_contact(conn: Connection, contact_id: int) -> dict[int, str]:
    """{id: status} of a contact a token or id may act for: an erased one is unknown (its tokens, links and
    visitor ids still exist in browsers and old mail, and nothing about the person may be stored again)."""
    status = conn.execute(select(CONTACT.c.status).where(CONTACT.c.id == contact_id, not_erased())).scalar()
    if status is None:
        raise UnknownContactError(f"no contact {contact_id}")
    return {contact_id: status}


def store_page_view(conn: Connection, view: PageViewIn, now: datetime, *, redactor: Redactor) -> Stored:
    """Store a page view; attributed to the contact when known (directly or through a linked visitor).

    `redactor` (`Settings.url_redactor`) reduces the URL its signals carry to Temporal."""
    contact_id = view.contact_id
    result = Stored(received=1)
    if view.anonymous_id is not None:
        if contact_id is not None:
            result = identify(conn, view.anonymous_id, contact_id, now, redactor=redactor)
            result.received = 1
        else:
            contact_id = _upsert_visitor(conn, view.anonymous_id, now)
    statuses = _require_contact(conn, contact_id) if contact_id is not None else {}
    who = f"c{contact_id}" if view.anonymous_id is None else f"a{view.anonymous_id}"
    key = f"web:page_view:{_digest(who + '|' + (view.client_event_id or uuid.uuid4().hex))}"
    data = {k: v for k, v in (("title", view.title), ("referrer", view.referrer)) if v}
    row = event_row(
        dedupe_key=key,
        kind="page_view",
        source="web",
        occurred_at=view.occurred_at,
        received_at=now,
        contact_id=contact_id,
        anonymous_id=view.anonymous_id,
        url=view.url,
        topic=view.topic,
        data=data,
    )
    inserted = insert_events(conn, [row])
    result.stored += len(inserted)
    result.duplicates += 1 - len(inserted)
    result.event_ids += list(inserted.values())
    if inserted and contact_id is not None:
        ev = Routable(
            event_id=inserted[key],
            contact_id=contact_id,
            kind="page_view",
            action=action_for_kind("page_view"),
            occurred_at=view.occurred_at,
            url=view.url,
            topic=view.topic,
        )
        routed = route(conn, [ev], now, statuses, redactor=redactor)
        result.signals += routed.signals
    return result


def identify(conn: Connection, anonymous_id: str, contact_id: int, now: datetime, *, redactor: Redactor) -> Stored:
    """Link the visitor to the contact; its earlier anonymous events become the contact's, and are routed."""
    statuses = _require_contact(conn, contact_id)
    _upsert_visitor(conn, anonymous_id, now)
    conn.execute(
        update(VISITOR).where(VISITOR.c.anonymous_id == anonymous_id).values(contact_id=contact_id, identified_at=now)
    )
    e = EVENT.c
    earlier = conn.execute(
        select(e.id, e.kind, e.occurred_at, e.url, e.topic, e.machine)
        .where(e.anonymous_id == anonymous_id, e.contact_id.is_(None))
        .order_by(e.occurred_at, e.id)
    ).all()
    result = Stored()
    if not earlier:
        return result
    ids = [r.id for r in earlier]
    conn.execute(update(EVENT).where(e.id.in_(ids)).values(contact_id=contact_id))
    routable = [
        Routable(
            event_id=r.id,
            contact_id=contact_id,
            kind=r.kind,
            action=action_for_kind(r.kind, machine=r.machine),
            occurred_at=r.occurred_at,
            url=r.url,
            topic=r.topic,
        )
        for r in earlier
    ]
    result = route(conn, routable, now, statuses, redactor=redactor)
    result.event_ids = ids
    return result


def store_web_engagement(
    conn: Connection,
    *,
    contact_id: int,
    kind: str,
    token: str,
    touch_id: int | None,
    item_id: str | None,
    url: str | None,
    now: datetime,
    redactor: Redactor,
    client: WebClient | None = None,
) -> Stored:
    """An open (tracking pixel) or click (redirect) on a link nurture rendered. Counted once per link a minute.

    The touch (the drop the link was in) names the journey to tell; without it every listening journey hears.
    With `client` (the HTTP request), a click a machine made (`nurture.inbound.scanners`) is stored but does not
    count; without it (an operator's `nurture event`) the event is taken as a person's.
    """
    statuses = _require_contact(conn, contact_id)
    journey = sent_at = None
    if touch_id is not None:
        found = conn.execute(
            select(TOUCH.c.journey, TOUCH.c.sent_at).where(TOUCH.c.id == touch_id, TOUCH.c.contact_id == contact_id)
        ).first()
        if found is not None:
            journey, sent_at = found
    machine = None
    if client is not None:
        machine = machine_reason(
            kind=kind, method=client.method, user_agent=client.user_agent, sent_at=sent_at, now=now
        )
    # A scanner's fetch and the person's click in the same minute are two events, not one.
    key = f"web:{kind}{':machine' if machine else ''}:{_digest(token)}:{int(now.timestamp()) // 60}"
    row = event_row(
        dedupe_key=key,
        kind=kind,
        source="web",
        occurred_at=now,
        received_at=now,
        contact_id=contact_id,
        journey=journey,
        item_id=item_id,
        url=url,
        machine=machine is not None,
        data={
            **({"touch_id": touch_id} if touch_id is not None else {}),
            **({"machine_reason": machine} if machine is not None else {}),
        },
    )
    inserted = insert_events(conn, [row])
    if not inserted:
        return Stored(received=1, duplicates=1)
    ev = Routable(
        event_id=inserted[key],
        contact_id=contact_id,
        kind=kind,
        action=action_for_kind(kind, machine=machine is not None),
        occurred_at=now,
        journey=journey,
        item_id=item_id,
        url=url,
    )
    result = route(conn, [ev], now, statuses, redactor=redactor)
    result.received, result.stored, result.event_ids = 1, 1, [inserted[key]]
    return result
