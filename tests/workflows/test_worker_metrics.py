"""The worker's `/metrics` (Temporal SDK runtime telemetry), scraped over real HTTP while a real worker runs a
journey on the time-skipping server: the SDK's own `temporal_` series and nurture's drops and handoffs by journey."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from nurture.config import Settings
from nurture.worker_metrics import telemetry_runtime
from tests.fixtures.api import free_port
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import start_journey
from workers.journey_worker import build_worker
from workflows.payloads import PageView

SDK_LABELS = {"service_name", "namespace", "task_queue", "workflow_type"}  # added to every series by the SDK
B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


@contextlib.asynccontextmanager
async def _metered_worker(
    env: WorkflowEnvironment, task_queue: str, engine: Engine, rec: Recorder, address: str
) -> AsyncIterator[None]:
    """A worker whose client reports through a telemetry runtime; the env's client drives time."""
    target = env.client.service_client.config.target_host
    client = await Client.connect(target, namespace=env.client.namespace, runtime=telemetry_runtime(address))
    async with build_worker(client, Settings(), engine, activities=rec.activities(), task_queue=task_queue):
        yield


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset((k, v) for k, v in s.labels.items() if k not in SDK_LABELS)): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_worker_metrics_show_sdk_series_and_drops_and_handoffs_by_journey(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[60.0])
    address = f"127.0.0.1:{free_port()}"
    async with _metered_worker(env, task_queue, sqlite_engine, rec, address):
        handle = await start_journey(env, task_queue, "b2b_drip", 7101, **B2B)
        await env.sleep(timedelta(days=3))
        assert len(rec.sent(7101)) == 1
        now = await env.get_current_time()
        view = PageView("pv-metrics", "https://ledgerline.example/pricing/teams", now)
        await handle.signal(temporal_names.SIGNAL_PAGE_VIEW, view)
        await env.sleep(timedelta(hours=1))
        assert len(rec.handoffs) == 1
        async with httpx.AsyncClient() as http:
            scraped = await http.get(f"http://{address}/metrics")
        await handle.terminate("test over")

    assert scraped.status_code == 200
    s = _samples(scraped.text)
    names = {name for name, _ in s}
    assert any(n.startswith("temporal_workflow_completed") or n.startswith("temporal_request") for n in names)
    assert any(n.startswith("temporal_activity_execution_latency") for n in names), sorted(names)[:40]
    assert not any(n.startswith("temporal_nurture") for n in names)  # the SDK's prefix is not put on ours
    drops = {labels: v for (name, labels), v in s.items() if name == "nurture_drops_total"}
    sent = frozenset({("journey", "b2b_drip"), ("outcome", "sent")})
    assert drops.get(sent) == 1, drops
    assert s[("nurture_handoffs_total", frozenset({("journey", "b2b_drip")}))] == 1
    dashboard = (Path(__file__).parents[2] / "docs" / "grafana" / "nurture.json").read_text()
    charted = set(re.findall(r"\b(temporal_\w+|nurture_(?:drops|handoffs)\w*)", dashboard))
    assert charted and charted <= names, charted - names  # the Grafana dashboard charts series that exist
    assert "7101" not in "".join(f"{n}{sorted(lab)}" for n, lab in s if n.startswith("nurture_"))
