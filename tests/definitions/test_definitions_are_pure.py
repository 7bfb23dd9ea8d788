"""Journeys must be deterministic by construction: definitions import only the DSL, other definitions and pure
standard-library modules, and never read a clock or a random source. This guard fails on a violation."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "definitions"
ALLOWED_MODULES = {
    "__future__", "collections", "collections.abc", "dataclasses", "datetime", "enum", "fnmatch", "functools",
    "itertools", "math", "re", "string", "typing", "workflows.dsl",
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


LOADER = DEFINITIONS / "__init__.py"  # load_definitions() finds and imports the modules: the one exception
LOADER_MODULES = {"importlib", "pkgutil"}


@pytest.mark.parametrize("path", sorted(DEFINITIONS.rglob("*.py")), ids=lambda p: str(p.relative_to(DEFINITIONS)))
def test_definition_module_is_pure(path: Path) -> None:
    found = violations(path.read_text(), str(path))
    if path == LOADER:
        found = [v for v in found if v.rsplit(" ", 1)[-1] not in LOADER_MODULES]
    assert found == []


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
    from definitions import load_definitions

    journey_files = {p.stem for p in DEFINITIONS.glob("*.py")} - {"__init__", "broadcasts"}
    assert journey_files == set(load_definitions()), "one journey per file, named after its key"


def test_importing_definitions_registers_nothing_until_loaded() -> None:
    """No side-effect registration: an entry point that forgets `load_definitions()` sees no journeys at all (and
    fails loudly at the first unknown key), rather than some journeys depending on what happened to be imported."""
    probe = (
        "import definitions, workflows.dsl as dsl\n"
        "before = set(dsl.REGISTRY)\n"
        "loaded = set(definitions.load_definitions())\n"
        "print(sorted(before), sorted(loaded), 'broadcasts' in dsl.CATALOGS)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split("] [")[0] == "[", out.stdout
    assert "b2b_drip" in out.stdout and "b2c_cultivation" in out.stdout and out.stdout.strip().endswith("True")
