"""Attacks on signed links: a token of one purpose, a tampered, truncated or expired token opens no other door,
and a GET on any link changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nurture import links, tokens
from nurture.clock import utcnow
from tests.attacks.kit import everything, victim
from tests.fixtures.api import ServedApi


def all_tokens(api: ServedApi, contact_id: int) -> dict[str, str]:
    s = api.ctx.settings
    secret = s.tracking_secret.get_secret_value()
    ids = {"contact_id": str(contact_id)}
    return {
        "unsubscribe": links.unsubscribe_url(s, contact_id).rsplit("/", 1)[1],
        "preferences": links.preferences_url(s, contact_id).rsplit("/", 1)[1],
        "confirm": links.confirm_url(s, contact_id, utcnow()).rsplit("/", 1)[1],
        "contact": links.contact_token(s, contact_id),
        "open": tokens.sign(secret, "open", ids),
        "click": tokens.sign(secret, "click", {**ids, "url": "https://ledgerline.example/"}),
    }


# (method, path template, the one purpose it accepts)
LINK_DOORS = [
    ("GET", "/u/{}", "unsubscribe"),
    ("POST", "/u/{}", "unsubscribe"),
    ("GET", "/p/{}", "preferences"),
    ("POST", "/p/{}", "preferences"),
    ("GET", "/confirm/{}", "confirm"),
    ("POST", "/confirm/{}", "confirm"),
    ("GET", "/t/o/{}.gif", "open"),
    ("GET", "/t/c/{}", "click"),
]


async def test_a_token_of_one_purpose_opens_no_other_door(api: ServedApi) -> None:
    contact_id = await victim(api)
    minted = all_tokens(api, contact_id)
    before = everything(api.ctx.engine)
    for method, template, purpose in LINK_DOORS:
        for other, token in minted.items():
            if other == purpose:
                continue
            answer = await api.http.request(method, template.format(token), content=b"action=unsubscribe")
            assert answer.status_code == 403, (method, template, other, answer.status_code, answer.text)
    # the contact token in a body is refused as an identity when it is of another purpose
    for other, token in minted.items():
        if other == "contact":
            continue
        for path in ("/identify", "/track"):
            body = {"anonymous_id": "anon-1", "contact_token": token, "url": "https://x.example/"}
            if path == "/identify":
                body.pop("url")
            answer = await api.http.post(path, json=body)
            assert answer.status_code == 403, (path, other, answer.text)
    assert everything(api.ctx.engine) == before


def tampered(token: str) -> list[str]:
    payload, mac = token.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    return [
        f"{flipped}.{mac}",
        f"{payload}.{mac[:-2]}",
        f"{payload}.",
        f".{mac}",
        payload,
        f"{payload}.{mac}.{mac}",
        f"{payload}.{mac}=",
        f"{payload}.{mac}\u00e9",
        f"{payload}.{'A' * 10_000}",
        f"{payload.upper()}.{mac}",
        "%00",
        "..",
        "\u0660\u0661",
        "%ED%A0%80.%ED%A0%80",
        "eyJjb250YWN0X2lkIjoxfQ.AAAA",  # {"contact_id":1} with a made-up MAC
    ]


@pytest.mark.parametrize(("method", "template", "purpose"), LINK_DOORS)
async def test_tampered_or_truncated_tokens_are_refused_with_nothing_changed(
    api: ServedApi, method: str, template: str, purpose: str
) -> None:
    contact_id = await victim(api)
    good = all_tokens(api, contact_id)[purpose]
    before = everything(api.ctx.engine)
    for bad in tampered(good):
        answer = await api.http.request(method, template.format(bad), content=b"action=unsubscribe")
        assert answer.status_code in (403, 404), (bad[:60], answer.status_code, answer.text[:200])
        assert "set-cookie" not in answer.headers
    assert everything(api.ctx.engine) == before


async def test_a_token_signed_with_another_secret_is_refused(api: ServedApi) -> None:
    contact_id = await victim(api)
    before = everything(api.ctx.engine)
    for purpose, template in (("unsubscribe", "/u/{}"), ("preferences", "/p/{}")):
        forged = tokens.sign("change-me", purpose, {"contact_id": str(contact_id)})
        answer = await api.http.post(template.format(forged), content=b"List-Unsubscribe=One-Click")
        assert answer.status_code == 403
    assert everything(api.ctx.engine) == before


async def test_an_expired_confirmation_link_confirms_nothing(api: ServedApi) -> None:
    made = await api.http.post(
        "/contacts", json={"email": "late@ledgerline.example", "consent": {"source": "f"}, "double_opt_in": True}
    )
    assert made.status_code == 202
    from sqlalchemy import text

    with api.ctx.engine.connect() as conn:
        contact_id = conn.execute(text("select id from contact where email = 'late@ledgerline.example'")).scalar_one()
    old = utcnow() - links.CONFIRM_VALID_FOR - timedelta(minutes=1)
    token = links.confirm_url(api.ctx.settings, contact_id, old).rsplit("/", 1)[1]
    before = everything(api.ctx.engine)
    for method in ("GET", "POST"):
        answer = await api.http.request(method, f"/confirm/{token}")
        assert answer.status_code == 403, answer.text
    assert everything(api.ctx.engine) == before


async def test_a_get_on_any_link_changes_nothing(api: ServedApi) -> None:
    """Mail scanners follow every link: GET (and HEAD) on unsubscribe, preferences and confirm is a page only."""
    contact_id = await victim(api)
    minted = all_tokens(api, contact_id)
    before = everything(api.ctx.engine)
    for method in ("GET", "HEAD"):
        for template, purpose in (("/u/{}", "unsubscribe"), ("/p/{}", "preferences"), ("/confirm/{}", "confirm")):
            url = template.format(minted[purpose])
            for query in ("", "?action=unsubscribe", "?List-Unsubscribe=One-Click", "?snooze=90&frequency=monthly"):
                answer = await api.http.request(method, url + query)
                assert answer.status_code < 500, (method, url, answer.status_code)
    assert everything(api.ctx.engine) == before
