"""Ctrl-C (SIGINT to the foreground process group) and SIGTERM stop `nurture dev` within seconds, and the
Temporal dev server it started goes with it: no process is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.devproc import alive, children, cmdline, dev_env, in_group, start_dev, wait_for_api

STOP_WITHIN_SECONDS = 25  # a few seconds on an idle machine; generous for a loaded CI box


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "to_group"),
    [pytest.param(signal.SIGINT, True, id="ctrl-c"), pytest.param(signal.SIGTERM, False, id="sigterm")],
)
def test_a_signal_stops_nurture_dev_and_its_temporal_server(tmp_path: Path, signum: int, to_group: bool) -> None:
    env = dev_env(tmp_path)
    proc = start_dev(tmp_path, env, "--no-demo")
    try:
        wait_for_api(proc, int(env["NURTURE_API_PORT"]), tmp_path)
        servers = [pid for pid in children(proc.pid) if "temporal" in cmdline(pid) and "start-dev" in cmdline(pid)]
        assert len(servers) == 1, "nurture dev started its own Temporal dev server"
        [server] = servers
        if to_group:
            os.killpg(proc.pid, signum)  # what a terminal does on Ctrl-C
        else:
            proc.send_signal(signum)
        started = time.monotonic()
        code = proc.wait(timeout=STOP_WITHIN_SECONDS)
        took = time.monotonic() - started
    except subprocess.TimeoutExpired:
        pytest.fail(f"nurture dev still running {STOP_WITHIN_SECONDS} s after {signal.Signals(signum).name}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()  # reaped: a leaked Popen fails a later test at its collection
    log = (tmp_path / "dev.log").read_text()
    assert code == 128 + signum, log[-3000:]
    assert not alive(server), f"the Temporal dev server (pid {server}) outlived nurture dev"
    deadline = time.monotonic() + 5
    while in_group(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert in_group(server) == [], "nothing the dev server started is left"
    assert "shutdown.requested" in log
    print(f"{signal.Signals(signum).name}: stopped in {took:.1f} s")
