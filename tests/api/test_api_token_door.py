"""An empty, whitespace or invisible API token opens no door; the bearer must match the configured bytes exactly.

The attack (issue 7): `${NURTURE_API_TOKEN:-}` gives an empty token, and a bearer of characters `str.strip()`
removes (NBSP, NEL) matched it, opening the history and the trusted opt-in. A bearer with such a character
appended to the real token matched too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from temporalio.client import Client

from nurture.config import Settings, blank
from nurture.context import AppContext
from tests.api.payloads import add_contact
from tests.fixtures.api import API_TOKEN, ServedApi, api_settings, free_port, served_api

EMPTY_LOOKING = ["", " ", "\t\n", "\u00a0", "\u3000", "\u200b", "\ufeff", "\u2060\u200b", "\x85"]
STRIPPED_BEARERS = [b"Bearer \xa0", b"Bearer \x85", b"Bearer \xa0\x85\xa0"]  # obs-text bytes str.strip() removes


@pytest_asyncio.fixture
async def served_with_token(
    request: pytest.FixtureRequest, engine: Engine, webhook_key: tuple[ec.EllipticCurvePrivateKey, str]
) -> AsyncIterator[ServedApi]:
    private, public = webhook_key
    settings = api_settings(free_port(), public).model_copy(update={"api_token": SecretStr(request.param)})
    client = await Client.connect("127.0.0.1:9", lazy=True)
    async with served_api(AppContext(settings, engine, client), private) as served:
        yield served


@pytest.mark.parametrize("value", EMPTY_LOOKING)
def test_an_empty_or_invisible_token_in_the_environment_means_unset(value: str) -> None:
    assert blank(value)
    assert Settings(_env_file=None, api_token=value).api_token is None  # type: ignore[call-arg]
    assert not blank("a\u200b")


@pytest.mark.parametrize("served_with_token", ["", "\u00a0"], indirect=True)
async def test_an_empty_token_opens_no_door_whatever_the_bearer(served_with_token: ServedApi, engine: Engine) -> None:
    api = served_with_token  # settings built around the validator (model_copy), as `nurture dev` builds them
    cid = add_contact(engine, "ada@example.com")
    for raw in STRIPPED_BEARERS:
        headers = [(b"authorization", raw)]
        history = await api.http.get(f"/contacts/{cid}/history", headers=headers)
        broadcasts = await api.http.get("/broadcasts", headers=headers)
        opt_in = await api.http.post(
            "/contacts", json={"email": "ada@example.com", "consent": {"source": "x"}}, headers=headers
        )
        assert history.status_code == 401, raw
        assert broadcasts.status_code == 503, raw
        assert opt_in.status_code == 202 and "contact_token" not in opt_in.text, raw  # treated as a stranger


@pytest.mark.parametrize("served_with_token", [API_TOKEN], indirect=True)
async def test_the_bearer_must_be_the_configured_bytes_exactly(served_with_token: ServedApi, engine: Engine) -> None:
    api = served_with_token
    cid = add_contact(engine, "ada@example.com")
    exact = await api.http.get(f"/contacts/{cid}/history", headers={"Authorization": f"Bearer {API_TOKEN}"})
    padded = [
        await api.http.get(
            f"/contacts/{cid}/history", headers=[(b"authorization", b"Bearer " + API_TOKEN.encode() + tail)]
        )
        for tail in (b"\xa0", b"\x85")
    ]
    assert exact.status_code == 200
    assert [r.status_code for r in padded] == [401, 401]
