"""Enrolling contacts in journeys and delivering signals to them (the Temporal client side).

Exactly one journey per (journey, contact): the workflow id is derived from both, starts use
"use existing" on conflict. An explicit enrolment may replace a run that failed or was terminated (after the
worker learnt a new journey, say), never one that ended normally; an event never starts a new run over any
closed one, so a late page view does not restart a journey that ended or that ops stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from nurture import search_attributes, temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Contact, ContactStatus, Enrollment
from nurture.db.engine import session_scope
from workflows.dsl import REGISTRY
from workflows.payloads import RUNTIME_VERSION, JourneyInput


class EnrollError(ValueError):
    """A contact cannot be enrolled (unknown contact or journey, suppressed, ...)."""


@dataclass(frozen=True)
class Enrolled:
    contact_id: int
    journey: str
    workflow_id: str
    run_id: str | None


def journey_input(contact: Contact, journey: str, settings: Settings, time_scale: float = 1.0) -> JourneyInput:
    assert contact.id is not None
    return JourneyInput(
        journey=journey,
        contact_id=contact.id,
        persona=contact.persona,
        time_zone=contact.time_zone,
        topics=list(contact.topics),
        time_scale=time_scale,
        min_gap_seconds=settings.min_gap_between_drops.total_seconds(),
        runtime_version=RUNTIME_VERSION,  # current runtime code from the start: no markers for its own changes
    )


def initial_search_attributes(inp: JourneyInput) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(search_attributes.SA_JOURNEY, inp.journey),
            SearchAttributePair(search_attributes.SA_CONTACT, str(inp.contact_id)),
            SearchAttributePair(search_attributes.SA_PERSONA, inp.persona),
            SearchAttributePair(search_attributes.SA_TOPICS, list(inp.topics)),
            SearchAttributePair(search_attributes.SA_STAGE, "awareness"),
            SearchAttributePair(search_attributes.SA_PHASE, "nurturing"),
            SearchAttributePair(search_attributes.SA_DROPS_SENT, 0),
            SearchAttributePair(search_attributes.SA_LEAD_SCORE, 0.0),
        ]
    )


# Closed runs an enrolment may replace: they did not end the journey's way (a run that completed did).
REPLACEABLE = frozenset(
    {
        WorkflowExecutionStatus.FAILED,
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.TIMED_OUT,
        WorkflowExecutionStatus.CANCELED,
    }
)


def _start_options(
    inp: JourneyInput, settings: Settings, reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE
) -> dict[str, Any]:
    return {
        "id": workflow_ids.journey_workflow_id(inp.journey, inp.contact_id),
        "task_queue": settings.task_queue,
        "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
        "id_reuse_policy": reuse,
        "search_attributes": initial_search_attributes(inp),
        "static_summary": f"{inp.journey} for contact {inp.contact_id}",
    }


def _record_enrollment(engine: Engine, contact_id: int, journey: str) -> tuple[Contact, str]:
    if journey not in REGISTRY:
        raise EnrollError(f"unknown journey {journey!r}; known: {', '.join(sorted(REGISTRY))}")
    workflow_id = workflow_ids.journey_workflow_id(journey, contact_id)
    with session_scope(engine) as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise EnrollError(f"no contact {contact_id}")
        if contact.status in (ContactStatus.SUPPRESSED, ContactStatus.PENDING_CONFIRMATION):
            raise EnrollError(f"contact {contact_id} is {contact.status}: not enrolled")
        existing = session.exec(select(Enrollment).where(Enrollment.workflow_id == workflow_id)).first()
        if existing is None:
            session.add(
                Enrollment(contact_id=contact_id, journey=journey, workflow_id=workflow_id, enrolled_at=utcnow())
            )
        session.expunge(contact)
    return contact, workflow_id


async def enroll(
    client: Client, engine: Engine, settings: Settings, contact_id: int, journey: str, *, time_scale: float = 1.0
) -> Enrolled:
    """Start the contact's journey (idempotent: an already running journey is left as it is)."""
    contact, workflow_id = _record_enrollment(engine, contact_id, journey)
    inp = journey_input(contact, journey, settings, time_scale)
    try:
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            temporal_names.JOURNEY_WORKFLOW,
            inp,
            **_start_options(inp, settings, WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY),
        )
    except WorkflowAlreadyStartedError as err:
        raise EnrollError(f"contact {contact_id} already went through {journey}: a journey runs once") from err
    return Enrolled(contact_id, journey, workflow_id, handle.first_execution_run_id)


async def replaceable(client: Client, workflow_id: str) -> bool:
    """True when the journey's latest run is closed without having ended normally (failed, terminated, ...):
    enrolling again starts a new run."""
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return described.status in REPLACEABLE


def active_journeys(engine: Engine, contact_id: int) -> list[str]:
    """Journey keys the contact is enrolled in and that have not ended."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(Enrollment.journey).where(Enrollment.contact_id == contact_id, Enrollment.ended_at.is_(None))  # type: ignore[union-attr]
        ).all()
    return list(rows)


async def signal_journey(
    client: Client,
    engine: Engine,
    settings: Settings,
    contact_id: int,
    journey: str,
    signal: str,
    payload: object,
) -> bool:
    """Deliver a signal, starting the journey with it if it has not started yet (signal-with-start).

    Returns False when the journey has ended (a late event for a finished journey is not an error).
    """
    with session_scope(engine) as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise EnrollError(f"no contact {contact_id}")
        session.expunge(contact)
    inp = journey_input(contact, journey, settings)
    try:
        await client.start_workflow(
            temporal_names.JOURNEY_WORKFLOW,
            inp,
            start_signal=signal,
            start_signal_args=[payload],
            **_start_options(inp, settings),
        )
    except WorkflowAlreadyStartedError:
        return False
    except RPCError as err:
        if err.status == RPCStatusCode.ALREADY_EXISTS:
            return False
        raise
    return True
