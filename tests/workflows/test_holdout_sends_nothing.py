"""A journey's holdout on a real worker: held-out contacts are enrolled and run the same storyboard, every drop is
recorded as held out and none is sent; the others are sent as usual; which contacts are held out follows
`workflows.experiments.in_holdout`."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows import dsl
from workflows.experiments import in_holdout

B2B = {"persona": "finance-lead", "time_zone": "Europe/Paris", "topics": ["compliance"]}
SHARE = 0.5


@pytest.fixture
def with_holdout(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = dsl.REGISTRY["b2b_drip"]
    monkeypatch.setitem(dsl.REGISTRY, "b2b_drip", dataclasses.replace(spec, holdout=SHARE))


@pytest.mark.usefixtures("with_holdout")
async def test_held_out_contacts_run_the_journey_but_are_sent_nothing(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[5.0])
    contacts = list(range(951, 959))
    held = {c for c in contacts if in_holdout("b2b_drip", SHARE, c)}
    assert held and held != set(contacts)
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handles = {c: await start_journey(env, task_queue, "b2b_drip", c, **B2B) for c in contacts}
        results = {c: await h.result() for c, h in handles.items()}
    for c in contacts:
        assert results[c].outcome == "completed"
        if c in held:
            assert rec.sent(c) == [], "a held-out contact is never sent a drop"
            assert [d.item_id for d in rec.held if d.contact_id == c] == results[c].items
        else:
            assert [d.item_id for d in rec.sent(c)] == results[c].items
            assert not any(d.contact_id == c for d in rec.held)
    treated = next(c for c in contacts if c not in held)
    assert len(results[min(held)].items) == len(results[treated].items), "the same storyboard, drop for drop"


def test_a_holdout_outside_zero_to_one_is_refused() -> None:
    spec = dsl.REGISTRY["b2b_drip"]
    with pytest.raises(ValueError, match="holdout"):
        dataclasses.replace(spec, holdout=1.0)
