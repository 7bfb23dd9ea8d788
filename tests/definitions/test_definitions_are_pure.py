"""Journeys must be deterministic by construction: definitions import only the DSL, other definitions and pure
standard-library modules, and never read a clock or a random source. This guard fails on a violation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
ALLOWED_MODULES = {
    "__future__", "collections", "collections.abc", "dataclasses", "datetime", "enum", "fnmatch", "functools",
    "itertools", "math", "re", "string", "typing", "workflows.dsl", "workflows.lifecycle",
}  # fmt: skip
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "random", "uuid4", "urandom"}


def violations(source: str, filename: str = "<definition>") -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [("." * node.level) + (node.module or "")]
        else:
            names = []
        for name in names:
            if not (name in ALLOWED_MODULES or name.startswith(("definitions", "."))):
                found.append(f"{filename}:{node.lineno}: imports {name}")
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in FORBIDDEN_CALLS:
                found.append(f"{filename}:{node.lineno}: calls {called}()")
    return found


@pytest.mark.parametrize("path", sorted(DEFINITIONS.rglob("*.py")), ids=lambda p: str(p.relative_to(DEFINITIONS)))
def test_definition_module_is_pure(path: Path) -> None:
    assert violations(path.read_text(), str(path)) == []


@pytest.mark.parametrize(
    "source",
    [
        "import random\n",
        "from datetime import datetime\nx = datetime.now()\n",
        "import httpx\n",
        "from sqlmodel import select\n",
        "from temporalio import workflow\n",
        "import time\nt = time.time()\n",
    ],
)
def test_guard_catches_io_clocks_and_randomness(source: str) -> None:
    assert violations(source) != []


def test_every_definition_module_is_registered() -> None:
    import definitions
    from workflows.dsl import REGISTRY

    journey_files = {p.stem for p in DEFINITIONS.glob("*.py")} - {"__init__", "broadcasts", "entry_rules", "scoring"}
    assert journey_files == set(REGISTRY), "one journey per file, named after its key"
    assert definitions.__all__
