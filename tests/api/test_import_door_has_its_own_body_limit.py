"""A CRM sync posts CSV files far larger than any form: the import door has its own limit (configurable, API
token only), and every public door keeps 64 KB, so a stranger cannot make the server read megabytes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from nurture.api.limits import SMALL_BODY_BYTES
from nurture.context import AppContext
from nurture.db import Contact
from nurture.db.engine import session_scope
from tests.fixtures.api import AUTH, ServedApi, free_port, served_api

CSV = {"Content-Type": "text/csv"}
HEADER = "email,external_id,first_name,company,role,company_size,industry,country,lifecycle_stage\n"
LIMIT = 256 * 1024


def contacts_csv(n: int) -> bytes:
    """About 450 bytes a line: a few hundred lines pass 64 KB (a real sync sends thousands)."""
    company, role = "Acme " + "Holdings " * 20, "VP " + "Finance " * 22
    lines = (f"sync-{i:05d}@ledgerline.example,crm-{i},Name{i},{company},{role},350,Software,GB,\n" for i in range(n))
    return (HEADER + "".join(lines)).encode()


def contacts(api: ServedApi) -> int:
    with session_scope(api.ctx.engine) as s:
        return int(s.execute(select(func.count()).select_from(Contact)).scalar_one())


@pytest.mark.slow
async def test_a_csv_over_64_kb_imports_with_the_token_and_a_larger_one_gets_a_clear_413(api: ServedApi) -> None:
    ctx = AppContext(
        api.ctx.settings.model_copy(update={"api_port": free_port(), "import_max_body_bytes": LIMIT}),
        api.ctx.engine,
        api.ctx.client,
    )
    big = contacts_csv(170)
    assert SMALL_BODY_BYTES < len(big) < LIMIT
    async with served_api(ctx, api.key) as sync:
        done = await sync.http.post("/imports/contacts", content=big, headers=CSV | AUTH)
        assert done.status_code == 200, done.text[:300]
        assert done.json()["created"] == 170

        huge = contacts_csv(700)
        assert len(huge) > LIMIT
        refused = await sync.http.post("/imports/contacts", content=huge, headers=CSV | AUTH)
        assert refused.status_code == 413 and str(LIMIT) in refused.json()["error"]

        async def chunks() -> object:  # no Content-Length: the limit holds while reading, chunk by chunk
            for start in range(0, len(huge), 16 * 1024):
                yield huge[start : start + 16 * 1024]

        streamed = await sync.http.post("/imports/contacts", content=chunks(), headers=CSV | AUTH)
        assert streamed.status_code == 413
    assert contacts(api) == 170  # nothing of the refused files was stored


async def test_without_the_token_the_import_door_keeps_the_public_64_kb(api: ServedApi) -> None:
    big = contacts_csv(170)
    for headers in (CSV, CSV | {"Authorization": "Bearer not-the-token"}):
        answer = await api.http.post("/imports/contacts", content=big, headers=headers)
        assert answer.status_code == 413, answer.text[:200]
        small = await api.http.post("/imports/contacts", content=contacts_csv(2), headers=headers)
        assert small.status_code == 401
    assert contacts(api) == 0


async def test_public_doors_keep_64_kb(api: ServedApi) -> None:
    padding = "x" * SMALL_BODY_BYTES
    track = {"anonymous_id": "a", "url": "https://shop.example/", "referrer": padding}
    opt_in = {"email": "a@b.example", "consent": {"source": "form", "wording": padding}}
    for path, body in (("/track", track), ("/identify", {"anonymous_id": padding}), ("/contacts", opt_in)):
        for headers in ({}, AUTH):  # the token raises only the import door's limit
            answer = await api.http.post(path, content=json.dumps(body), headers=headers)
            assert answer.status_code == 413, (path, answer.status_code)
