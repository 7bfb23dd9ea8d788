"""Arrows point down: activities never import the inbound doors (`nurture.inbound`); what both need, such as the
sales verdict writer (`nurture.verdicts`), lives below them."""

from __future__ import annotations

import ast
from pathlib import Path

ACTIVITIES = Path(__file__).resolve().parents[2] / "activities"


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_activity_module_imports_nurture_inbound() -> None:
    offenders = {
        str(path.relative_to(ACTIVITIES)): sorted(m for m in imported_modules(path) if m.startswith("nurture.inbound"))
        for path in sorted(ACTIVITIES.rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}
