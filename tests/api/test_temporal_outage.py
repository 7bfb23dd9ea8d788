"""With Temporal down, events are accepted and kept in the outbox; once it is back they reach the journey in order.

A real Temporal dev server (a subprocess on a db file) is stopped and restarted on the same port and file.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client

from nurture import temporal_names, workflow_ids
from nurture.binaries import temporal_cli
from nurture.temporal import register_search_attributes, search_attribute_flags
from tests.api.payloads import event
from tests.api.test_journeys_hear_events import journey_stack, wait_closed, wait_for_step
from tests.fixtures.api import AUTH, free_port
from workflows.payloads import JourneyResult

pytestmark = pytest.mark.devserver


class DevServer:
    """`temporal server start-dev` on a fixed port and db file, so it can be stopped and started again."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        args = [
            temporal_cli(), "server", "start-dev", "--headless", "--log-level", "error",
            "--ip", "127.0.0.1", "--port", str(self.port), "--db-filename", str(self.db),
            "--http-port", str(free_port()), "--metrics-port", str(free_port()),
            *search_attribute_flags(),
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: ASYNC220
        for _ in range(600):
            with contextlib.suppress(RuntimeError):
                client = await Client.connect(self.address)
                await register_search_attributes(client)
                return
            await asyncio.sleep(0.1)
        self.stop()
        raise RuntimeError("temporal dev server did not start")

    def stop(self) -> None:
        """Stop the server and reap it (killed if it does not stop within 20 s on busy cores)."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@contextlib.asynccontextmanager
async def dev_server(db: Path) -> AsyncIterator[DevServer]:
    server = DevServer(db)
    await server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_events_accepted_while_temporal_is_down_reach_the_journey_in_order_once_it_is_back(
    tmp_path: Path, sqlite_engine: Engine, task_queue: str, webhook_key: tuple[Any, str]
) -> None:
    engine = sqlite_engine
    async with dev_server(tmp_path / "temporal.db") as temporal:
        client = await Client.connect(temporal.address)
        async with journey_stack(client, engine, task_queue, *webhook_key) as api:
            opted_in = await api.http.post(
                "/contacts",
                json={"email": "ops@acme.example", "persona": "finance-lead", "consent": {"source": "x"}},
                headers=AUTH,
            )
            cid = opted_in.json()["contact_id"]
            handle = client.get_workflow_handle(
                workflow_ids.journey_workflow_id("b2b_drip", cid), result_type=JourneyResult
            )
            await wait_for_step(handle, "page_view(/pricing*) or clicked", within=30)

            temporal.stop()
            click = await api.post_events([event("click", cid, message="m1")])
            unsubscribe = await api.post_events([event("unsubscribe", cid, message="m1")])
            assert click.status_code == unsubscribe.status_code == 200  # accepted while Temporal is down
            await asyncio.sleep(1.0)  # the relay is trying: the SDK retries the refused signal for ~10 s
            pending = [row.signal for row in api.outbox(delivered_at=None)]
            assert pending == [temporal_names.SIGNAL_ENGAGEMENT, temporal_names.SIGNAL_EXIT]

            await temporal.start()
            # generous bounds: a loaded CI machine restarts the server and reconnects the worker slowly
            await api.until(lambda: not api.outbox(delivered_at=None), within=60, what="the outbox to drain")
            await wait_closed(handle, within=60)
            assert (await handle.result()).outcome == "unsubscribe"
            signals = [
                e.workflow_execution_signaled_event_attributes.signal_name
                async for e in handle.fetch_history_events()
                if e.HasField("workflow_execution_signaled_event_attributes")
            ]
            assert signals == [temporal_names.SIGNAL_ENGAGEMENT, temporal_names.SIGNAL_EXIT]  # nothing lost, in order
