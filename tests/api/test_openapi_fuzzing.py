"""schemathesis over the app's own OpenAPI schema: zero 5xx and schema-conformant answers, with and without the
API token, on both databases. Bounded (a few examples per operation and generation mode) to fit the suite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture.context import AppContext
from tests.fixtures.api import API_TOKEN, ServedApi, api_settings, free_port, served_api

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 2  # per operation, per generation mode, per token: about 200 requests per database (fits the suite)


def _operation_test(operation: Any, mode: GenerationMode, call: Callable[[Any], None]) -> Callable[[], None]:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        call(case)

    return run  # type: ignore[no-any-return]


def _fuzz(url: str, schema_doc: dict[str, Any], header_sets: list[dict[str, str]]) -> list[str]:
    """Each generated case goes out once per header set: generating is most of the cost (about 0.6 s a case on
    the loaded 2-core machine, against 0.05 s for the request), and derandomized generation made the same cases
    for every header set anyway."""
    schema = schemathesis.openapi.from_dict(schema_doc)
    failures: list[str] = []
    session = requests.Session()

    def call(case: Any) -> None:
        for headers in header_sets:
            response = case.call(base_url=url, session=session, headers=headers, timeout=30)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (AssertionError, BaseExceptionGroup) as err:  # collect every failure, report them together
                token = "with token" if headers else "no token"
                failures.append(f"{case.operation.label} ({token}) {response.status_code}: {str(err)[:800]}")

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _operation_test(operation, mode, call)()
            except Unsatisfiable:  # nothing to negate (an operation without parameters or body)
                assert mode is GenerationMode.NEGATIVE, operation.label
    return failures


@pytest_asyncio.fixture
async def fuzzed(
    engine: Engine, webhook_key: tuple[Any, str], dev_server_env: WorkflowEnvironment
) -> AsyncIterator[ServedApi]:
    """The API on a fresh database with a reachable Temporal (so broadcast doors answer rather than 503)."""
    private, public = webhook_key
    settings = api_settings(free_port(), public)
    async with served_api(AppContext(settings, engine, dev_server_env.client), private) as served:
        yield served


async def _fuzz_served(api: ServedApi) -> list[str]:
    schema_doc = (await api.http.get("/openapi.json")).json()
    # blocking HTTP on a thread: the served app runs on this test's event loop
    return await asyncio.to_thread(_fuzz, api.url, schema_doc, [{}, {"Authorization": f"Bearer {API_TOKEN}"}])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_schemathesis_finds_no_server_error_and_no_nonconformant_answer_on_sqlite(fuzzed: ServedApi) -> None:
    failures = await _fuzz_served(fuzzed)

    assert failures == [], "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_schemathesis_finds_no_server_error_and_no_nonconformant_answer_on_postgresql(
    fuzzed: ServedApi,
) -> None:
    failures = await _fuzz_served(fuzzed)

    assert failures == [], "\n".join(failures)
