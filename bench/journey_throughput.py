"""Journey throughput: nurture's JourneyWorkflow against the same steps written as a bare Temporal workflow.

What it measures
    Each round sends N contacts through one compressed-time journey: `DROPS` drops, each followed by a wait for a
    click (no signals are sent, so it times out) and a short rest, then one readiness check. Two sides run it:

    - nurture: the real `JourneyWorkflow` + `JourneyRuntime` running the storyboard registered below, started the
      way `nurture.journey_client.enroll` starts journeys (initial search attributes, static summary);
    - bare: the same steps hand-written as a plain temporalio workflow (`execute_activity`, `wait_condition` with a
      timeout, `workflow.sleep`) sending the same activity payloads.

    Activities are no-ops registered under the real activity names (as in tests/workflows/fakes.py), so the numbers
    are orchestration (SDK, sandbox, runtime, server), not I/O. Both sides share one Temporal dev server started
    here from the shipped binary, one Python worker per side is built with the same settings
    (`workers.journey_worker`), and the sides alternate (bare, nurture, nurture, bare, ...) after a warm-up so that
    drift and other load on the machine hit both; each side's median round counts. The concurrency keeps the
    worker saturated: a round's wall time is orchestration capacity, not the journey's (compressed) waits.

    The dev server runs with two deliberate changes (see `SERVER_TUNING` and `default_state_dir`): its SQLite file
    lives on tmpfs when there is one (on disk, fsyncs cap both sides at ~3-4 journeys/s and hide orchestration),
    and its timer queue fires sub-second timers on time (by default timers shift by up to 1 s and the timer reader
    is throttled to 20 polls/s, which stalls bursts of timers for seconds at random).

How to read the output
    One line per round (journeys/s; CPU milliseconds per journey of this process, i.e. client + worker, and of the
    server). Then per side: the median journeys/s and the ratio nurture / bare (1.00 = no overhead); CPU per
    journey, which other load on a shared machine disturbs far less than wall time, and the ratio it implies;
    history events per drop over a sample of each side's last round (every run, continue-as-new included), by
    event type, marking the types nurture has more of. The last lines say whether the targets are met
    (issue 12: ratio >= 0.9 by wall clock and by CPU; events per drop <= bare). Numbers hold for this machine
    and run only; nothing asserts them.

Run: `.venv/bin/python -m bench.journey_throughput [--n 200] [--concurrency 50] [--rounds 2]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

with workflow.unsafe.imports_passed_through():
    from sqlalchemy import create_engine

    from bench.harness import dev_server, process_cpu_seconds
    from nurture import temporal_names, workflow_ids
    from nurture.config import Settings
    from nurture.journey_client import initial_search_attributes
    from workers.journey_worker import build_worker
    from workflows import dsl
    from workflows.dsl import EMAIL_CLICKED, Catalog, ContentItem, Journey, days
    from workflows.payloads import (
        RUNTIME_VERSION,
        BroadcastOutcomeInput,
        EngagementEvent,
        HandoffInput,
        HandoffResult,
        JourneyEndInput,
        JourneyInput,
        JourneyResult,
        SalesFeedbackInput,
        ScoreContribution,
        ScoreInput,
        ScoreResult,
        SendDropInput,
        SendDropResult,
    )
    from workflows.retry import QUICK_RETRY, SEND_RETRY

# ---- the journey, in journey time ---------------------------------------------------------------------------

BENCH_JOURNEY = "bench_throughput"
BARE_WORKFLOW = "BareJourneyWorkflow"
DROPS = 4
CLICK_WAIT = days(3)
REST = days(1)
DAY_REAL_SECONDS = 0.02  # one journey day lasts 20 ms: a journey's waits add up to 0.32 s of wall time
TIME_SCALE = timedelta(days=1).total_seconds() / DAY_REAL_SECONDS

CATALOG = Catalog(
    tuple(
        ContentItem(id=f"bench-drop-{n}", subject=f"Benchmark drop {n}", body=f"Hi $first_name, this is drop {n}.")
        for n in range(1, DROPS + 1)
    )
)


async def bench_storyboard(j: Journey) -> None:
    """Benchmark journey: drops, each followed by a wait for a click and a rest; one readiness check."""
    for _ in range(DROPS):
        await j.drop()
        if await j.wait_for(EMAIL_CLICKED, timeout=CLICK_WAIT) is None:
            await j.sleep(REST, "rest after a quiet wait")
    await j.ready("benchmark readiness check")


# `python -m` runs this file twice (as __main__, then imported by name: see the end), and `workflows.dsl` keeps one
# registry for the process: register once. The threshold is out of reach, so the journey never hands off.
if BENCH_JOURNEY not in dsl.REGISTRY:
    dsl.journey(BENCH_JOURNEY, catalog=CATALOG, threshold=1000, send_window=None)(bench_storyboard)


# ---- the same steps as a bare temporalio workflow -----------------------------------------------------------


@dataclass(frozen=True)
class BareJourneyInput:
    contact_id: int
    drops: int
    click_wait_seconds: float  # already compressed: wall-clock seconds
    rest_seconds: float


@workflow.defn(name=BARE_WORKFLOW)
class BareJourneyWorkflow:
    """What an engineer would write by hand for `bench_storyboard`. Returns the number of drops sent."""

    def __init__(self) -> None:
        self._clicked = False

    @workflow.run
    async def run(self, inp: BareJourneyInput) -> int:
        workflow_id = workflow.info().workflow_id
        sent = 0
        for n in range(1, inp.drops + 1):
            drop = SendDropInput(
                inp.contact_id, BENCH_JOURNEY, workflow_id, f"bench-drop-{n}", f"drop {n}", "", workflow.now(), 0.0
            )
            result = await workflow.execute_activity(
                temporal_names.ACTIVITY_SEND_DROP,
                drop,
                result_type=SendDropResult,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=SEND_RETRY,
            )
            sent += result.status == "sent"
            try:
                await workflow.wait_condition(lambda: self._clicked, timeout=inp.click_wait_seconds)
            except TimeoutError:
                await workflow.sleep(inp.rest_seconds)
            self._clicked = False
        await workflow.execute_activity(
            temporal_names.ACTIVITY_SCORE_CONTACT,
            ScoreInput(inp.contact_id, BENCH_JOURNEY, workflow.now()),
            result_type=ScoreResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=QUICK_RETRY,
        )
        return sent

    @workflow.signal(name=temporal_names.SIGNAL_ENGAGEMENT)
    def record_engagement(self, event: EngagementEvent) -> None:
        self._clicked = self._clicked or event.kind == "clicked"


# ---- no-op activities under the real names ------------------------------------------------------------------


@activity.defn(name=temporal_names.ACTIVITY_SEND_DROP)
async def send_drop(inp: SendDropInput) -> SendDropResult:
    return SendDropResult(status="sent", touch_id=1, message_id="noop")


@activity.defn(name=temporal_names.ACTIVITY_SCORE_CONTACT)
async def score_contact(inp: ScoreInput) -> ScoreResult:
    return ScoreResult(score=0.0, stage="awareness", top=[ScoreContribution("clicked", 0.0, 0)])


@activity.defn(name=temporal_names.ACTIVITY_HAND_OFF)
async def hand_off_to_sales(inp: HandoffInput) -> HandoffResult:
    raise NotImplementedError("the benchmark journey never hands off")


@activity.defn(name=temporal_names.ACTIVITY_RECORD_SALES_FEEDBACK)
async def record_sales_feedback(inp: SalesFeedbackInput) -> None:
    return None


@activity.defn(name=temporal_names.ACTIVITY_END_JOURNEY)
async def end_journey(inp: JourneyEndInput) -> None:
    return None


@activity.defn(name=temporal_names.ACTIVITY_RECORD_BROADCAST_OUTCOME)
async def record_broadcast_outcome(inp: BroadcastOutcomeInput) -> None:
    return None


NOOP_ACTIVITIES: list[Callable[..., Awaitable[object]]] = [
    send_drop,
    score_contact,
    hand_off_to_sales,
    record_sales_feedback,
    end_journey,
    record_broadcast_outcome,
]

# ---- one journey per side -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    workflow_id: str
    first_run_id: str
    drops: int


async def run_nurture(client: Client, task_queue: str, contact_id: int) -> Finished:
    """Start like `nurture.journey_client.enroll` does (search attributes, summary) and wait for the result."""
    inp = JourneyInput(
        journey=BENCH_JOURNEY, contact_id=contact_id, time_scale=TIME_SCALE, runtime_version=RUNTIME_VERSION
    )  # as `nurture.journey_client.journey_input` builds it
    handle = await client.start_workflow(
        temporal_names.JOURNEY_WORKFLOW,
        inp,
        id=workflow_ids.journey_workflow_id(BENCH_JOURNEY, contact_id),
        task_queue=task_queue,
        search_attributes=initial_search_attributes(inp),
        static_summary=f"{BENCH_JOURNEY} for contact {contact_id}",
        result_type=JourneyResult,
    )
    result = await handle.result()
    return Finished(handle.id, handle.first_execution_run_id or "", result.drops_sent)


async def run_bare(client: Client, task_queue: str, contact_id: int) -> Finished:
    inp = BareJourneyInput(
        contact_id,
        DROPS,
        click_wait_seconds=CLICK_WAIT.total_seconds() / TIME_SCALE,
        rest_seconds=REST.total_seconds() / TIME_SCALE,
    )
    handle = await client.start_workflow(
        BareJourneyWorkflow.run, inp, id=f"bench-bare/contact-{contact_id}", task_queue=task_queue
    )
    drops = await handle.result()
    return Finished(handle.id, handle.first_execution_run_id or "", drops)


@dataclass(frozen=True)
class Side:
    name: str
    task_queue: str
    run_one: Callable[[Client, str, int], Awaitable[Finished]]


# ---- rounds and CPU -----------------------------------------------------------------------------------------

ROUND_TIMEOUT_SECONDS = 300  # a stuck journey (say, an activity failing and retrying) ends the run, not hangs it


@dataclass(frozen=True)
class Round:
    side: str
    index: int
    seconds: float
    finished: list[Finished]
    own_cpu_ms: float  # per journey: this process (client + worker)
    server_cpu_ms: float | None  # per journey: the dev server

    @property
    def rate(self) -> float:
        return len(self.finished) / self.seconds


async def run_round(
    client: Client, side: Side, index: int, n: int, concurrency: int, first_contact: int, server_pid: int
) -> Round:
    """N journeys, at most `concurrency` in flight; wall time from the first start to the last result."""
    gate = asyncio.Semaphore(concurrency)

    async def one(contact_id: int) -> Finished:
        async with gate:
            return await side.run_one(client, side.task_queue, contact_id)

    server_before, own_before, started = process_cpu_seconds(server_pid), time.process_time(), time.perf_counter()
    try:
        async with asyncio.timeout(ROUND_TIMEOUT_SECONDS):
            finished = await asyncio.gather(*(one(first_contact + i) for i in range(n)))
    except TimeoutError:
        raise RuntimeError(
            f"{side.name} round {index} did not finish in {ROUND_TIMEOUT_SECONDS} s: a workflow task failing over and"
            " over (see the worker's log above) or an activity retrying forever"
        ) from None
    seconds, own = time.perf_counter() - started, time.process_time() - own_before
    server_after = process_cpu_seconds(server_pid)
    server = None if server_before is None or server_after is None else server_after - server_before
    server_ms = None if server is None else server / n * 1000
    return Round(side.name, index, seconds, list(finished), own / n * 1000, server_ms)


# ---- histories ----------------------------------------------------------------------------------------------


@dataclass
class HistoryStats:
    journeys: int = 0
    runs: int = 0
    drops: int = 0
    events: int = 0
    size: int = 0  # serialized bytes of every event
    by_type: Counter[str] = field(default_factory=Counter)

    def per_drop(self, count: int) -> float:
        return count / self.drops if self.drops else float("nan")


async def history_stats(client: Client, sample: list[Finished]) -> HistoryStats:
    """Count events over every run of each sampled journey (following continue-as-new)."""
    stats = HistoryStats()
    for done in sample:
        stats.journeys += 1
        stats.drops += done.drops
        run_id: str | None = done.first_run_id
        while run_id:
            history = await client.get_workflow_handle(done.workflow_id, run_id=run_id).fetch_history()
            stats.runs += 1
            run_id = None
            for event in history.events:
                stats.events += 1
                stats.size += event.ByteSize()
                stats.by_type[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()] += 1
                if event.HasField("workflow_execution_continued_as_new_event_attributes"):
                    run_id = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return stats


# ---- the server and the workers -----------------------------------------------------------------------------

# Timers shift by up to 1 s by default (a 60 ms wait takes a second) and the timer reader is throttled to 20
# polls/s, which stalls bursts of timers by several seconds at random: fire compressed timers on time instead.
SERVER_TUNING = [
    "--dynamic-config-value", 'history.timerProcessorMaxTimeShift="10ms"',
    "--dynamic-config-value", "history.timerProcessorMaxPollRPS=10000",
    "--dynamic-config-value", "history.timerProcessorMaxPollHostRPS=10000",
]  # fmt: skip


def default_state_dir() -> Path | None:
    """tmpfs when there is one: on disk, the server's SQLite fsyncs dominate every number."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


