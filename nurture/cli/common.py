"""Helpers shared by CLI commands: settings, logging, running async work and leaving cleanly."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

import typer
from rich.console import Console

from nurture.config import Settings
from nurture.logging import configure_logging

console = Console()
err_console = Console(stderr=True)


def settings_for_cli() -> Settings:
    try:
        settings = Settings()
    except ValueError as err:
        err_console.print(f"[red]configuration error:[/red] {err}")
        raise typer.Exit(2) from err
    configure_logging(settings.log_level, settings.log_json)
    return settings


def run_and_exit(coro: Coroutine[Any, Any, int | None]) -> None:
    """Run async CLI work, then leave with os._exit: the Temporal client can crash at interpreter exit
    (sdk-python #300), so flush and skip interpreter teardown."""
    code = 0
    try:
        code = asyncio.run(coro) or 0
    except typer.Exit as done:
        code = done.exit_code
    except KeyboardInterrupt:
        code = 130
    except Exception as err:
        err_console.print(f"[red]error:[/red] {err}")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def ui_link(settings: Any, workflow_id: str) -> str:
    from urllib.parse import quote

    base = f"http://localhost:{settings.temporal_ui_port}/namespaces/{settings.temporal_namespace}"
    return f"{base}/workflows/{quote(workflow_id, safe='')}"


def when(value: datetime | None) -> str:
    """A timestamp as the CLI prints it."""
    return value.isoformat(timespec="seconds") if value else "-"
