"""The fake SendGrid used in dev and tests posts signed event batches that the webhook accepts and routes.

A drop goes out through the real SendGrid sender to the fake; the fake then posts the events SendGrid would
(delivered, an Apple machine open, a click), signed with its own key, and the journey hears the click.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import SecretStr
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import sendgrid_args, workflow_ids
from nurture.fakes.sendgrid import FakeSendGrid
from tests.api.test_journeys_hear_events import journey_stack, wait_for_step
from tests.fixtures.api import AUTH
from workflows.payloads import JourneyResult


async def test_signed_batches_from_the_fake_sendgrid_move_the_journey(
    dev_server_env: WorkflowEnvironment, sqlite_engine: Engine, task_queue: str
) -> None:
    with FakeSendGrid() as fake:
        sendgrid = {"sendgrid_api_key": SecretStr(fake.api_key), "sendgrid_host": fake.url}
        key = fake.signer.private_key
        async with journey_stack(
            dev_server_env.client, sqlite_engine, task_queue, key, fake.public_key_b64, **sendgrid
        ) as api:
            fake.webhook_url = api.url + "/webhooks/sendgrid"
            opted_in = await api.http.post(
                "/contacts",
                json={"email": "cfo@acme.example", "persona": "finance-lead", "consent": {"source": "x"}},
                headers=AUTH,
            )
            cid = opted_in.json()["contact_id"]
            handle = dev_server_env.client.get_workflow_handle(
                workflow_ids.journey_workflow_id("b2b_drip", cid), result_type=JourneyResult
            )
            await wait_for_step(handle, "page_view(/pricing*) or clicked")
            [message] = fake.messages
            assert message.custom_args[sendgrid_args.CUSTOM_ARG_CONTACT] == str(cid)  # events route back by these ids
            events: list[dict[str, Any]] = [
                *fake.events(message, "processed", "delivered"),
                *fake.events(message, "open", machine_open=True),
                *fake.events(message, "click", url="https://ledgerline.example/guide"),
            ]

            response = await asyncio.to_thread(fake.post_events, events)

            assert response.status_code == 200, response.text
            assert response.json()["stored"] == 4
            heard = await wait_for_step(handle, "heard clicked")
            assert heard.why == "https://ledgerline.example/guide"
            assert api.count(kind="opened", machine=True) == 1
