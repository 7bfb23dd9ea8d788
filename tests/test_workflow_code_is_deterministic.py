"""Journey code runs outside Temporal's sandbox (it is all passed through, and a sandboxed run held a copy of every
module while cached: bench/worker_memory.py), so nothing checks it at run time. This test is the check: workflow
and definition code may not read the clock, randomness, the environment, files or the network, and may not import
a module that does I/O. Time and randomness come from `workflow.now()` and `workflow.random()`; side effects live
in `activities/`. The replay tests (tests/workflows/test_replay_saved_histories.py) catch the rest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("workflows", "definitions")

# Modules whose import alone means I/O, wall-clock time or randomness outside Temporal's control.
FORBIDDEN_IMPORTS = {
    "random", "uuid", "time", "threading", "socket", "subprocess", "secrets", "requests", "httpx", "urllib.request",
    "sqlmodel", "sqlalchemy", "psycopg", "sendgrid", "activities", "workers", "nurture.db", "nurture.api",
    "nurture.inbound", "nurture.outbound", "nurture.console",
}  # fmt: skip
# Calls that read the wall clock, the environment or the file system.
FORBIDDEN_CALLS = {
    "datetime.now", "datetime.utcnow", "datetime.today", "date.today", "os.getenv", "os.environ.get", "open",
    "Path.read_text", "Path.open", "os.urandom",
}  # fmt: skip


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IMPORTS)


def violations(source: str, where: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{where}:{node.lineno} imports {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [f"{where}:{node.lineno} imports {n}" for n in names[:1] + names[1:] if _forbidden(n)][:1]
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if any(name == bad or name.endswith("." + bad) for bad in FORBIDDEN_CALLS):
                found.append(f"{where}:{node.lineno} calls {name}()")
        elif isinstance(node, ast.Subscript) and _dotted(node.value) == "os.environ":
            found.append(f"{where}:{node.lineno} reads os.environ")
    return found


def _workflow_sources() -> list[Path]:
    return sorted(p for top in CHECKED for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts)


def test_journey_code_reads_no_clock_randomness_or_io() -> None:
    found = [v for p in _workflow_sources() for v in violations(p.read_text(), str(p.relative_to(ROOT)))]
    assert not found, "non-deterministic code in workflow/definition modules:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "import random\nx = random.random()",
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.datetime.utcnow()",
        "import os\nx = os.environ['HOME']",
        "from sqlmodel import Session",
        "from activities.sending import send_drop",
        "x = open('f').read()",
        "import time\ntime.sleep(1)",
        "from nurture import db",
    ],
)
def test_the_check_catches_a_non_deterministic_journey(source: str) -> None:
    assert violations(source, "journey.py")


def test_the_check_leaves_workflow_apis_alone() -> None:
    ok = "from temporalio import workflow\nfrom datetime import timedelta\nx = workflow.now()\ny = workflow.random()"
    assert violations(ok, "journey.py") == []
