"""Written broadcast content is checked before anything else: an unknown template field is refused with the
allowed ones listed, and a form with neither an item nor a subject and body is refused (422 pages, no 500)."""

from __future__ import annotations

import httpx

from tests.console.conftest import add_console_user, sign_in
from tests.fixtures.api import ServedApi


async def test_written_content_with_unknown_fields_or_nothing_is_refused(api: ServedApi) -> None:
    add_console_user(api.ctx.engine)
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        assert (await sign_in(http)).status_code == 303
        page = await http.get("/console/broadcasts")
        assert 'name="subject"' in page.text and "<code>{first_name}</code>" in page.text
        bad = await http.get(
            "/console/broadcasts", params={"preview": "1", "subject": "Hi {phone}", "body": "<b>{first_name}</b>"}
        )
        assert bad.status_code == 422 and "unknown fields phone" in bad.text and "{company}" in bad.text
        assert "&lt;b&gt;{first_name}&lt;/b&gt;</textarea>" in bad.text  # what was typed comes back, escaped
        empty = await http.get("/console/broadcasts", params={"preview": "1", "subject": "", "body": ""})
        assert empty.status_code == 422 and "write a subject and a body" in empty.text
