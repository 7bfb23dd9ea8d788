"""The CLI door: `nurture broadcast create / start / status` against a real server and database reaches every
matching running journey once, shows a progress bar, and leaves the audit record; bad input exits 2."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from nurture.db import Broadcast
from nurture.db.engine import session_scope
from tests.broadcasts.rig import Rig, worker
from tests.fixtures.temporal import temporal_environ

ROOT = Path(__file__).resolve().parents[2]


async def nurture(rig: Rig, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        **temporal_environ(rig.client),
        "NURTURE_DATABASE_URL": rig.engine.url.render_as_string(hide_password=False),
        "NURTURE_TASK_QUEUE": rig.settings.task_queue,
        "NURTURE_LOG_LEVEL": "WARNING",
        "USER": "marketer",
        "LOGNAME": "marketer",
        "COLUMNS": "160",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from nurture.cli import main; main()", *args,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_cli_creates_starts_and_follows_a_broadcast_to_every_matching_journey(rig: Rig) -> None:
    relevant = [rig.contact("finance-lead", ["compliance"]) for _ in range(3)]
    other = rig.contact("it-lead", ["security"])
    contacts = [*relevant, other]
    broadcast_id = f"cli-{rig.base}"
    async with worker(rig):
        for cid in contacts:
            await rig.enroll(cid, "b2b_drip")
        await rig.until(lambda: len(rig.sent_touches(contacts)) == 4, what="first drops")
        await asyncio.sleep(0.6)

        code, out = await nurture(rig, "broadcast", "create", "no-such-item", "--journey", "b2b_drip")
        assert code == 2
        assert "unknown content item 'no-such-item'" in out

        audience = [arg for cid in contacts for arg in ("--contact", str(cid))]
        code, out = await nurture(
            rig, "broadcast", "create", "bc-einvoicing-2027", "--journey", "b2b_drip", *audience, "--id", broadcast_id
        )
        assert code == 0, out
        assert f"created broadcast {broadcast_id}" in out
        assert "4 running journeys" in out

        code, out = await nurture(rig, "broadcast", "start", broadcast_id)
        assert code == 0, out
        assert "signalled" in out
        assert "journeys reported" in out  # the progress bar's second line
        assert "completed" in out
        assert "skipped      1: no shared topic (compliance)" in out

        code, out = await nurture(rig, "broadcast", "status", broadcast_id, "--json")
        assert code == 0, out
        status = json.loads(out)
        assert (status["state"], status["signalled"], status["acted"], status["skipped"]) == ("completed", 4, 3, 1)

    assert {c for c, (outcome, _) in rig.deliveries(broadcast_id).items() if outcome == "dropped"} == set(relevant)
    touches = rig.sent_touches(broadcast_id=broadcast_id)
    assert sorted(t.contact_id for t in touches) == sorted(relevant)  # once each
    with session_scope(rig.engine) as s:
        row = s.get(Broadcast, broadcast_id)
        assert row is not None
        assert (row.created_by, row.counts["started_by"], row.state) == ("cli:marketer", "cli:marketer", "completed")
