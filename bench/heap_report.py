"""Where a bench worker's memory is: Python's heap, the C heap in use and the C heap glibc holds free.

RSS alone cannot say why a worker grew. A worker process started with `HEAP_REPORT` set to a file path writes one
JSON line to it every `REPORT_SECONDS` (`start_reports`), and `bench.worker_memory` reads the last one at each
reading (`last_report`):

- `python_blocks`: live objects in Python's small-object allocator (`sys.getallocatedblocks()`);
- `gc_collected`: objects found unreachable in reference cycles by Python's full (oldest-generation) collections
  so far, and `gc_full_runs` how many ran. An evicted run's objects are in cycles (the SDK's workflow instance
  holds bound methods of itself), so they wait for the next full collection, which CPython runs only once the
  objects that survived earlier collections have grown by a quarter since the last one;
- `malloc_used_kb` / `malloc_free_kb`: glibc's `mallinfo2()` over all arenas, where the SDK core (Rust) and
  Python's larger objects live: bytes in use, and bytes freed but held (not returned to the system). A heap whose
  in-use part is flat while its free part grows is fragmenting, not leaking. Absent on another libc, and
  meaningless under a preloaded allocator (`LD_PRELOAD` jemalloc: glibc's arenas are then near empty).

SIGUSR1 asks the worker for a full collection now and a report right after it (`collected: 1`, `collect_and_report`):
what it frees is garbage that was waiting for the collector, and what stays is live or held by the allocator.

`HEAP_COLLECT_SECONDS` (optional) makes every bench worker (reported or not) run a full collection that often: a
probe that shows how much of a reading is garbage waiting for the collector. A measuring knob, not a product setting.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPORT_SECONDS = 2.0
REPORT_ENV = "HEAP_REPORT"
COLLECT_ENV = "HEAP_COLLECT_SECONDS"


_MALLINFO2_FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (*_MALLINFO2_FIELDS, "keepcost")]


def _mallinfo() -> Any:
    """glibc's mallinfo2 (2.33+), or None where there is none (musl, macOS) or another allocator is preloaded."""
    name = ctypes.util.find_library("c")
    if not name or os.environ.get("LD_PRELOAD"):
        return None
    try:
        fn = ctypes.CDLL(name).mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _MallInfo2
    return fn


def proc_status(pid: int | str, field: str) -> int:
    """One number from `/proc/<pid>/status` (`VmRSS` in kB, `Threads`); `pid` "self" for this process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def snapshot(mallinfo: Any) -> dict[str, int]:
    full = gc.get_stats()[-1]
    row = {
        "rss_kb": proc_status("self", "VmRSS"),
        "python_blocks": sys.getallocatedblocks(),
        "gc_full_runs": int(full["collections"]),
        "gc_collected": int(full["collected"]),
    }
    if mallinfo is not None:
        info = mallinfo()
        row["malloc_used_kb"] = (info.uordblks + info.hblkhd) // 1024
        row["malloc_free_kb"] = info.fordblks // 1024
    return row


def start_reports() -> None:
    """In a worker process: run the collection probe when `$HEAP_COLLECT_SECONDS` is set, and report to
    `$HEAP_REPORT` from a daemon thread when that is (nothing when neither is)."""
    collect_every = float(os.environ.get(COLLECT_ENV) or 0)
    if collect_every > 0:  # the probe applies to every bench worker, reported or not (the floor's twin too)

        def collect() -> None:
            while True:
                time.sleep(collect_every)
                gc.collect()

        threading.Thread(target=collect, name="heap-collect", daemon=True).start()
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    mallinfo = _mallinfo()
    asked = threading.Event()

    def report() -> None:
        with open(path, "a", encoding="utf-8") as out:
            while True:
                collected = asked.is_set()
                if collected:
                    asked.clear()  # before collecting: a request made during the collection gets one of its own
                    gc.collect()
                out.write(json.dumps({**snapshot(mallinfo), "collected": int(collected)}) + "\n")
                out.flush()
                asked.wait(REPORT_SECONDS)

    signal.signal(signal.SIGUSR1, lambda *_: asked.set())  # the handler runs on the main thread: only a flag
    threading.Thread(target=report, name="heap-report", daemon=True).start()


def report_path(home: Path, worker: int) -> Path:
    return home / f"heap-{worker}.jsonl"


def _rows(lines: list[str]) -> list[dict[str, int]]:
    rows = []
    for line in lines:
        try:
            rows.append(dict(json.loads(line)))
        except ValueError:
            continue  # a line being written
    return rows


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def last_report(path: Path) -> dict[str, int]:
    """The newest complete line of a worker's report ({} before the first)."""
    rows = _rows(_lines(path))
    return rows[-1] if rows else {}


def collect_and_report(pid: int, path: Path) -> dict[str, int]:
    """Ask worker `pid` for a full collection (SIGUSR1) and return the report written after it ({} if none came
    within 30 s)."""
    before = len(_lines(path))
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.2)
        collected = [row for row in _rows(_lines(path)[before:]) if row.get("collected")]
        if collected:
            return collected[0]
    return {}


def describe(row: dict[str, int], base: dict[str, int] | None = None) -> str:
    """One reading, and its change from `base` when given: Python blocks (thousands), C heap in use / free (MB)."""

    def part(key: str, scale: float, unit: str) -> str:
        value = row[key] / scale
        delta = f" ({(row[key] - base[key]) / scale:+.1f})" if base and key in base else ""
        return f"{value:.1f}{unit}{delta}"

    parts = [("Python blocks", "python_blocks", 1000, "k"), ("C heap in use", "malloc_used_kb", 1024, " MB")]
    parts.append(("free", "malloc_free_kb", 1024, " MB"))
    bits = [f"{label} {part(key, scale, unit)}" for label, key, scale, unit in parts if key in row]
    return ", ".join([*bits, f"{row.get('gc_full_runs', 0)} full collections"])
