"""The `nurture` command. Each submodule registers its commands on `app`."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="nurture",
    help="Lead-nurturing journeys as durable Temporal workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from nurture.cli import (  # noqa: F401  (each adds its commands)
        api,
        broadcast,
        bulk,
        console_users,
        contacts,
        dev,
        enroll,
        event,
        imports,
        leads,
        listing,
        migrate,
        owners,
        report,
        status,
        tasks,
        worker,
    )


def main() -> None:
    from definitions import load_definitions

    load_definitions()  # commands check journey keys and items against the registry
    _register()
    app()
