"""`j.variant` on a real worker: the arm follows the contact id, shows in `status`, decides what is sent, and never
changes across continue-as-new, even when the weights are edited while the journey runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from definitions.b2b_drip import SUBJECT_LINE, b2b_drip
from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows import dsl
from workflows.experiments import Experiment
from workflows.payloads import JourneyStatus

B2B = {"persona": "finance-lead", "time_zone": "Europe/Paris", "topics": ["compliance"]}
WELCOME = "b2b-pricing-explained"
WEIGHTS = [1.0, 1.0]  # read when the storyboard reaches j.variant: a test edits it mid-journey


async def welcome_test(j: dsl.Journey) -> None:
    """b2b_drip with a welcome item for arm b only."""
    if await j.variant("welcome", ["a", "b"], weights=list(WEIGHTS)) == "b":
        await j.drop("welcome pack", item=WELCOME)
    await b2b_drip(j)


@pytest.fixture
def with_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = dsl.REGISTRY["b2b_drip"]
    monkeypatch.setitem(dsl.REGISTRY, "b2b_drip", dsl.JourneySpec(**{**spec.__dict__, "storyboard": welcome_test}))
    monkeypatch.setattr(f"{__name__}.WEIGHTS", [1.0, 1.0])


@pytest.mark.usefixtures("with_variant")
async def test_each_contact_gets_its_arm_and_status_shows_it(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[5.0])
    experiment = Experiment.of("welcome", ["a", "b"])
    contacts = {c: experiment.arm(c) for c in range(901, 909)}
    assert set(contacts.values()) == {"a", "b"}
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handles = {c: await start_journey(env, task_queue, "b2b_drip", c, **B2B) for c in contacts}
        await env.sleep(timedelta(days=4))  # past a weekend: the first drop waits for business hours
        statuses = {
            c: await h.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus) for c, h in handles.items()
        }
    for c, arm in contacts.items():
        assert statuses[c].variants == {"welcome": arm, SUBJECT_LINE.key: SUBJECT_LINE.arm(c)}  # b2b_drip's own
        first = rec.sent(c)[0].item_id
        assert all(s.variants["welcome"] == arm for s in rec.sent(c)), "every drop carries the arm"
        assert rec.sent(c)[-1].variants == statuses[c].variants, "a drop after both carries both"
        assert (first == WELCOME) == (arm == "b"), (c, arm, first)


@pytest.mark.usefixtures("with_variant")
async def test_an_assignment_survives_continue_as_new_and_a_weights_edit(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[5.0])
    WEIGHTS[:] = [1.0, 0.0]  # everyone in a
    contact = 911
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", contact, history_limit=60, **B2B)
        await env.sleep(timedelta(days=2))
        WEIGHTS[:] = [0.0, 1.0]  # the definition now says b for everyone: later runs must not switch
        result = await handle.result()
        status = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
    assert status.run > 1, "the journey must have continued as new"
    assert status.variants == {"welcome": "a", SUBJECT_LINE.key: SUBJECT_LINE.arm(contact)}
    items = [s.item_id for s in rec.sent(contact)]
    assert WELCOME not in items[:1] and result.items == items
