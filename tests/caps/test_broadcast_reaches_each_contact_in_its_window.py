"""A broadcast sent at one moment to contacts in several zones and countries reaches each of them inside its
own send window and never on a public holiday of its country or a company closure (real send_drop, dev
outbox, SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from tests.activities.helpers import add_contact, drop, outbox_activities
from tests.caps.test_caps_at_the_claim import sent_times
from workflows.dsl import REGISTRY
from workflows.quiet import is_quiet_day

CLOSURES = [date(2026, 12, 28)]
# 19:31 UTC on Christmas Eve: evening in Berlin, afternoon in New York, the small hours of Christmas Day in Tokyo
SENT = datetime(2026, 12, 24, 19, 31, tzinfo=UTC)
PLACES = [("Europe/Berlin", "DE"), ("America/New_York", "US"), ("Asia/Tokyo", "JP"), ("Europe/London", "GB")]


def test_one_broadcast_reaches_each_contact_inside_its_window_and_never_on_a_holiday(engine: Engine) -> None:
    window = REGISTRY["b2b_drip"].send_window
    assert window is not None and REGISTRY["b2b_drip"].holidays
    reached: dict[str, datetime] = {}
    with outbox_activities(engine, closure_dates=CLOSURES) as acts:
        for n, (tz, country) in enumerate(PLACES):
            cid = add_contact(engine, email=f"zone{n}@example.com", time_zone=tz, country=country)
            inp = replace(drop(cid, "b2b-thirty-days", now=SENT, workflow_id=f"wf-{n}"), broadcast_id="launch")
            got = acts.send_drop(inp)
            while got.status == "deferred":  # the journey comes back when told (as workflows.offers does)
                assert got.deferred_until is not None and got.deferred_until > inp.now
                inp = replace(inp, now=got.deferred_until)
                got = acts.send_drop(inp)
            assert got.status == "sent", (tz, got)
            [at] = sent_times(engine, cid)
            reached[tz] = at
            local = at.astimezone(ZoneInfo(tz))
            assert local.weekday() in window.weekdays and window.start_hour <= local.hour < window.end_hour, (tz, local)
            assert is_quiet_day(local.date(), country, CLOSURES) is None, (tz, local)
    # New York was inside its window at once; Berlin and London wait past Christmas and Boxing Day and the
    # weekend and the closure (a bank holiday in England too); Christmas Day is a working day in Tokyo
    assert reached["America/New_York"] == SENT
    assert reached["Europe/Berlin"] == datetime(2026, 12, 29, 8, 0, tzinfo=UTC)
    assert reached["Europe/London"] == datetime(2026, 12, 29, 9, 0, tzinfo=UTC)
    assert reached["Asia/Tokyo"] == datetime(2026, 12, 25, 0, 0, tzinfo=UTC)
