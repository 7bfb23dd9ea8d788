"""Broadcast tests run on the dev server (visibility); the rig isolates each test's journeys."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from tests.broadcasts.rig import Rig, rig_settings


@pytest_asyncio.fixture
async def rig(dev_server_env: WorkflowEnvironment, sqlite_engine: Engine, task_queue: str) -> AsyncIterator[Rig]:
    """SQLite: for scenarios where the database backend is not what is under test."""
    r = Rig(dev_server_env.client, sqlite_engine, rig_settings(task_queue))
    try:
        yield r
    finally:
        await r.cleanup()


@pytest_asyncio.fixture
async def rig_any_db(dev_server_env: WorkflowEnvironment, engine: Engine, task_queue: str) -> AsyncIterator[Rig]:
    """Once on SQLite and once on PostgreSQL."""
    r = Rig(dev_server_env.client, engine, rig_settings(task_queue))
    try:
        yield r
    finally:
        await r.cleanup()
