"""What one broadcast drop costs in the worker, in-process: nurture's `drop_broadcast` vs the bare floor's activity.

    python -m bench.drop_cost [--calls 300] [--backends sqlite,postgresql] [--profile 0]

`bench.broadcast_fanout` measures a whole act (server, workers, signals) and moves with the machine's load. This
isolates the drop's own work, the part nurture's code decides: the real `JourneyActivities.drop_broadcast` (claim
under the contact lock, consent, duplicates, caps and quiet time, rendering with signed links, the dev outbox
sender, the settle with the broadcast's delivery row) against `bench.broadcast_floor.FloorActivity.act` (the same
writes in core SQL, two transactions, no reads or rendering), called `--calls` times each on a fresh database, in
this thread. Printed: thread CPU per call for both sides, alternated in four blocks so both see the same drift,
their ratio, and the statements each call sends. `--profile N` adds the N costliest functions of nurture's side
(cProfile, cumulative) to say where the milliseconds go.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from activities.email.outbox_sender import OutboxSender
from activities.journey import JourneyActivities
from bench.broadcast_floor import FloorActivity, floor_workflow_id
from bench.broadcast_floor_workflow import FloorActInput
from bench.harness import contact_rows, fresh_database
from definitions import load_definitions
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Broadcast, Contact
from nurture.db.engine import make_engine, migrate, session_scope
from nurture.logging import configure_logging
from workflows.payloads import SendDropInput

ITEM = "bc-einvoicing-2027"
BROADCAST = "bench-drop-cost"


@dataclass(frozen=True)
class Side:
    name: str
    call: Callable[[int], object]


def contacts(engine: Engine, n: int) -> list[int]:
    now = utcnow()
    rows = contact_rows(n, "drop", ["compliance"], now)
    with engine.begin() as conn:
        conn.execute(insert(Contact), rows)
        ids = [i for i in conn.execute(select(col(Contact.id)).order_by(col(Contact.id))).scalars() if i is not None]
    with session_scope(engine) as session:
        session.add(Broadcast(id=BROADCAST, kind="regulation", item_id=ITEM, created_by="bench", created_at=now))
    return ids


def sides(settings: Settings, engine: Engine, ids: list[int]) -> tuple[Side, Side]:
    nurture_ids, floor_ids = iter(ids[: len(ids) // 2]), iter(ids[len(ids) // 2 :])
    acts = JourneyActivities(settings, engine, OutboxSender(engine), httpx.Client())
    floor = FloorActivity(engine)

    def ours(_: int) -> object:
        cid = next(nurture_ids)
        result = acts.drop_broadcast(
            SendDropInput(
                contact_id=cid,
                journey="b2b_drip",
                workflow_id=f"journey/b2b_drip/contact-{cid}",
                item_id=ITEM,
                step=f"broadcast {BROADCAST}",
                reason="broadcast",
                now=utcnow(),
                min_gap_seconds=0,
                broadcast_id=BROADCAST,
                time_scale=2.0,  # as the fan-out bench's journeys run: calendar rules skipped, the gap kept
            )
        )
        if result.status != "sent":  # a drop that did not go out would measure a shorter path
            raise SystemExit(f"contact {cid}: drop_broadcast answered {result.status} ({result.detail})")
        return result

    def bare(_: int) -> object:
        cid = next(floor_ids)
        return floor.act(FloorActInput(BROADCAST, floor_workflow_id(cid), cid, ITEM, utcnow()))

    return Side("nurture", ours), Side("floor", bare)


@contextmanager
def statements(engine: Engine) -> Iterator[list[int]]:
    seen = [0]

    def count(*_: object) -> None:
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def measure(side: Side, calls: int, engine: Engine) -> tuple[list[float], float]:
    cpu: list[float] = []
    with statements(engine) as seen:
        for i in range(calls):
            t0 = time.thread_time()
            side.call(i)
            cpu.append((time.thread_time() - t0) * 1000)
    return cpu, seen[0] / calls


def run(backend: str, url: str, calls: int, profile: int) -> None:
    migrate(url)
    engine = make_engine(url)
    settings = Settings(database_url=url, tracking_secret=SecretStr("bench-tracking-secret-0123456789"))
    ids = contacts(engine, 2 * (calls + 40))  # warm-up 10, the blocks, the profile 19
    ours, bare = sides(settings, engine, ids)
    for side in (ours, bare):  # warm-up: imports, templates, statement caches
        measure(side, 10, engine)
    block = calls // 4
    cpu: dict[str, list[float]] = {"nurture": [], "floor": []}
    per_call: dict[str, float] = {}
    for order in ((bare, ours), (ours, bare), (bare, ours), (ours, bare)):
        for side in order:
            got, stmts = measure(side, block, engine)
            cpu[side.name] += got
            per_call[side.name] = stmts
    mine, floor = statistics.median(cpu["nurture"]), statistics.median(cpu["floor"])
    mean_mine, mean_floor = statistics.fmean(cpu["nurture"]), statistics.fmean(cpu["floor"])
    print(f"\n{backend}: {len(cpu['nurture'])} calls per side, thread CPU ms per call (median / mean)")
    print(f"  floor    {floor:6.2f} / {mean_floor:6.2f}   {per_call['floor']:.1f} statements")
    print(f"  nurture  {mine:6.2f} / {mean_mine:6.2f}   {per_call['nurture']:.1f} statements")
    print(f"  ratio    {mine / floor:6.2f}x / {mean_mine / mean_floor:.2f}x")
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        measure(ours, 19, engine)
        prof.disable()
        print(f"  nurture's costliest functions (cumulative, 19 calls, top {profile}):")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(profile)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions of nurture's side")
    args = parser.parse_args()
    configure_logging(level="WARNING", json=True)
    load_definitions()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            url, drop = fresh_database(backend, Path(tmp))
            try:
                run(backend, url, args.calls, args.profile)
            finally:
                drop()


if __name__ == "__main__":
    main()
