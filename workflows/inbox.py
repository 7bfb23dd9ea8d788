"""The journey's inbox: signals in (deduplicated), and the first unconsumed event a wait matches.

An event stays in the inbox until a wait consumes it (or a later one times out), so a wait is also answered by
events that arrived before it began: an anonymous pricing visit before opt-in answers the first `wait_for`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from nurture import search_attributes
    from workflows import dsl
    from workflows.payloads import (
        BroadcastNotice,
        EngagementEvent,
        ExitRequest,
        InboxEvent,
        JourneyCarry,
        JourneyInput,
        PageView,
        PreferenceChange,
        SalesFeedback,
    )
    from workflows.runtime_version import runtime_change

INBOX_LIMIT = 200
PATCH_TOPICS_UPSERT = "topics-upsert-on-preferences"  # workflow.patched id
SEEN_LIMIT = 500


class Inbox:
    """Signal handlers and matching over `carry.inbox`; the workflow class calls the `on_*` handlers."""

    def __init__(self, inp: JourneyInput, carry: JourneyCarry) -> None:
        self._inp = inp
        self._carry = carry

    def _remember(self, event_id: str | None) -> bool:
        """False if this event id was seen already (at-least-once delivery upstream)."""
        carry = self._carry
        if event_id is not None:
            if event_id in carry.seen_event_ids:
                return False
            carry.seen_event_ids.append(event_id)
            del carry.seen_event_ids[:-SEEN_LIMIT]
        carry.signals_received += 1
        return True

    def _push(self, **fields: Any) -> None:
        carry = self._carry
        carry.inbox_seq += 1
        carry.inbox.append(InboxEvent(seq=carry.inbox_seq, **fields))
        if len(carry.inbox) > INBOX_LIMIT:
            del carry.inbox[: len(carry.inbox) - INBOX_LIMIT]

    def on_engagement(self, event: EngagementEvent) -> None:
        if self._remember(event.event_id):
            self._push(
                kind=event.kind,
                at=event.occurred_at,
                event_id=event.event_id,
                url=event.url,
                item_id=event.item_id,
            )

    def on_page_view(self, view: PageView) -> None:
        if self._remember(view.event_id):
            self._push(kind="page_view", at=view.occurred_at, event_id=view.event_id, url=view.url, topic=view.topic)

    def on_broadcast(self, notice: BroadcastNotice) -> None:
        carry = self._carry
        pending = {n.broadcast_id for n in carry.pending_broadcasts}
        if notice.broadcast_id in carry.handled_broadcasts or notice.broadcast_id in pending:
            return
        carry.pending_broadcasts.append(notice)
        self._push(
            kind="broadcast",
            at=workflow.now(),
            item_id=notice.item_id,
            topic=notice.topics[0] if notice.topics else None,
            broadcast_kind=notice.kind,
        )

    def on_exit(self, request: ExitRequest) -> None:
        if self._carry.exit_reason is None:
            self._carry.exit_reason = request.reason

    def on_pause(self, paused: bool) -> None:
        self._carry.paused = paused

    def on_preferences(self, change: PreferenceChange) -> None:
        if change.topics is not None:
            self._carry.topics = list(change.topics)
            # broadcast audiences select on NurtureTopics: they see the contact's own choice from now on
            if runtime_change(self._inp, PATCH_TOPICS_UPSERT):  # histories from before replay without the upsert
                workflow.upsert_search_attributes([search_attributes.SA_TOPICS.value_set(list(change.topics))])

    def on_sales_feedback(self, feedback: SalesFeedback) -> None:
        self._carry.sales_feedback.append(feedback)

    def match(self, what: tuple[dsl.Matcher, ...]) -> InboxEvent | None:
        """The first event not yet consumed that any of `what` matches."""
        for event in self._carry.inbox:
            if event.seq <= self._carry.consumed_seq:
                continue
            if any(m.matches(event.kind, event.url, event.topic, event.broadcast_kind) for m in what):
                return event
        return None

    def changed_since(self, seen: int) -> Callable[[], bool]:
        """A wake-up condition: an event has arrived since the inbox was at `seen`."""
        return lambda: self._carry.inbox_seq != seen


def encode_happened(event: InboxEvent) -> str:
    """A matched event as the journal stores it (the `wait` step's result)."""
    return json.dumps(
        {
            "kind": event.kind,
            "at": event.at.isoformat(),
            "url": event.url,
            "item_id": event.item_id,
            "topic": event.topic,
            "broadcast_kind": event.broadcast_kind,
        }
    )


def decode_happened(raw: str | None) -> dsl.Happened | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return dsl.Happened(
        kind=data["kind"],
        at=datetime.fromisoformat(data["at"]),
        url=data["url"],
        item_id=data["item_id"],
        topic=data["topic"],
        broadcast_id=None,
        broadcast_kind=data.get("broadcast_kind"),
    )
