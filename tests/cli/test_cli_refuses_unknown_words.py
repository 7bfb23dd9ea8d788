"""`nurture journeys` and `nurture enroll` refuse what nurture does not know, with the broadcast door's words,
instead of listing nothing or enrolling nobody without saying why. Nothing here needs Temporal or a database:
the refusal comes first."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from nurture.broadcasts.audience import Audience, InvalidAudienceError
from tests.cli.test_cli_commands import nurture


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "NURTURE_HOME": str(tmp_path / "home"), "COLUMNS": "80", "NURTURE_LOG_LEVEL": "WARNING"}


def audience_refusal(**form: list[str]) -> str:
    try:
        Audience(**form).check()  # type: ignore[arg-type]
    except InvalidAudienceError as err:
        return str(err)
    raise AssertionError(f"the broadcast door accepted {form}")


@pytest.mark.slow
async def test_journeys_refuses_an_unknown_stage_or_phase_like_a_broadcast(tmp_path: Path) -> None:
    stage = await asyncio.to_thread(nurture, env(tmp_path), "journeys", "--stage", "hot")
    assert stage.returncode == 2
    assert audience_refusal(stages=["hot"]) in " ".join(stage.stderr.split())
    phase = await asyncio.to_thread(nurture, env(tmp_path), "journeys", "--phase", "asleep")
    assert phase.returncode == 2
    assert "unknown phases ['asleep']" in phase.stderr and "ended" in phase.stderr
    journey = await asyncio.to_thread(nurture, env(tmp_path), "journeys", "--journey", "nope")
    assert journey.returncode == 2
    assert audience_refusal(journeys=["nope"]) in " ".join(journey.stderr.split())


@pytest.mark.slow
async def test_enroll_refuses_an_unknown_persona_and_names_the_known_ones(tmp_path: Path) -> None:
    done = await asyncio.to_thread(
        nurture, env(tmp_path), "enroll", "--email", "a@example.com", "--persona", "astronaut"
    )
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "unknown persona 'astronaut'" in message
    assert "finance-lead" in message and "homeowner" in message
    assert not (tmp_path / "home" / "nurture.db").exists(), "nothing was written"
