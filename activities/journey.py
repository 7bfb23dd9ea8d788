"""The journey activities: every side effect a journey workflow asks for, under the names in `nurture.temporal_names`.

`journey_activities(settings, engine)` builds them with real clients (SendGrid or the dev outbox, an HTTP
client for the CRM); the worker registers the returned bound methods. Every activity is idempotent: Temporal
retries them, and each one checks what an earlier attempt already recorded. Times come from the workflow
(`inp.now`), so simulated time in tests and compressed demos stays consistent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.engine import Connection, Engine
from sqlmodel import select
from temporalio import activity

from activities.call_task import CallTasks
from activities.drop import DropSender
from activities.email import EmailSender, build_sender
from activities.handoff import SalesHandoff
from activities.heartbeat import beating
from activities.scoring import Scorer
from activities.sla import SlaEscalation
from nurture import consent, temporal_names
from nurture.broadcasts import store as broadcast_store
from nurture.config import Settings
from nurture.db import Contact, ContactStatus, Enrollment
from nurture.db.engine import session_scope
from nurture.lifecycle.stages import advance_to
from nurture.logging import get_logger
from workflows.lifecycle import ActorKind
from workflows.offer_outcome import sent_offer_outcome
from workflows.payloads import (
    BroadcastOutcomeInput,
    EscalateInput,
    EscalateResult,
    HandoffInput,
    HandoffResult,
    JourneyEndInput,
    ReachStageInput,
    SalesFeedbackInput,
    ScoreInput,
    ScoreResult,
    SendDropInput,
    SendDropResult,
)
from workflows.task_payloads import CallTaskInput, CallTaskResult, CloseCallTaskInput

log = get_logger(__name__)

# Journey outcomes after which the contact must never be emailed again.
SUPPRESSING_OUTCOMES = frozenset({"unsubscribe", "unsubscribed", "bounce", "complaint", "dropped", "suppressed"})


class JourneyActivities:
    """Clients are injected; `journey_activities` wires the real ones."""

    def __init__(self, settings: Settings, engine: Engine, sender: EmailSender, crm_http: httpx.Client) -> None:
        self._engine = engine
        self._drops = DropSender(settings, engine, sender)
        self._scorer = Scorer(engine)
        self._handoffs = SalesHandoff(settings, engine, crm_http)
        self._sla = SlaEscalation(settings, engine, crm_http)
        self._calls = CallTasks(settings, engine, crm_http)

    @activity.defn(name=temporal_names.ACTIVITY_SEND_DROP)
    def send_drop(self, inp: SendDropInput) -> SendDropResult:
        """Send one catalog item to one contact, at most once.

        Returns suppressed / deferred (minimum gap across all journeys) / sent / unconfirmed (may have been
        sent; never resent) / failed (refused by the provider). Raises a retryable error only when the
        provider certainly did not take the message (429, 5xx, unreachable). See `activities.drop`.
        Heartbeats while it runs: a worker killed mid-send is retried within `workflows.retry.HEARTBEAT_TIMEOUT`.
        """
        with beating():
            return self._drops.send(inp)

    @activity.defn(name=temporal_names.ACTIVITY_SCORE_CONTACT)
    def score_contact(self, inp: ScoreInput) -> ScoreResult:
        """Score stored engagement with decay (the journey's `ScoringRules`), store it, explain the top reasons."""
        return self._scorer.score(inp)

    @activity.defn(name=temporal_names.ACTIVITY_HAND_OFF)
    def hand_off_to_sales(self, inp: HandoffInput) -> HandoffResult:
        """Record the handoff once per (workflow, attempt) and deliver it to the CRM webhook if configured."""
        with beating():
            return self._handoffs.hand_off(inp)

    @activity.defn(name=temporal_names.ACTIVITY_REACH_STAGE)
    def reach_stage(self, inp: ReachStageInput) -> bool:
        """A journey step moves the contact forward to a lifecycle stage (`nurture.lifecycle.stages`)."""
        with self._engine.begin() as conn:
            moved = advance_to(
                conn, inp.contact_id, inp.stage, actor=ActorKind.JOURNEY, actor_id=inp.workflow_id, why=inp.why,
                now=inp.now,
            )  # fmt: skip
        return moved.moved

    @activity.defn(name=temporal_names.ACTIVITY_ESCALATE_HANDOFF)
    def escalate_handoff(self, inp: EscalateInput) -> EscalateResult:
        """Sales missed the handoff SLA: record it, re-route to the next owner, tell the CRM (see `activities.sla`)."""
        with beating():
            return self._sla.escalate_handoff(inp)

    @activity.defn(name=temporal_names.ACTIVITY_RECORD_SALES_FEEDBACK)
    def record_sales_feedback(self, inp: SalesFeedbackInput) -> dict[str, str] | None:
        """Accepted / rejected / no feedback (None) on the handoff; a verdict the CRM stored first is returned."""
        return self._handoffs.record_feedback(inp)

    @activity.defn(name=temporal_names.ACTIVITY_CREATE_CALL_TASK)
    def create_call_task(self, inp: CallTaskInput) -> CallTaskResult:
        """Record the call task once per (workflow, attempt) and deliver it to the CRM webhook if configured."""
        with beating():
            return self._calls.create(inp)

    @activity.defn(name=temporal_names.ACTIVITY_CLOSE_CALL_TASK)
    def close_call_task(self, inp: CloseCallTaskInput) -> str:
        """The journey stopped waiting: "timed_out", or the outcome a rep recorded first."""
        return self._calls.close(inp)

    @activity.defn(name=temporal_names.ACTIVITY_END_JOURNEY)
    def end_journey(self, inp: JourneyEndInput) -> None:
        """Close the enrollment; a customer becomes one, an unsubscribe/bounce/complaint suppresses the contact.

        Suppression wins over customer: a contact who asked not to be emailed stays suppressed.
        """
        with session_scope(self._engine) as s:
            enrollment = s.exec(select(Enrollment).where(Enrollment.workflow_id == inp.workflow_id)).first()
            if enrollment is None:
                log.warning("journey.end_unenrolled", workflow_id=inp.workflow_id, contact_id=inp.contact_id)
            elif enrollment.ended_at is None or enrollment.outcome != inp.outcome:
                enrollment.ended_at, enrollment.outcome = inp.now, inp.outcome[:60]
            contact = s.get(Contact, inp.contact_id)
            if contact is not None:
                if inp.outcome in SUPPRESSING_OUTCOMES:  # the consent record's one writer, on this transaction
                    s.flush()
                    consent.suppress(s.connection(), {inp.contact_id: inp.outcome}, inp.now, actor="journey")
                    s.refresh(contact)
                elif inp.outcome == "customer" and contact.status != ContactStatus.SUPPRESSED:
                    contact.status = ContactStatus.CUSTOMER
                    contact.updated_at = inp.now
        log.info("journey.ended", contact_id=inp.contact_id, journey=inp.journey, outcome=inp.outcome)

    @activity.defn(name=temporal_names.ACTIVITY_RECORD_BROADCAST_OUTCOME)
    def record_broadcast_outcome(self, inp: BroadcastOutcomeInput) -> None:
        """One BroadcastDelivery per (broadcast, workflow); a repeat updates it."""
        with self._engine.begin() as conn:
            self._record(conn, inp)

    @activity.defn(name=temporal_names.ACTIVITY_DROP_BROADCAST)
    def drop_broadcast(self, inp: SendDropInput) -> SendDropResult:
        """`send_drop` for a broadcast, and the broadcast's outcome row: one local activity per journey acting.

        The row is written in the transaction that decides the drop's result (the claim's for a deferral or a
        skip, the settle's for a send), so it commits with the touch; a result decided before any transaction
        (an unknown item) is recorded on its own. A retry after the send finds the touch and returns its result
        (see `activities.drop`), then records again: the row is one per (broadcast, workflow). A suppressed
        contact's journey ends and records that itself.
        """
        recorded = False

        def record(conn: Connection, result: SendDropResult) -> None:
            nonlocal recorded
            learnt = sent_offer_outcome(result, inp.item_id)
            if learnt is not None and inp.broadcast_id is not None:
                outcome, reason = learnt
                self._record(
                    conn,
                    BroadcastOutcomeInput(inp.broadcast_id, inp.workflow_id, inp.contact_id, outcome, reason, inp.now),
                )
            recorded = True

        result = self._drops.send(inp, record=record)
        if not recorded:
            with self._engine.begin() as conn:
                record(conn, result)
        return result

    @staticmethod
    def _record(conn: Connection, inp: BroadcastOutcomeInput) -> None:
        fields = {"broadcast_id": inp.broadcast_id, "contact_id": inp.contact_id, "outcome": inp.outcome}
        if not broadcast_store.record_outcome(
            conn, inp.broadcast_id, inp.workflow_id, inp.contact_id, inp.outcome, inp.reason, inp.now
        ):
            log.warning("broadcast.outcome_unknown_broadcast", broadcast_id=inp.broadcast_id)
            return
        log.info("broadcast.outcome", **fields)

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.send_drop,
            self.score_contact,
            self.hand_off_to_sales,
            self.record_sales_feedback,
            self.escalate_handoff,
            self.reach_stage,
            self.create_call_task,
            self.close_call_task,
            self.end_journey,
            self.record_broadcast_outcome,
            self.drop_broadcast,
        ]


def journey_activities(settings: Settings, engine: Engine) -> list[Callable[..., Any]]:
    """The journey activities with real clients: SendGrid if a key is configured, else the dev outbox."""
    crm_http = httpx.Client(timeout=settings.crm_timeout_seconds, headers={"User-Agent": "nurture"})
    return JourneyActivities(settings, engine, build_sender(settings, engine), crm_http).activities()
