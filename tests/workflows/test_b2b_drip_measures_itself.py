"""The shipped b2b_drip on a real worker, as declared: a tenth of its contacts held out (every drop recorded as
held out, nothing sent), every contact in an arm of the subject-line test (shown in status, carried by each
drop after the assignment, the held-out ones included), the same storyboard for all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from definitions.b2b_drip import HOLDOUT, SUBJECT_LINE
from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows import dsl
from workflows.experiments import in_holdout
from workflows.payloads import JourneyStatus

pytestmark = pytest.mark.measured  # the declaration as shipped
B2B = {"persona": "finance-lead", "time_zone": "Europe/Paris", "topics": ["compliance"]}
CONTACTS = [1, 2, 3, 4, 5, 11, 16]  # 5, 11 and 16 fall in the 10% holdout


def test_b2b_drip_declares_its_holdout_and_subject_test() -> None:
    spec = dsl.REGISTRY["b2b_drip"]
    assert spec.holdout == HOLDOUT == 0.1 and spec.experiments == (SUBJECT_LINE,)
    assert {c for c in CONTACTS if in_holdout("b2b_drip", HOLDOUT, c)} == {5, 11, 16}


async def test_held_out_contacts_get_nothing_and_every_contact_has_a_subject_arm(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[5.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handles = {c: await start_journey(env, task_queue, "b2b_drip", c, **B2B) for c in CONTACTS}
        await env.sleep(timedelta(days=40))
        statuses = {
            c: await h.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus) for c, h in handles.items()
        }
    arms = {c: SUBJECT_LINE.arm(c) for c in CONTACTS}
    assert set(arms.values()) == {"a", "b"}
    for c in CONTACTS:
        assert statuses[c].variants == {"subject-line": arms[c]}
        held = [d for d in rec.held if d.contact_id == c]
        if in_holdout("b2b_drip", HOLDOUT, c):
            assert rec.sent(c) == [] and len(held) >= 2, "held out: recorded drop for drop, never sent"
            assert all(d.variants == {"subject-line": arms[c]} for d in held)
        else:
            assert held == [] and len(rec.sent(c)) >= 2
            assert all(d.variants == {"subject-line": arms[c]} for d in rec.sent(c)), "every drop records the arm"
    drops = {c: len(rec.sent(c)) + len([d for d in rec.held if d.contact_id == c]) for c in CONTACTS}
    assert len(set(drops.values())) == 1, f"the same storyboard for everyone: {drops}"
