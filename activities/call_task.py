"""Asking a person to phone a contact: an idempotent `call_task` row with what a rep needs, pushed to the CRM.

The CRM request is signed like a handoff (`activities.handoff.sign_body`: `X-Nurture-Signature`, the body's
`sent_at` repeated in `X-Nurture-Timestamp`, a stable `Idempotency-Key`); its body has `"kind": "call_task"` and
the `outcome_url` path the CRM posts the result to. The activity result carries ids only.
"""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.exceptions import ApplicationError

from activities.handoff import RETRYABLE_CRM_STATUSES, build_context, sign_body
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db.tables import CALL_TASK, LEAD
from nurture.lifecycle.call_tasks import close_timed_out, open_task, record_crm_response
from nurture.lifecycle.routing import owner_card
from nurture.logging import get_logger
from workflows.payloads import HandoffInput
from workflows.task_payloads import CallTaskInput, CallTaskResult, CloseCallTaskInput

log = get_logger(__name__)


class CallTasks:
    def __init__(self, settings: Settings, engine: Engine, http: httpx.Client) -> None:
        self._url = settings.crm_webhook_url
        self._secret = settings.crm_webhook_secret.get_secret_value() if settings.crm_webhook_secret else ""
        self._engine = engine
        self._http = http

    def create(self, inp: CallTaskInput) -> CallTaskResult:
        key = f"{inp.workflow_id}:call:{inp.attempt}"
        with Session(self._engine) as s, s.begin():
            conn = s.connection()
            owner_id = conn.execute(select(LEAD.c.owner_id).where(LEAD.c.contact_id == inp.contact_id)).scalar()
            like_handoff = HandoffInput(
                inp.contact_id, inp.journey, inp.workflow_id, inp.attempt, inp.score, inp.why, inp.now
            )
            context = build_context(s, like_handoff) | {"owner": owner_card(conn, owner_id)}
            fields = {
                "contact_id": inp.contact_id, "journey": inp.journey, "workflow_id": inp.workflow_id,
                "why": inp.why[:500], "context": context, "owner_id": owner_id,
            }  # fmt: skip
            task_id, new = open_task(conn, key, fields, inp.now)
        if not self._url:
            log.info("call_task.recorded", task_id=task_id, contact_id=inp.contact_id, crm="none")
            return CallTaskResult(task_id, delivered=False, detail="recorded; no CRM webhook configured")
        return self._deliver(task_id, key, inp, context if new else self._context(task_id))

    def close(self, inp: CloseCallTaskInput) -> str:
        with self._engine.begin() as conn:
            return close_timed_out(conn, inp.task_id, inp.now).value

    def _context(self, task_id: int) -> object:
        with self._engine.connect() as conn:
            return conn.execute(select(CALL_TASK.c.context).where(CALL_TASK.c.id == task_id)).scalar()

    def _deliver(self, task_id: int, key: str, inp: CallTaskInput, context: object) -> CallTaskResult:
        assert self._url
        sent_at = utcnow()
        payload = {
            "kind": "call_task",
            "task_id": task_id,
            "idempotency_key": key,
            "journey": inp.journey,
            "workflow_id": inp.workflow_id,
            "why": inp.why,
            "created_at": inp.now.isoformat(),
            "sent_at": sent_at.isoformat(),
            "context": context,
            "outcome_url": f"/tasks/{task_id}/outcome",
            "outcomes": ["reached_interested", "reached_not_now", "no_answer"],
        }
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Nurture-Signature": sign_body(self._secret, body),
            "X-Nurture-Timestamp": str(int(sent_at.timestamp())),
            "Idempotency-Key": key,
        }
        try:
            response = self._http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as err:
            raise ApplicationError(f"CRM unreachable: {type(err).__name__}", type="CrmUnavailable") from err
        with self._engine.begin() as conn:
            record_crm_response(conn, task_id, f"HTTP {response.status_code}: {response.text[:400]}")
        if response.is_success:
            return CallTaskResult(task_id, delivered=True, detail=f"CRM answered {response.status_code}")
        if response.status_code >= 500 or response.status_code in RETRYABLE_CRM_STATUSES:
            raise ApplicationError(f"CRM answered {response.status_code}", type="CrmUnavailable")
        log.error("call_task.crm_refused", status=response.status_code, task_id=task_id)
        return CallTaskResult(task_id, delivered=False, detail=f"CRM refused it ({response.status_code})")
