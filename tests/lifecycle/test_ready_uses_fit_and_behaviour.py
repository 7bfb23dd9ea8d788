"""`j.ready()` on fit and behaviour, in simulated time with the real scoring activity on a real database: a
high-score, poor-fit lead is not handed off; a strong-fit lead with a pricing visit is; both say why."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from activities.scoring import Scorer
from definitions.leads import readiness
from nurture import temporal_names
from tests.lifecycle.helpers import POOR, STRONG, add_contact, add_event
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import JourneyStatus, PageView, ScoreInput, ScoreResult

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


@dataclass
class RealScoring(Recorder):
    """The recorder's fakes, except scoring: the real activity on the test's database."""

    engine: Engine | None = None

    def activities(self) -> list[object]:
        assert self.engine is not None
        scorer, rec = Scorer(self.engine), self

        @activity.defn(name=temporal_names.ACTIVITY_SCORE_CONTACT)
        async def score_contact(inp: ScoreInput) -> ScoreResult:
            rec.scored.append(inp)
            return await asyncio.to_thread(scorer.score, inp)

        fakes = [a for a in super().activities() if getattr(a, "__name__", "") != "score_contact"]
        return [*fakes, score_contact]


async def test_poor_fit_high_score_waits_and_strong_fit_pricing_visit_is_handed_off(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, RealScoring(engine=sqlite_engine)
    async with running_worker(env, task_queue, sqlite_engine, rec):
        with sqlite_engine.begin() as conn:
            poor = add_contact(conn, "poor@example.com", **POOR)
            strong = add_contact(conn, "strong@example.com", **STRONG)
        handles = {cid: await start_journey(env, task_queue, "b2b_drip", cid, **B2B) for cid in (poor, strong)}
        await env.sleep(timedelta(days=3))
        now = await env.get_current_time()
        with sqlite_engine.begin() as conn:
            for n in range(6):  # a busy student: a score far above 45
                add_event(conn, poor, "clicked", now - timedelta(hours=n + 1), f"https://x.example/a{n}")
                add_event(conn, poor, "page_view", now - timedelta(hours=n + 1), f"https://x.example/pricing?{n}")
            add_event(conn, strong, "page_view", now - timedelta(minutes=5), "https://x.example/pricing")
        for cid, handle in handles.items():
            await handle.signal(
                temporal_names.SIGNAL_PAGE_VIEW, PageView(f"pv-{cid}", "https://x.example/pricing", now)
            )
        await env.sleep(timedelta(hours=1))
        statuses = {
            cid: await h.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus) for cid, h in handles.items()
        }
    assert [h.contact_id for h in rec.handoffs] == [strong]
    assert statuses[poor].lead_score > 45 and statuses[poor].last_decision == "not ready yet"
    assert "fit below B" in statuses[poor].why and "not a buyer (role=Student" in statuses[poor].why
    assert statuses[strong].last_decision == "handed to sales"
    assert readiness.READINESS["b2b_drip"].min_grade == "B", "the shipped b2b_drip decides on fit and behaviour"
    assert [s.fit for s in rec.scored] == [True, True], "readiness checks ask for the grade (the patched path)"
