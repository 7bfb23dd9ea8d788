"""What crosses the Temporal boundary for a broadcast: input and state, activity I/O (names: `nurture.temporal_names`).

Ids only: a broadcast carries workflow ids, an item id, a visibility query and counts, never contact details.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from nurture.broadcast_state import FINAL_STATES as FINAL_STATES  # one definition of the states (pure)
from workflows.payloads import BroadcastNotice


@dataclass
class BroadcastCarry:
    """Everything a broadcast carries across continue-as-new (and all its progress)."""

    state: str = "running"  # a nurture.broadcast_state.BroadcastState value
    phase: str = "counting"  # counting | paging | sweeping | settling | done
    page_token: str = ""  # base64 visibility page token of the next page ("" = first page)
    listed_all: bool = False  # the phase's last page has been listed
    pending: list[str] = field(default_factory=list)  # journeys of the current page not signalled yet
    total: int = 0  # audience size when the broadcast started (the progress bar's total)
    signalled: int = 0  # journeys signalled while paging through the audience
    late: int = 0  # journeys the sweep found: enrolled or continued-as-new while we paged
    suppressed: int = 0  # journeys of suppressed contacts: not signalled, recorded as skipped
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # signal failure reason -> count
    pages: int = 0
    started_at: datetime | None = None
    newest_start_ns: int = 0  # newest run start listed (epoch ns): the sweep lists runs started after it
    outcomes: dict[str, int] = field(default_factory=dict)  # what journeys reported, last read
    runs: int = 1
    # signalled journeys the report window still holds: workflow id -> when its signal landed (epoch seconds)
    unreported: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class BroadcastInput:
    """Start a broadcast. The audience query is complete (it already restricts to running journeys)."""

    broadcast_id: str
    notice: BroadcastNotice
    query: str
    rate_per_second: float = 500.0
    concurrency: int = 32
    page_size: int = 1000
    chunk_seconds: float = 2.0  # one signalling activity runs at most this long: pause/cancel latency
    max_unreported: int = 256  # backpressure: signalled journeys that may not have reported yet (0: no limit)
    settle_seconds: float = 300.0  # after signalling, wait this long at most for every journey to report
    carry: BroadcastCarry | None = None


@dataclass(frozen=True)
class BroadcastProgress:
    """Answer to the `progress` query: what the workflow knows (journey outcomes come from the database)."""

    broadcast_id: str
    state: str
    phase: str
    total: int
    signalled: int
    late: int
    suppressed: int
    failed: int
    failures: dict[str, int]
    pages: int
    pending: int
    sending: bool  # a signalling chunk is in flight (a pause or cancel takes effect when it ends)
    outcomes: dict[str, int]
    run: int


# ---- activity I/O --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudiencePageInput:
    query: str
    page_token: str
    page_size: int


@dataclass(frozen=True)
class AudiencePage:
    workflow_ids: list[str]
    next_page_token: str  # "" = no more pages
    newest_start_ns: int = 0  # newest StartTime on the page, epoch nanoseconds (exact, for the sweep)


@dataclass(frozen=True)
class SignalJourneysInput:
    notice: BroadcastNotice
    workflow_ids: list[str]
    rate_per_second: float
    concurrency: int
    max_seconds: float  # stop starting new signals after this long; the workflow sends the rest next time
    max_unreported: int = 0  # hold back while this many signalled journeys have not reported (0: no limit)
    # journeys earlier chunks signalled that had not reported when the chunk before ended (workflow id -> when its
    # signal landed, epoch seconds; at most about `max_unreported`): the window starts with them, and a journey's
    # age keeps counting from chunk to chunk. (Workflows started before this field sent `sent_before`, a count,
    # instead: ignored, so their next chunk starts with an empty window, at most one window's overshoot.)
    unreported: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SignalJourneysResult:
    done: int  # how many of `workflow_ids`, from the front, were handled (signalled, skipped or failed)
    signalled: int
    suppressed: int  # journeys of suppressed contacts: not signalled, recorded as skipped
    failed: int
    failures: dict[str, int] = field(default_factory=dict)
    unreported: dict[str, float] = field(default_factory=dict)  # signalled, not reported yet: the next chunk's window


@dataclass(frozen=True)
class BroadcastProgressInput:
    broadcast_id: str
    state: str
    counts: dict[str, int]
    now: datetime
    finished: bool = False
    # count what journeys reported (a GROUP BY over the broadcast's rows: O(audience)); False keeps the last count
    recount: bool = True


# How long a count of a broadcast's reports stays good, in multiples of the time the count took: the broadcast
# workflow counts again only after this many times its last count's duration, and an API process keeps a status
# count as long (nurture.broadcasts.paced), so counting costs at most a tenth of a core at any broadcast size.
COUNT_PACE = 10


@dataclass(frozen=True)
class BroadcastProgressResult:
    outcomes: dict[str, int]  # dropped / deferred / skipped / failed, as journeys reported them
    # how long the record took when it counted (read, count, write: the count most of it at size; 0 if it did not
    # count): paces the next count
    count_seconds: float = 0.0
