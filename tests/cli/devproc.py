"""`nurture dev` as a user runs it: a subprocess in its own home directory and process group, on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dev_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "NURTURE_HOME": str(home / ".nurture"),
        "NURTURE_TEMPORAL_UI_PORT": str(free_port()),
        "NURTURE_TEMPORAL_DEV_PORT": str(free_port()),
        "NURTURE_API_PORT": str(free_port()),
        "NURTURE_LOG_LEVEL": "INFO",
        **extra,
    }
    for key in ("NURTURE_TEMPORAL_ADDRESS", "NURTURE_DATABASE_URL", "NURTURE_SENDGRID_API_KEY", "NURTURE_API_TOKEN"):
        env.pop(key, None)
    if "NURTURE_PUBLIC_BASE_URL" not in extra:
        env.pop("NURTURE_PUBLIC_BASE_URL", None)
    return env


def start_dev(home: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    with (home / "dev.log").open("wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-c", "from nurture.cli import main; main()", "dev", *args],
            cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_for_api(proc: subprocess.Popen[bytes], port: int, home: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, (home / "dev.log").read_text()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the API did not answer within {seconds} s: {(home / 'dev.log').read_text()[-3000:]}")


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, process group) of a live process, None if it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[1]), int(fields[2])


def _processes() -> dict[int, tuple[int, int]]:
    found = {int(p.name): _stat(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    return {pid: st for pid, st in found.items() if st is not None}


def children(pid: int) -> list[int]:
    return [child for child, (parent, _) in _processes().items() if parent == pid]


def alive(pid: int) -> bool:
    return _stat(pid) is not None


def in_group(pgid: int) -> list[int]:
    return [pid for pid, (_, group) in _processes().items() if group == pgid]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
