"""An item the provider refused is never listed as sent (result and status), never retried, and the journey
moves on to the next item."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import ExitRequest, JourneyStatus

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


async def test_a_refused_item_is_reported_refused_not_sent_and_the_next_item_goes_out(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env = time_skipping_env
    probe = Recorder()
    async with running_worker(env, task_queue, sqlite_engine, probe):
        first_handle = await start_journey(env, task_queue, "b2b_drip", 301, **B2B)
        await env.sleep(timedelta(days=4))  # the send window may be a weekend away on the shared test clock
        first_item = probe.sent(301)[0].item_id
        await first_handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        await first_handle.result()

    rec = Recorder(refused={first_item})
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 302, **B2B)
        await env.sleep(timedelta(days=16))  # the refused drop, its two-week wait, the next drop
        status = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        result = await handle.result()

    sent = [s.item_id for s in rec.sent(302)]
    assert first_item not in sent and sent  # refused, then the next item went out
    assert first_item not in status.items_sent and status.items_refused == [first_item]
    assert first_item not in result.items and result.items_refused == [first_item]
    assert result.items == sent
