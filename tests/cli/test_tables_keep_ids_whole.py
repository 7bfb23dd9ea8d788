"""CLI tables keep ids whole on narrow terminals (80 columns): other columns fold, ids never end in an ellipsis."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.console import Console

from nurture.cli.listing import HEADERS
from nurture.cli.status import running_table
from nurture.cli.tables import CliTable
from workflows.payloads import JourneyStatus


def rendered(table: CliTable, width: int) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(table.render())
    return console.export_text()


@pytest.mark.parametrize("width", [80, 120])
def test_the_journeys_listing_keeps_contact_and_journey_whole(width: int) -> None:
    table = CliTable(*HEADERS, ids=("contact", "journey"), title="journeys")
    table.add_row("9223372036854775807", "b2c_cultivation", "cooling_down", "consideration", "45.5", "3",
                  "2026-12-01T21:24:43+00:00", "running")  # fmt: skip
    text = rendered(table, width)
    assert "9223372036854775807" in text
    assert "b2c_cultivation" in text
    assert "…" not in text


@pytest.mark.parametrize("width", [80, 120])
def test_status_keeps_the_workflow_id_whole(width: int) -> None:
    workflow_id = "journey/b2c_cultivation/contact-9223372036854775807"
    st = JourneyStatus(
        journey="b2c_cultivation", contact_id=9223372036854775807, phase="nurturing", step="waiting " * 12,
        stage="awareness", lead_score=12.0, next_wake_at=datetime(2026, 12, 1, tzinfo=UTC), drops_sent=2,
        items_sent=["ga-intro", "ga-care"], last_decision="sent", why="a long explanation " * 10,
        pending_broadcasts=0, handled_broadcasts=[], run=1,
    )  # fmt: skip
    text = rendered(running_table(st, workflow_id), width)
    assert workflow_id in text
    assert "…" not in text
