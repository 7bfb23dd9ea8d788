"""What the benchmarks share: free ports, a Temporal dev server from the shipped binary, CPU accounting."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
from temporalio.client import Client

from nurture.binaries import temporal_cli
from nurture.temporal import register_search_attributes, search_attribute_flags

PG_ADMIN_URL = os.environ.get("NURTURE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DevServer:
    """A running `temporal server start-dev` with nurture's search attributes."""

    address: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    async def client(self, timeout: float = 30.0) -> Client:
        """A client once the server answers (search attributes registered again: idempotent, closes any race)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"temporal dev server exited with {self.process.returncode}")
            try:
                client = await Client.connect(self.address)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        await register_search_attributes(client)
        return client


@contextlib.contextmanager
def dev_server(state_dir: Path, *, db_file: bool = False, extra_args: Sequence[str] = ()) -> Iterator[DevServer]:
    """Start the shipped dev server (headless, in memory unless `db_file`), logging to `state_dir/server.log`."""
    port = free_port()
    args = [
        temporal_cli(), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
        "--log-level", "error", *search_attribute_flags(), *extra_args,
    ]  # fmt: skip
    if db_file:
        args += ["--db-filename", str(state_dir / "temporal.db")]
    with (state_dir / "server.log").open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield DevServer(f"127.0.0.1:{port}", proc)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Terminate a child process, killing it if it does not leave within `timeout`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of another process (Linux /proc); None where that is not available."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def total_cpu_seconds(pids: Sequence[int]) -> float | None:
    """The sum over `pids`; None if any of them cannot be read."""
    values = [process_cpu_seconds(pid) for pid in pids]
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


@dataclass
class CpuMeter:
    """CPU that named groups of processes (and this one) spend between creation and `per()`."""

    groups: dict[str, list[int]]
    _start: dict[str, float | None] = field(init=False)

    def __post_init__(self) -> None:
        self._start = self._now()

    def _now(self) -> dict[str, float | None]:
        found = {name: total_cpu_seconds(pids) for name, pids in self.groups.items()}
        found["this process"] = time.process_time()
        return found

    def per(self, n: int) -> dict[str, float | None]:
        """Milliseconds of CPU per unit of work (`n` of them), by group."""
        end = self._now()
        return {
            name: None if before is None or end[name] is None else (end[name] - before) * 1000 / n  # type: ignore[operator]
            for name, before in self._start.items()
        }


async def until_quiet(client: Client, workflow_ids: Sequence[str], timeout: float = 600.0) -> None:
    """Until none of these workflows has a workflow task or an activity pending: work they were started with
    is done, so a CPU meter started next charges none of it to what it measures."""
    slots = asyncio.Semaphore(32)

    async def busy(workflow_id: str) -> bool:
        async with slots:
            raw = (await client.get_workflow_handle(workflow_id).describe()).raw_description
        return raw.HasField("pending_workflow_task") or len(raw.pending_activities) > 0

    deadline = time.monotonic() + timeout
    left = list(workflow_ids)
    while left:
        flags = await asyncio.gather(*(busy(w) for w in left))
        left = [w for w, b in zip(left, flags, strict=True) if b]
        if left and time.monotonic() > deadline:
            raise TimeoutError(f"{len(left)} workflows still busy after {timeout:.0f} s")
        if left:
            await asyncio.sleep(0.5)


def fresh_database(backend: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    """A new, empty database for one run (a file in `workdir`, or a PostgreSQL database on `PG_ADMIN_URL`),
    and the function that drops it."""
    if backend == "sqlite":
        path = workdir / f"{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: None
    name = f"nurture_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}", drop


def contact_rows(n: int, prefix: str, topics: list[str], now: datetime) -> list[dict[str, object]]:
    """`n` active, opted-in contact rows for a bench's `INSERT` (emails `{prefix}{i}@example.com`, time zone UTC)."""
    return [
        {
            "email": f"{prefix}{i}@example.com",
            "first_name": f"{prefix.capitalize()}{i}",
            "last_name": "",
            "company": "Bench Ltd",
            "persona": "finance-lead",
            "time_zone": "UTC",
            "topics": list(topics),
            "status": "active",
            "consent_source": "bench",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]
