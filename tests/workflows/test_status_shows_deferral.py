"""A drop the claim holds back shows in `status` as the decision with the claim's reason, naming the rule."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows import dsl
from workflows.payloads import JourneyStatus, SendDropInput, SendDropResult

KEY = "tests_deferral_status"
CAPPED = "company cap 1 per 3 days reached in UTC; next allowed at later"


class CapsOnce(Recorder):
    """The first claim is held back by a cap (as `activities.caps.gate` words it); later ones go."""

    def activities(self) -> list[object]:
        rest = [a for a in super().activities() if getattr(a, "__name__", "") != "send_drop"]
        rec = self

        @activity.defn(name=temporal_names.ACTIVITY_SEND_DROP)
        async def send_drop(inp: SendDropInput) -> SendDropResult:
            if not rec.sends and not getattr(rec, "held", False):
                rec.held = True  # type: ignore[attr-defined]
                return SendDropResult(status="deferred", deferred_until=inp.now + timedelta(days=2), detail=CAPPED)
            rec.sends.append(inp)
            return SendDropResult(status="sent", touch_id=len(rec.sends), message_id=f"msg-{len(rec.sends)}")

        return [send_drop, *rest]


async def one_drop(j: dsl.Journey) -> None:
    await j.drop()
    await j.sleep(timedelta(days=30), "rest")


async def test_a_deferred_drop_shows_its_decision_and_the_rule(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, CapsOnce()
    catalog = dsl.Catalog((dsl.ContentItem(id="tds-1", subject="s", body="b"),))
    dsl.journey(KEY, catalog=catalog, threshold=100, send_window=None)(one_drop)  # this test's only
    try:
        async with running_worker(env, task_queue, sqlite_engine, rec):
            handle = await start_journey(env, task_queue, KEY, 622, persona="general")
            await env.sleep(timedelta(days=1))
            held = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
            assert held.last_decision == "deferred tds-1"
            assert held.why == CAPPED  # the cap, not "minimum gap"
            assert held.drops_sent == 0
            await env.sleep(timedelta(days=2))
            sent = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
            assert sent.drops_sent == 1 and sent.last_decision.startswith("sent tds-1")
    finally:
        dsl.REGISTRY.pop(KEY, None)
        dsl.CATALOGS.pop(KEY, None)
