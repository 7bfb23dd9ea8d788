"""The drop claim's gate: caps across journeys, quiet time and priority among waiting drops.

Called by `DropSender._claim` under the contact's row lock, so two journeys racing for one slot are serialised
and never both pass. The rules themselves are pure (`nurture.caps.evaluate`, `workflows.quiet.next_allowed`);
this module reads what they need (the contact's recent sends arrive from the claim's one read of its touches,
`activities.touches.contact_touches`), and is the one writer of `deferred_drop` rows and their history events
(cancelling them when a contact is suppressed or erased is `nurture.deferrals.cancel_waiting`, in that change's
transaction).

A blocked drop becomes a `deferred_drop` row (state `waiting`, earliest, expiry, the rule and reason) and the
journey is told `deferred` with the moment to come back. When several drops wait for one contact, a lower
priority is refused while a higher one is due (and its journey is expected within `PRIORITY_HOLD`). A waiting
drop past its expiry is `expired`, with the reason, and its journey decides what that means; a later attempt
of the same item starts a new wait.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from nurture.caps import Allowed, Deferred, Frequency, evaluate, frequency_rule, parse_caps
from nurture.config import Settings
from nurture.db import (
    Broadcast,
    Contact,
    DeferredDrop,
    DeferredState,
    DropPriority,
    Event,
    Preference,
)
from nurture.db.tables import DEFERRED_DROP, PREFERENCE
from workflows.dsl import REGISTRY
from workflows.payloads import SendDropInput, SendDropResult
from workflows.quiet import next_allowed

PRIORITY_HOLD = timedelta(hours=1)  # how long a due higher-priority drop keeps a slot for its journey
# Built once, bound per call: they run on every drop.
_DEFERRED_BY_KEY = sa_select(DEFERRED_DROP.c.id).where(DEFERRED_DROP.c.idempotency_key == bindparam("b_key"))
_PREFERENCE = sa_select(*PREFERENCE.c).where(PREFERENCE.c.contact_id == bindparam("b_contact"))


def priority_of(inp: SendDropInput) -> int:
    if inp.priority is not None:
        return int(inp.priority)
    return DropPriority.BROADCAST if inp.broadcast_id else DropPriority.DRIP


@dataclass(frozen=True)
class Go:
    """Every rule allows the drop now."""


def gate(
    s: Session, inp: SendDropInput, contact: Contact, settings: Settings, sends: list[datetime]
) -> Go | SendDropResult:
    """May this drop go now? If not, the deferral (recorded) or the expiry, as the activity's result. `sends`:
    when the contact's other drops reached it in the last `LONGEST_LOOKBACK` (`ContactTouches.sends`)."""
    key = f"{inp.workflow_id}:{inp.item_id}"
    now = inp.now
    # Most drops never waited: look for a deferral by id (core), and load it only if there is one.
    conn = s.connection()
    found = conn.execute(_DEFERRED_BY_KEY, {"b_key": key}).scalar()
    waiting = None if found is None else s.get(DeferredDrop, found)
    if waiting is not None and waiting.state == DeferredState.WAITING and waiting.expires_at <= now:
        waiting.state, waiting.updated_at = DeferredState.EXPIRED, now
        why = f"expired after waiting since {waiting.created_at.isoformat()} (last blocked by {waiting.rule})"
        waiting.reason = why[:500]
        _history(s, inp, "drop_expired", {"rule": waiting.rule, "priority": waiting.priority})
        return SendDropResult(status="expired", detail=why)
    # read once, core (no identity map to fill): the topics and the caps rules both look at it
    chosen = conn.execute(_PREFERENCE, {"b_contact": inp.contact_id}).first()
    pref = None if chosen is None else Preference(**chosen._mapping)
    declined = _declined_topic(s, inp, contact, pref)
    if declined is not None:
        _history(s, inp, "drop_declined", {"rule": "topics"})
        return SendDropResult(status="declined", detail=declined)
    compressed = inp.time_scale != 1.0  # calendar rules mean nothing in compressed time: only the gap applies
    decision = _caps(inp, contact, pref, settings, sends, calendar=not compressed)
    if not compressed:
        # quiet time moves any slot on to the next allowed moment (later never breaks a cap: they are monotone)
        quiet = _quiet(inp, decision.until if isinstance(decision, Deferred) else inp.now, contact, settings)
        if isinstance(decision, Deferred) and quiet is not None:
            decision = Deferred(quiet.until, decision.rule, f"{decision.detail}; then {quiet.detail}")
        elif isinstance(decision, Allowed):
            decision = quiet or _priority(s, inp, key) or decision
    if isinstance(decision, Deferred):
        _defer(s, inp, waiting, decision, settings)
        return SendDropResult(status="deferred", deferred_until=decision.until, detail=named(decision))
    if waiting is not None and waiting.state == DeferredState.WAITING:
        waiting.state, waiting.updated_at = DeferredState.SENT, now
    return Go()


def named(decision: Deferred) -> str:
    """The reason as the journey, `status` and the broadcast show it: it starts with the rule that blocked."""
    if decision.detail.lower().startswith(decision.rule.lower()):
        return decision.detail
    return f"{decision.rule}: {decision.detail}"