def bare_worker(nurture_worker: Worker, task_queue: str) -> Worker:
    """A worker configured exactly like nurture's (`build_worker`: sandbox, executor, slots, pollers), bare workflow.

    This module is passed through the sandbox as well: the sandbox would otherwise re-run all of it (driver
    included) for every bare workflow, a cost a small hand-written workflow module does not have. Nurture's worker
    re-imports its workflow modules for every run, as in production: that cost is nurture's.
    """
    config = nurture_worker.config()
    runner = config.get("workflow_runner")
    if not isinstance(runner, SandboxedWorkflowRunner):
        raise TypeError(f"build_worker's runner is {runner!r}; this benchmark expects the sandbox")
    config["task_queue"] = task_queue
    config["workflows"] = [BareJourneyWorkflow]
    config["activities"] = NOOP_ACTIVITIES
    config["workflow_runner"] = replace(runner, restrictions=runner.restrictions.with_passthrough_modules(__name__))
    return Worker(**config)


# ---- the benchmark ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    n: int
    concurrency: int
    rounds: int
    warmup: int
    sample: int
    state_dir: Path | None


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.journey_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="journeys per round and side (default 200)")
    parser.add_argument("--concurrency", type=int, default=50, help="journeys in flight (default 50)")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per side (default 2)")
    parser.add_argument("--warmup", type=int, default=20, help="journeys per side before measuring (default 20)")
    parser.add_argument("--sample", type=int, default=20, help="journeys per side whose histories are counted")
    parser.add_argument("--state-dir", type=Path, default=default_state_dir(), help="where the server's DB goes")
    ns = parser.parse_args(argv)
    return Options(ns.n, ns.concurrency, ns.rounds, ns.warmup, ns.sample, ns.state_dir)


