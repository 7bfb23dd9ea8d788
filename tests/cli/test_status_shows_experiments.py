"""`nurture status` shows the contact's experiment arms (from the status query's `variants`)."""

from __future__ import annotations

from rich.console import Console

from nurture.cli.status import running_table
from workflows.payloads import JourneyStatus


def _render(st: JourneyStatus) -> str:
    console = Console(width=160, record=True)
    console.print(running_table(st, "journey/b2b_drip/contact-7").render())
    return console.export_text()


def test_status_lists_each_experiment_and_arm() -> None:
    base = {
        "journey": "b2b_drip",
        "contact_id": 7,
        "phase": "nurturing",
        "step": "waiting",
        "stage": "awareness",
        "lead_score": 0.0,
        "next_wake_at": None,
        "drops_sent": 1,
        "items_sent": ["intro"],
        "last_decision": "",
        "why": "",
        "pending_broadcasts": 0,
        "handled_broadcasts": [],
        "run": 1,
    }
    shown = _render(JourneyStatus(**base, variants={"subject-line": "b", "cta": "short"}))
    assert "experiments" in shown and "cta: short, subject-line: b" in shown
    plain = [line for line in _render(JourneyStatus(**base)).splitlines() if "experiments" in line]
    assert len(plain) == 1 and plain[0].split("experiments")[1].strip(" │|") == "-"
