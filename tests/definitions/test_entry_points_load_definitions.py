"""Each entry point loads the journey definitions itself (tests load them in conftest, so these run in a fresh
interpreter): a process that forgot would know no journeys and refuse every enrolment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = {
    "api": "from nurture.api.app import create_app\ncreate_app(lambda: None)\n",
    "cli": "import sys\nfrom nurture.cli import main\nsys.argv = ['nurture', '--help']\ntry:\n    main()\n"
    "except SystemExit:\n    pass\n",
    "worker": "from workers.journey_worker import build_worker\nfrom nurture.config import Settings\n"
    "try:\n    build_worker(None, Settings(), None, activities=[])\nexcept Exception:\n    pass\n",
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_entry_point_loads_every_journey(entry: str) -> None:
    probe = (
        "import workflows.dsl as dsl\n"
        "assert not dsl.REGISTRY, 'importing must not register'\n"
        f"{ENTRY_POINTS[entry]}"
        "print('LOADED', sorted(dsl.REGISTRY))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "LOADED ['b2b_drip', 'b2c_cultivation', 'customer_care']" in out.stdout, (
        out.stdout[-2000:] + out.stderr[-2000:]
    )
