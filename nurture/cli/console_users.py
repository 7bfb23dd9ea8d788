"""`nurture console add-user | hash-password`: people who sign in to the browser console.

Passwords are read from a hidden prompt (or one line of stdin with --password-stdin), never from arguments,
and stored as argon2id hashes in the database; `hash-password` prints a hash for NURTURE_CONSOLE_USERS instead.
"""

from __future__ import annotations

import sys

import typer

from nurture.cli import app
from nurture.cli.common import console, err_console, settings_for_cli
from nurture.clock import utcnow
from nurture.context import open_engine
from nurture.db.engine import session_scope

console_app = typer.Typer(name="console", help="The browser console's users.", no_args_is_help=True)
app.add_typer(console_app)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Again", hide_input=True) != first:
        err_console.print("[red]the passwords differ[/red]")
        raise typer.Exit(2)
    return str(first)


def _hashed(from_stdin: bool) -> str:
    from nurture.console import passwords  # the console package loads FastAPI and the charts: only when needed

    try:
        return passwords.hash_password(_read_password(from_stdin))
    except ValueError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err


@console_app.command("add-user")
def add_user(
    username: str = typer.Argument(..., help="the name to sign in with"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from one line of stdin"),
) -> None:
    """Add a console user to the database, or set a new password for one."""
    name = username.strip()
    if not name or len(name) > 120:
        err_console.print("[red]a user name has 1 to 120 characters[/red]")
        raise typer.Exit(2)
    hashed = _hashed(password_stdin)
    from nurture.console import store

    engine = open_engine(settings_for_cli())
    try:
        with session_scope(engine) as session:
            created = store.add_user(session, name, hashed, utcnow())
    finally:
        engine.dispose()
    console.print(f"{'added' if created else 'updated'} console user {name}")


@console_app.command("hash-password")
def hash_password(
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from one line of stdin"),
) -> None:
    """Print an argon2id hash for NURTURE_CONSOLE_USERS (users from configuration)."""
    print(_hashed(password_stdin))
