"""A broadcast's audience: a friendly form over the journeys' search attributes, turned into a visibility query.

The query always restricts to running journey workflows; the form's fields narrow it (journey, stage,
persona, topic, phase, lead score, contact ids) and `where` adds a raw visibility clause for the rest.
The server is the final judge of a query: `count` turns its refusal into an `InvalidAudienceError`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from pydantic import BaseModel, Field
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from nurture import search_attributes, temporal_names
from workflows.broadcast_payloads import AudiencePage
from workflows.dsl import REGISTRY, STAGES

PHASES = ("nurturing", "with_sales", "cooling_down")
RUNNING_JOURNEYS = f"WorkflowType = '{temporal_names.JOURNEY_WORKFLOW}' AND ExecutionStatus = 'Running'"
_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:/@+-]{0,99}$")


class InvalidAudienceError(ValueError):
    """The audience form or its visibility query is not valid; the message says why."""


class Audience(BaseModel):
    """Which running journeys hear a broadcast. Empty fields do not filter; lists match any of their values."""

    journeys: list[str] = Field(default_factory=list, description="journey keys, e.g. b2b_drip")
    stages: list[str] = Field(default_factory=list, description="awareness | consideration | decision")
    personas: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list, description="contacts interested in any of these")
    phases: list[str] = Field(default_factory=list, description="nurturing | with_sales | cooling_down")
    min_score: float | None = None
    max_score: float | None = None
    contact_ids: list[int] = Field(default_factory=list)
    where: str = Field(default="", description="extra visibility clause, ANDed (advanced)")

    def to_query(self) -> str:
        """The visibility query (validated locally; the server may still refuse `where`)."""
        self.check()
        parts = [RUNNING_JOURNEYS]
        for key, values in (
            (search_attributes.SA_JOURNEY, self.journeys),
            (search_attributes.SA_STAGE, self.stages),
            (search_attributes.SA_PERSONA, self.personas),
            (search_attributes.SA_TOPICS, self.topics),
            (search_attributes.SA_PHASE, self.phases),
            (search_attributes.SA_CONTACT, [str(c) for c in self.contact_ids]),
        ):
            if values:
                parts.append(f"{key.name} IN ({', '.join(_quote(v) for v in values)})")
        if self.min_score is not None:
            parts.append(f"{search_attributes.SA_LEAD_SCORE.name} >= {float(self.min_score)!r}")
        if self.max_score is not None:
            parts.append(f"{search_attributes.SA_LEAD_SCORE.name} <= {float(self.max_score)!r}")
        if self.where.strip():
            parts.append(f"({self.where.strip()})")
        return " AND ".join(parts)

    def check(self) -> None:
        unknown = sorted(set(self.journeys) - set(REGISTRY))
        if unknown:
            raise InvalidAudienceError(f"unknown journeys {unknown}; known: {', '.join(sorted(REGISTRY))}")
        for name, values, allowed in (("stages", self.stages, STAGES), ("phases", self.phases, PHASES)):
            bad = sorted(set(values) - set(allowed))
            if bad:
                raise InvalidAudienceError(f"unknown {name} {bad}; use {', '.join(allowed)}")
        for value in (*self.personas, *self.topics):
            if not _VALUE.match(value):
                raise InvalidAudienceError(f"{value!r}: use letters, digits, spaces and . _ : / @ + -")
        if any(c <= 0 for c in self.contact_ids):
            raise InvalidAudienceError("contact ids are positive integers")
        if self.min_score is not None and self.max_score is not None and self.min_score > self.max_score:
            raise InvalidAudienceError(f"min_score {self.min_score:g} is above max_score {self.max_score:g}")
        _check_clause(self.where)

    def describe(self) -> str:
        """One line for people: what the form selects."""
        bits = [
            f"{name}={','.join(map(str, values))}"
            for name, values in (
                ("journey", self.journeys),
                ("stage", self.stages),
                ("persona", self.personas),
                ("topic", self.topics),
                ("phase", self.phases),
                ("contact", self.contact_ids),
            )
            if values
        ]
        if self.min_score is not None:
            bits.append(f"score>={self.min_score:g}")
        if self.max_score is not None:
            bits.append(f"score<={self.max_score:g}")
        if self.where.strip():
            bits.append(f"where {self.where.strip()}")
        return " ".join(bits) or "every running journey"


def _quote(value: str) -> str:
    if "'" in value or "\\" in value:
        raise InvalidAudienceError(f"{value!r}: quotes and backslashes are not allowed")
    return f"'{value}'"


def _check_clause(clause: str) -> None:
    """A raw clause must keep its parentheses balanced outside quotes: it cannot escape the AND it sits in."""
    depth, quote = 0, ""
    for ch in clause:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise InvalidAudienceError(f"unbalanced ')' in where clause: {clause!r}")
    if quote or depth:
        raise InvalidAudienceError(f"unbalanced quotes or parentheses in where clause: {clause!r}")


@dataclass(frozen=True)
class Listed:
    """One journey in the audience, as visibility knows it (ids and non-identifying attributes)."""

    workflow_id: str
    contact_id: int | None
    journey: str | None
    stage: str | None
    persona: str | None
    lead_score: float | None


def _invalid(err: RPCError, query: str) -> Exception:
    if err.status == RPCStatusCode.INVALID_ARGUMENT:
        return InvalidAudienceError(f"the server refused the audience query: {err.message} (query: {query})")
    return err


async def count(client: Client, query: str) -> int:
    try:
        return (await client.count_workflows(query)).count
    except RPCError as err:
        raise _invalid(err, query) from err


async def sample(client: Client, query: str, limit: int) -> list[Listed]:
    found: list[Listed] = []
    try:
        async for wf in client.list_workflows(query, limit=limit, page_size=max(1, min(limit, 1000))):
            sa = wf.typed_search_attributes
            contact = sa.get(search_attributes.SA_CONTACT)
            found.append(
                Listed(
                    workflow_id=wf.id,
                    contact_id=int(contact) if contact and contact.isdigit() else None,
                    journey=sa.get(search_attributes.SA_JOURNEY),
                    stage=sa.get(search_attributes.SA_STAGE),
                    persona=sa.get(search_attributes.SA_PERSONA),
                    lead_score=sa.get(search_attributes.SA_LEAD_SCORE),
                )
            )
    except RPCError as err:
        raise _invalid(err, query) from err
    return found


async def list_page(client: Client, query: str, page_token: str, page_size: int) -> AudiencePage:
    """One page of the audience's workflow ids; the page token is opaque (base64 for the workflow's state)."""
    request = ListWorkflowExecutionsRequest(
        namespace=client.namespace,
        page_size=page_size,
        next_page_token=base64.b64decode(page_token) if page_token else b"",
        query=query,
    )
    try:
        resp = await client.workflow_service.list_workflow_executions(request)
    except RPCError as err:
        raise _invalid(err, query) from err
    newest = max((e.start_time.seconds * 1_000_000_000 + e.start_time.nanos for e in resp.executions), default=0)
    return AudiencePage(
        workflow_ids=[e.execution.workflow_id for e in resp.executions],
        next_page_token=base64.b64encode(resp.next_page_token).decode() if resp.next_page_token else "",
        newest_start_ns=newest,
    )
