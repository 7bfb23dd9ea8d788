"""Call tasks on both databases: one row per journey attempt, a signed CRM webhook with a rep's context, and one
outcome per task (a rep's, or the journey's timeout), queued to the journey through the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import Engine

from activities.handoff import sign_body
from nurture.db.tables import CALL_TASK, SIGNAL_OUTBOX
from nurture.inbound.call_tasks import record_outcome
from nurture.lifecycle.call_tasks import OutcomeRefusedError, UnknownCallTaskError
from tests.activities.helpers import T0, add_contact, outbox_activities
from tests.activities.receiver import Receiver
from tests.fixtures.api import API_TOKEN, ServedApi
from workflows.task_payloads import CallTaskInput, CloseCallTaskInput

SECRET = "crm-shared-secret-for-call-tasks"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def crm() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def call_input(cid: int, attempt: int = 1) -> CallTaskInput:
    return CallTaskInput(cid, "b2b_drip", f"journey/b2b_drip/contact-{cid}", attempt, "nearly ready", 40.0, T0)


def test_a_call_task_is_one_row_per_attempt_and_a_signed_webhook_with_context(engine: Engine, crm: Receiver) -> None:
    cid = add_contact(engine)
    settings = {"crm_webhook_url": f"{crm.url}/tasks", "crm_webhook_secret": SecretStr(SECRET)}
    with outbox_activities(engine, **settings) as acts:
        first = acts.create_call_task(call_input(cid))
        again = acts.create_call_task(call_input(cid))  # a retried activity
    assert first.task_id == again.task_id and first.delivered
    with engine.connect() as conn:
        rows = conn.execute(select(CALL_TASK.c.id, CALL_TASK.c.status, CALL_TASK.c.crm_response)).all()
    assert [(r.id, r.status) for r in rows] == [(first.task_id, "open")] and rows[0].crm_response.startswith("HTTP 200")
    request = crm.received[0]
    assert request.headers["X-Nurture-Signature"] == sign_body(SECRET, request.body)
    body = json.loads(request.body)
    assert body["kind"] == "call_task" and body["outcome_url"] == f"/tasks/{first.task_id}/outcome"
    assert body["context"]["contact"]["email"] == "ada@example.com" and body["why"] == "nearly ready"
    assert {r.headers["Idempotency-Key"] for r in crm.received} == {f"journey/b2b_drip/contact-{cid}:call:1"}


def test_the_first_outcome_wins_and_reaches_the_journey_through_the_outbox(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        task = acts.create_call_task(call_input(cid)).task_id
        with engine.begin() as conn:
            assert record_outcome(conn, task, "reached_not_now", "budget in Q3", T0).new
            assert not record_outcome(conn, task, "reached_not_now", "", T0).new  # the same again: nothing new
        with engine.begin() as conn, pytest.raises(OutcomeRefusedError, match="already has outcome"):
            record_outcome(conn, task, "reached_interested", "", T0)
        assert acts.close_call_task(CloseCallTaskInput(task, T0)) == "reached_not_now", "the rep's answer wins"
        late = acts.create_call_task(call_input(cid, attempt=2)).task_id
        assert acts.close_call_task(CloseCallTaskInput(late, T0)) == "timed_out"
    with engine.begin() as conn, pytest.raises(OutcomeRefusedError, match="timed out"):
        record_outcome(conn, late, "no_answer", "", T0)
    with engine.begin() as conn, pytest.raises(UnknownCallTaskError):
        record_outcome(conn, 987654, "no_answer", "", T0)
    with engine.begin() as conn, pytest.raises(ValueError, match="unknown call outcome"):
        record_outcome(conn, task, "maybe", "", T0)
    with engine.connect() as conn:
        queued = conn.execute(select(SIGNAL_OUTBOX.c.signal, SIGNAL_OUTBOX.c.journey, SIGNAL_OUTBOX.c.payload)).all()
    assert [(q.signal, q.journey, q.payload["task_id"], q.payload["outcome"]) for q in queued] == [
        ("record_call_outcome", "b2b_drip", task, "reached_not_now")
    ]


async def test_the_outcome_door_takes_the_token_and_answers_404_409_422(api: ServedApi) -> None:
    cid = add_contact(api.ctx.engine)
    with outbox_activities(api.ctx.engine) as acts:
        task = acts.create_call_task(call_input(cid)).task_id
    path = f"/tasks/{task}/outcome"
    assert (await api.http.post(path, json={"outcome": "no_answer"})).status_code == 401
    done = await api.http.post(path, json={"outcome": "reached_interested", "note": "demo Tuesday"}, headers=AUTH)
    assert done.status_code == 202 and done.json() == {"task_id": task, "outcome": "reached_interested", "queued": True}
    same = await api.http.post(path, json={"outcome": "reached_interested"}, headers=AUTH)
    assert same.status_code == 202 and same.json()["queued"] is False
    other = await api.http.post(path, json={"outcome": "no_answer"}, headers=AUTH)
    unknown = await api.http.post("/tasks/987654/outcome", json={"outcome": "no_answer"}, headers=AUTH)
    bad = await api.http.post(path, json={"outcome": "maybe"}, headers=AUTH)
    assert (other.status_code, unknown.status_code, bad.status_code) == (409, 404, 422)
