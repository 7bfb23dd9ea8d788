"""The handoff SLA's activity side: deadlines for new handoffs, and escalating a missed one.

A missed SLA is recorded (`nurture.lifecycle.sla.escalate`: a stage event, a re-route), then the CRM webhook gets
a signed `sla_escalation` for the team lead (same signature scheme as handoffs; `Idempotency-Key` per handoff and
miss, so a retried activity never escalates twice). The result carries ids and the new deadline only.
"""

from __future__ import annotations

import json

import httpx
from sqlalchemy.engine import Engine
from temporalio.exceptions import ApplicationError

from activities.handoff import sign_body
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.lifecycle.sla import escalate, handoff_deadline
from nurture.logging import get_logger
from workflows.lead_rules import default_sla, sla_for
from workflows.payloads import EscalateInput, EscalateResult

log = get_logger(__name__)


class SlaEscalation:
    def __init__(self, settings: Settings, engine: Engine, http: httpx.Client) -> None:
        self._url = settings.crm_webhook_url
        self._secret = settings.crm_webhook_secret.get_secret_value() if settings.crm_webhook_secret else ""
        self._engine = engine
        self._http = http

    def escalate_handoff(self, inp: EscalateInput) -> EscalateResult:
        policy = sla_for(inp.journey) or default_sla()
        actor = f"sla:handoff-{inp.handoff_id}"
        with self._engine.begin() as conn:
            done = escalate(conn, inp.handoff_id, inp.now, actor, policy)
            deadline = None if done.recycle else handoff_deadline(conn, inp.handoff_id, inp.journey, inp.now)
        log.info("handoff.sla_missed", handoff_id=inp.handoff_id, misses=done.misses, recycle=done.recycle)
        if self._url:
            self._post(inp, done.misses, done.from_owner, done.to_owner, done.why)
        return EscalateResult(done.misses, done.recycle, done.to_owner, deadline, done.why)

    def _post(self, inp: EscalateInput, misses: int, missed_by: str | None, to: str | None, why: str) -> None:
        assert self._url
        sent_at = utcnow()
        payload = {
            "kind": "sla_escalation",
            "handoff_id": inp.handoff_id,
            "contact_id": inp.contact_id,
            "journey": inp.journey,
            "misses": misses,
            "missed_by": missed_by,
            "rerouted_to": to,
            "why": why,
            "sent_at": sent_at.isoformat(),
        }
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Nurture-Signature": sign_body(self._secret, body),
            "X-Nurture-Timestamp": str(int(sent_at.timestamp())),
            "Idempotency-Key": f"sla:{inp.handoff_id}:{misses}",
        }
        try:
            response = self._http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as err:
            raise ApplicationError(f"CRM unreachable: {type(err).__name__}", type="CrmUnavailable") from err
        if not response.is_success:
            log.warning("handoff.escalation_refused", handoff_id=inp.handoff_id, status=response.status_code)