def _declined_topic(s: Session, inp: SendDropInput, contact: Contact, pref: Preference | None) -> str | None:
    """A broadcast on topics the contact unticked in the preference center is not for them."""
    if inp.broadcast_id is None or pref is None:
        return None
    broadcast = s.get(Broadcast, inp.broadcast_id)
    if broadcast is None or not broadcast.topics or set(broadcast.topics) & set(contact.topics):
        return None
    return f"the contact chose other topics than {', '.join(sorted(broadcast.topics))} in the preference center"


def _caps(
    inp: SendDropInput,
    contact: Contact,
    pref: Preference | None,
    settings: Settings,
    sends: list[datetime],
    *,
    calendar: bool,
) -> Allowed | Deferred:
    rules = list(parse_caps(settings.drop_caps)) if calendar else []
    snoozed_until = None
    if pref is not None:
        rule = frequency_rule(Frequency(pref.frequency)) if calendar else None
        if rule is not None:
            rules.append(rule)
        snoozed_until = pref.snoozed_until  # the contact's own choice holds in compressed time too
    return evaluate(
        inp.now,
        sends,
        time_zone=contact.time_zone,
        rules=rules,
        min_gap=timedelta(seconds=inp.min_gap_seconds),
        snoozed_until=snoozed_until,
    )


def _quiet(inp: SendDropInput, at: datetime, contact: Contact, settings: Settings) -> Deferred | None:
    """None if `at` is inside the journey's window (and, for a journey that opted in to quiet days, not on a
    public holiday of the contact's country or a company closure), else the next such moment."""
    spec = REGISTRY.get(inp.journey)
    window = spec.send_window if spec is not None else None
    quiet_days = spec is not None and spec.holidays
    country = contact.country if quiet_days else None
    closures = frozenset(settings.closure_dates) if quiet_days else frozenset()
    allowed = next_allowed(at, contact.time_zone, window, country, closures)
    if allowed <= at:
        return None
    why = "window, holiday or closure" if quiet_days else "send window"
    detail = f"quiet time in {contact.time_zone} ({why}); next allowed at {allowed.isoformat()}"
    return Deferred(until=allowed, rule="quiet time", detail=detail)


def _priority(s: Session, inp: SendDropInput, key: str) -> Deferred | None:
    """A higher-priority drop that is due for this contact goes first."""
    mine = priority_of(inp)
    ahead = s.exec(
        select(DeferredDrop)
        .where(
            DeferredDrop.contact_id == inp.contact_id,
            DeferredDrop.state == DeferredState.WAITING,
            DeferredDrop.idempotency_key != key,
            col(DeferredDrop.priority) > mine,
            col(DeferredDrop.earliest) <= inp.now,
            col(DeferredDrop.earliest) > inp.now - PRIORITY_HOLD,
            col(DeferredDrop.expires_at) > inp.now,
        )
        .order_by(col(DeferredDrop.priority).desc())
    ).first()
    if ahead is None:
        return None
    until = ahead.earliest + PRIORITY_HOLD
    detail = f"{ahead.item_id} (priority {ahead.priority}) waits for this contact and goes first"
    return Deferred(until=until, rule="priority", detail=detail)


def _defer(
    s: Session, inp: SendDropInput, row: DeferredDrop | None, decision: Deferred, settings: Settings
) -> DeferredDrop:
    now = inp.now
    if row is None or row.state != DeferredState.WAITING:
        fresh = row is None
        row = row or DeferredDrop(
            idempotency_key=f"{inp.workflow_id}:{inp.item_id}",
            contact_id=inp.contact_id,
            journey=inp.journey,
            item_id=inp.item_id,
            broadcast_id=inp.broadcast_id,
            earliest=decision.until,
            expires_at=now + settings.deferred_drop_ttl,
            created_at=now,
            updated_at=now,
            attempts=0,
        )
        if not fresh:  # an item that expired or went before is tried again: a new wait
            row.state, row.created_at, row.expires_at, row.attempts = (
                DeferredState.WAITING,
                now,
                now + settings.deferred_drop_ttl,
                0,
            )
    row.priority = priority_of(inp)
    row.earliest, row.rule, row.reason = decision.until, decision.rule[:120], decision.detail[:500]
    row.attempts += 1
    row.updated_at = now
    s.add(row)
    data = {"rule": decision.rule, "until": decision.until.isoformat(), "priority": row.priority}
    _history(s, inp, "drop_deferred", data)
    s.flush()
    return row


def _history(s: Session, inp: SendDropInput, kind: str, data: dict[str, object]) -> None:
    """The decision in the contact's history (ids and rule names only)."""
    s.add(
        Event(
            dedupe_key=f"nurture:{kind}:{uuid.uuid4().hex}",
            contact_id=inp.contact_id,
            kind=kind,
            source="nurture",
            occurred_at=inp.now,
            received_at=inp.now,
            journey=inp.journey,
            item_id=inp.item_id,
            data={**data, "broadcast_id": inp.broadcast_id},
        )
    )
