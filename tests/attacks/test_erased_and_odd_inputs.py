"""An erased contact's tokens and links store nothing more about the person, and odd inputs a stranger can send
get a 4xx, not a 500 (each of these was a finding of an attacker's read of the public doors)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from nurture import links
from nurture.db.tables import VISITOR
from tests.api.payloads import link_path
from tests.attacks.kit import everything, victim
from tests.console.conftest import add_console_user, sign_in
from tests.fixtures.api import AUTH, ServedApi


async def test_an_erased_contacts_tokens_and_links_store_nothing_more(api: ServedApi, engine: Engine) -> None:
    cid = await victim(api)
    settings = api.ctx.settings
    token = links.contact_token(settings, cid)
    click = links.click_url(settings, "https://ledgerline.example/guide", cid, item_id="ll-aware-1")
    pixel = links.open_pixel_url(settings, cid, item_id="ll-aware-1")
    alive = await api.http.post("/track", json={"contact_token": token, "url": "https://x.example/"})
    assert alive.status_code == 200, "the token works while the contact exists"
    erased = await api.http.delete(f"/contacts/{cid}", params={"reason": "asked to be forgotten"}, headers=AUTH)
    assert erased.status_code == 200, erased.text
    before, events = everything(engine), api.count(contact_id=cid)

    tracked = await api.http.post(
        "/track",
        json={"contact_token": token, "url": "https://x.example/?email=gone@x.example", "title": "Gone Person"},
    )
    identified = await api.http.post("/identify", json={"contact_token": token, "anonymous_id": "old-browser"})
    clicked = await api.http.get(link_path(click))
    opened = await api.http.get(link_path(pixel))

    assert tracked.status_code == 404, tracked.text
    assert identified.status_code == 404, identified.text
    assert clicked.status_code == 302 and clicked.headers["location"] == "https://ledgerline.example/guide"
    assert opened.status_code == 200, "old mail still works, and answers as for anyone"
    assert api.count(contact_id=cid) == events, "no page view, click or open stored for the erased contact"
    with engine.connect() as conn:
        linked = conn.execute(select(VISITOR.c.anonymous_id).where(VISITOR.c.contact_id == cid)).all()
    assert linked == [], "no browser linked to the erased contact again"
    assert everything(engine) == before


async def test_odd_inputs_a_stranger_can_send_are_4xx(api: ServedApi, engine: Engine) -> None:
    bad_host = await api.http.post("/track", json={"url": "http://[::1", "anonymous_id": "a"})
    assert bad_host.status_code == 422, bad_host.text
    bad_port = await api.http.post("/track", json={"url": "http://a:99999///[::1", "anonymous_id": "a"})
    assert bad_port.status_code < 500, bad_port.text  # stored with nothing of its netloc kept, or refused

    long_number = b'[{"email":"a@example.com","event":"open","timestamp":' + b"9" * 5001 + b"}]"
    webhook = await api.post_events(long_number)
    assert webhook.status_code == 400, webhook.text

    add_console_user(engine)
    assert (await sign_in(api.http)).status_code == 303
    superscript = await api.http.get("/console/contacts", params={"q": "\u00b2"})
    assert superscript.status_code == 200, superscript.text


async def test_the_pages_a_link_opens_may_not_be_framed(api: ServedApi) -> None:
    cid = await victim(api)
    settings = api.ctx.settings
    for url in (links.unsubscribe_url(settings, cid), links.preferences_url(settings, cid)):
        shown = await api.http.get(link_path(url))
        assert shown.status_code == 200, url
        assert shown.headers["x-frame-options"] == "DENY", url
        assert "frame-ancestors 'none'" in shown.headers["content-security-policy"], url
