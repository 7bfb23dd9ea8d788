"""`nurture dev`, the README's main command, end to end: the Temporal UI is served, and within the demo's first
half-minute (half a second per journey day) the cast show drops, events answered by waits, a readiness check and
a handoff, an anonymous history stitched on opt-in, and a one-click unsubscribe that ends a journey."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import Session, create_engine, select

from nurture.db import Contact, Event, Handoff, Touch
from tests.console.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nurture_dev_serves_the_ui_and_plays_the_demo(tmp_path: Path) -> None:
    ui_port, api_port, temporal_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "NURTURE_HOME": str(tmp_path / ".nurture"),
        "NURTURE_TEMPORAL_UI_PORT": str(ui_port),
        "NURTURE_TEMPORAL_DEV_PORT": str(temporal_port),
        "NURTURE_API_PORT": str(api_port),
        "NURTURE_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",  # the log is read while the process runs
    }
    # no NURTURE_PUBLIC_BASE_URL: the demo's links must follow NURTURE_API_PORT on their own
    for key in (
        "NURTURE_TEMPORAL_ADDRESS",
        "NURTURE_DATABASE_URL",
        "NURTURE_SENDGRID_API_KEY",
        "NURTURE_API_TOKEN",
        "NURTURE_PUBLIC_BASE_URL",
    ):
        env.pop(key, None)
    out = (tmp_path / "dev.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from nurture.cli import main; main()", "dev", "--day-seconds=0.5", "--exit-after=30"],
        cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        ui_seen = False
        # The UI stays up for --exit-after seconds once the servers are up; start-up itself can take tens of
        # seconds on two busy cores, so the wait is bounded by the process ending rather than a short clock.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not ui_seen and proc.poll() is None:
            try:
                ui_seen = httpx.get(f"http://127.0.0.1:{ui_port}/", timeout=2).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.5)
        assert ui_seen, "the Temporal Web UI answers on its port"
        signed_in = asyncio.run(_sign_in_as_printed(tmp_path / "dev.log", api_port))
        assert signed_in.status_code == 303, "the console user the welcome prints can sign in"
        assert proc.wait(timeout=90) == 0, (tmp_path / "dev.log").read_text()[-3000:]
    finally:
        if proc.poll() is None:  # a failed wait: stop it and its Temporal server, and reap it
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.close()
    log = (tmp_path / "dev.log").read_text()
    assert "Temporal UI" in log
    engine = create_engine(f"sqlite:///{tmp_path / '.nurture' / 'nurture.db'}")
    with Session(engine) as session:
        people = {c.first_name: c for c in session.exec(select(Contact)).all()}
        assert set(people) == {"Ada", "Grace", "Sam", "Lin"}
        ada, lin = people["Ada"], people["Lin"]
        touches = session.exec(select(Touch)).all()
        assert len([t for t in touches if t.contact_id == ada.id]) >= 2, "Ada got her drops"
        events = session.exec(select(Event).where(Event.contact_id == ada.id)).all()
        kinds = {e.kind for e in events}
        assert any(e.anonymous_id == "anon-ada" and e.url and "/pricing" in e.url for e in events), "stitched"
        assert {"page_view", "opened", "clicked", "delivered"} <= kinds, kinds
        handoffs = session.exec(select(Handoff).where(Handoff.contact_id == ada.id)).all()
        assert handoffs, "a readiness check handed Ada to sales"
        assert handoffs[0].status == "rejected"
        assert handoffs[0].feedback_at is not None
        with_sales = (handoffs[0].feedback_at - handoffs[0].created_at).total_seconds()
        assert with_sales >= 10 * 0.5, "Ada stays with sales long enough to be found by NurturePhase"
        assert lin.status == "suppressed"
        assert [
            t
            for t in touches
            if t.contact_id == lin.id and t.sent_at and lin.suppressed_at and t.sent_at > lin.suppressed_at
        ] == []
    engine.dispose()

    again = subprocess.run(  # the README's command a second time, on the state the first run kept
        [sys.executable, "-c", "from nurture.cli import main; main()", "dev", "--day-seconds=0.5", "--exit-after=2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "The demo played in an earlier run" in again.stdout, again.stdout[-3000:]
    assert "demo.failed" not in again.stdout + again.stderr, "it does not replay a story that already happened"
    engine = create_engine(f"sqlite:///{tmp_path / '.nurture' / 'nurture.db'}")
    with Session(engine) as session:
        after = {c.first_name: c for c in session.exec(select(Contact)).all()}
        assert set(after) == {"Ada", "Grace", "Sam", "Lin"} and after["Lin"].status == "suppressed", "nothing redone"
    engine.dispose()


async def _sign_in_as_printed(log: Path, api_port: int) -> httpx.Response:
    """Sign in to the console with the user and password the welcome printed, once it is printed and the API up."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=10) as http:
        for _ in range(120):
            printed = re.search(r"sign\s+in\s+as\s+(\S+)\s+with\s+(\S+)\)", log.read_text())
            if printed:
                try:
                    return await sign_in(http, printed.group(1), printed.group(2))
                except httpx.TransportError:
                    pass
            await asyncio.sleep(0.5)
    raise AssertionError("no console sign-in printed, or the API did not come up: " + log.read_text()[-2000:])
