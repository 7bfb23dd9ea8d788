"""Imports point down: each package's imports, read from its source, never reach a layer above it.

HTTP/CLI -> (DB, Temporal client) -> workflows -> activities -> (DB, SendGrid, CRM), with definitions (journeys)
written against `workflows.dsl` only, and workflows free of I/O. Also: no product module grows past ~300 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("nurture", "workflows", "activities", "workers", "definitions")

# (package, prefixes it must never import, prefixes exempt from that rule)
RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "workflows",
        # The worker passes `workflows` through the sandbox (workers.journey_worker.PASSTHROUGH), so the sandbox's
        # import-time checks no longer see it: clocks, randomness, processes and sockets are refused here instead.
        (
            "definitions",
            "activities",
            "workers",
            "nurture",
            "sqlalchemy",
            "sqlmodel",
            "httpx",
            "sendgrid",
            "fastapi",
            "time",
            "random",
            "os",
            "socket",
            "subprocess",
            "threading",
            "uuid",
            "secrets",
            "urllib",
        ),
        ("nurture.temporal_names", "nurture.search_attributes", "nurture.workflow_ids", "nurture.broadcast_state"),
    ),
    ("workflows.dsl", ("temporalio", "workflows.runtime", "workflows.journal"), ()),
    ("activities", ("nurture.inbound", "nurture.api", "nurture.cli", "workers", "definitions"), ()),
    ("definitions", ("nurture", "activities", "workers", "temporalio", "workflows"), ("workflows.dsl",)),
    (
        "nurture.db",
        ("nurture.api", "nurture.inbound", "nurture.outbound", "nurture.cli", "activities", "workers", "definitions"),
        (),
    ),
    ("nurture.inbound", ("nurture.api", "nurture.cli", "workers"), ()),
    ("nurture.api", ("nurture.cli", "workers"), ()),
    ("workers", ("nurture.api", "nurture.cli"), ()),
    ("nurture", ("tests", "bench"), ()),
    ("workflows", ("tests", "bench"), ()),
    ("activities", ("tests", "bench"), ()),
)

# Upward imports being removed elsewhere right now; each entry must still exist (so it is deleted when fixed).
KNOWN: dict[tuple[str, str], str] = {}
MAX_LINES = 300
OVERSIZE: dict[str, str] = {  # modules over the limit, each with who is splitting it
}


def modules() -> Iterator[tuple[str, Path]]:
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imported(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found |= {f"{base}.{alias.name}" for alias in node.names}  # under `base`, and names a submodule
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def upward_imports() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for module, path in modules():
        names = imported(module, path)
        for package, forbidden, exempt in RULES:
            if not _under(module, package):
                continue
            for name in sorted(names):
                if _under(name, package) or any(_under(name, e) for e in exempt):
                    continue
                if any(_under(name, f) for f in forbidden):
                    found.append((module, name))
    return sorted(set(found))


def _known(module: str, name: str) -> bool:
    return any(module == m and _under(name, prefix) for m, prefix in KNOWN)


def test_no_package_imports_a_layer_above_it() -> None:
    upward = [(m, n) for m, n in upward_imports() if not _known(m, n)]
    assert upward == [], "upward imports:\n" + "\n".join(f"  {m} imports {n}" for m, n in upward)


def test_known_exceptions_are_still_real() -> None:
    found = upward_imports()
    stale = [(m, p) for m, p in KNOWN if not any(m == fm and _under(fn, p) for fm, fn in found)]
    assert stale == [], f"fixed: remove from KNOWN {stale}"


@pytest.mark.parametrize(
    "source",
    [
        "from definitions import load_definitions\n",
        "import sqlalchemy\n",
        "from nurture.db import Contact\n",
        "import time\n",
        "from random import random\n",
    ],
)
def test_the_rule_catches_a_workflow_reaching_up(source: str, tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source)
    names = imported("workflows.probe", path)
    _, forbidden, exempt = RULES[0]
    assert any(any(_under(n, f) for f in forbidden) and not any(_under(n, e) for e in exempt) for n in names)


def test_product_modules_stay_small() -> None:
    sizes = {module: len(path.read_text().splitlines()) for module, path in modules()}
    over = {m: n for m, n in sizes.items() if n > MAX_LINES and m not in OVERSIZE}
    assert over == {}, f"split these by role: {over}"


def test_table_handles_have_one_maker() -> None:
    """A model's Core table is taken in `nurture.db.tables` only (and inside `nurture.db`, which it imports): a
    second handle is a second name for one table, and the two drift apart (two modules once called different
    tables OUTBOX)."""
    takers = {
        module
        for module, path in modules()
        if "__table__" in path.read_text() and module != "nurture.db" and not module.startswith("nurture.db.")
    }
    assert takers == set(), f"import the handle from nurture.db.tables: {sorted(takers)}"