async def benchmark(opts: Options) -> None:
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the dev server (its own session) is stopped too.
    this = asyncio.current_task()
    assert this is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, this.cancel)
    with (
        tempfile.TemporaryDirectory(prefix="nurture-bench-journeys-", dir=opts.state_dir) as tmp,
        dev_server(Path(tmp), db_file=True, extra_args=SERVER_TUNING) as server,
    ):
        client, server_pid = await server.client(), server.pid
        tag = uuid.uuid4().hex[:8]
        bare = Side("bare", f"bench-bare-{tag}", run_bare)
        nurture = Side("nurture", f"bench-nurture-{tag}", run_nurture)
        engine = create_engine("sqlite://")  # build_worker wants one; the no-op activities never touch it
        nurture_worker = build_worker(
            client, Settings(), engine, activities=NOOP_ACTIVITIES, task_queue=nurture.task_queue
        )
        async with bare_worker(nurture_worker, bare.task_queue), nurture_worker:
            await measure(client, server_pid, opts, bare, nurture)


async def measure(client: Client, server_pid: int, opts: Options, bare: Side, nurture: Side) -> None:
    print(
        f"journey throughput: {opts.n} journeys x {DROPS} drops per round, {opts.rounds} rounds per side, "
        f"concurrency {opts.concurrency}, 1 journey day = {DAY_REAL_SECONDS * 1000:g} ms, "
        f"server DB in {opts.state_dir or tempfile.gettempdir()}",
        flush=True,
    )
    contact = 1
    for side in (bare, nurture):  # warm-up: sandbox caches, connections, server tables
        await run_round(client, side, 0, opts.warmup, opts.concurrency, contact, server_pid)
        contact += opts.warmup
    rounds: list[Round] = []
    for index in range(1, opts.rounds + 1):
        for side in (bare, nurture) if index % 2 else (nurture, bare):
            done = await run_round(client, side, index, opts.n, opts.concurrency, contact, server_pid)
            contact += opts.n
            rounds.append(done)
            server = "-" if done.server_cpu_ms is None else f"{done.server_cpu_ms:.0f}"
            print(
                f"  round {index} {done.side:<8} {opts.n} journeys in {done.seconds:6.2f} s {done.rate:6.1f} journeys/s"
                f"   CPU ms/journey: this process {done.own_cpu_ms:.0f}, server {server}",
                flush=True,
            )
    by_side = {s.name: [r for r in rounds if r.side == s.name] for s in (bare, nurture)}
    stats = {name: await history_stats(client, rs[-1].finished[: opts.sample]) for name, rs in by_side.items()}
    report(by_side, stats)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def report(rounds: dict[str, list[Round]], stats: dict[str, HistoryStats]) -> None:
    rate = {side: statistics.median(r.rate for r in rs) for side, rs in rounds.items()}
    own = {side: statistics.median(r.own_cpu_ms for r in rs) for side, rs in rounds.items()}
    server = {side: _median([r.server_cpu_ms for r in rs]) for side, rs in rounds.items()}
    ratio = rate["nurture"] / rate["bare"]
    bare, nurture = stats["bare"], stats["nurture"]
    bare_epd, nurture_epd = bare.per_drop(bare.events), nurture.per_drop(nurture.events)
    events_x = nurture_epd / bare_epd

    def row(label: str, b: str, n: str, note: str = "") -> None:
        print(f"{label:<40}{b:>10}{n:>10}{note}")

    print()
    row("", "bare", "nurture")
    row("journeys/s (median round)", f"{rate['bare']:.1f}", f"{rate['nurture']:.1f}")
    row("ratio nurture / bare", "", f"{ratio:.2f}")
    row("CPU ms/journey, this process", f"{own['bare']:.1f}", f"{own['nurture']:.1f}")
    if server["bare"] is not None and server["nurture"] is not None:
        row("CPU ms/journey, dev server", f"{server['bare']:.1f}", f"{server['nurture']:.1f}")
        cpu_ratio = (own["bare"] + server["bare"]) / (own["nurture"] + server["nurture"])
        row("ratio by total CPU (bare / nurture)", "", f"{cpu_ratio:.2f}")
    row("sampled journeys / runs", f"{bare.journeys}/{bare.runs}", f"{nurture.journeys}/{nurture.runs}")
    row("history bytes per drop", f"{bare.per_drop(bare.size):.0f}", f"{nurture.per_drop(nurture.size):.0f}")
    row("history events per drop", f"{bare_epd:.2f}", f"{nurture_epd:.2f}")
    print("  by event type, per drop:")
    for kind in sorted(set(bare.by_type) | set(nurture.by_type), key=lambda k: (-nurture.by_type[k], k)):
        b, n = bare.per_drop(bare.by_type[kind]), nurture.per_drop(nurture.by_type[kind])
        row(f"    {kind}", f"{b:.2f}", f"{n:.2f}", "  <- nurture has more" if n > b + 1e-9 else "")
    print()
    print(f"target journeys/s ratio >= 0.90: {'met' if ratio >= 0.9 else 'MISSED'} ({ratio:.2f})")
    if server["bare"] is not None and server["nurture"] is not None:
        print(f"target CPU ratio >= 0.90: {'met' if cpu_ratio >= 0.9 else 'MISSED'} ({cpu_ratio:.2f})")
    print(f"target events per drop <= bare: {'met' if events_x <= 1.0 + 1e-9 else 'MISSED'} ({events_x:.3f}x)")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        asyncio.run(benchmark(opts))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("interrupted: dev server stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    # Run the copy imported by name, so the bare worker can pass `bench.journey_throughput` through the sandbox
    # (a workflow defined in __main__ is re-run from its file for every workflow instead).
    from bench.journey_throughput import main as imported_main

    code = imported_main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK can crash at interpreter exit (sdk-python #300): leave once the work is done
