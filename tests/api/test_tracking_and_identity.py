"""Page views, identity stitching, and signed pixel/click links (no forged events, no open redirect)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from nurture import links, temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.db import Event, Touch, Visitor
from nurture.db.engine import session_scope
from nurture.inbound.outbox import ENROLL
from tests.api.payloads import add_contact, link_path
from tests.fixtures.api import API_TOKEN, AUTH, ServedApi
from workflows.dsl import Engagement, scoring_for


def _events(engine: Engine, **where: object) -> list[Event]:
    with session_scope(engine) as s:
        query = select(Event).order_by(Event.id)  # type: ignore[arg-type]
        for name, value in where.items():
            query = query.where(getattr(Event, name) == value)
        return list(s.exec(query).all())


async def test_anonymous_views_become_the_contacts_after_identify_and_reach_listening_journeys(
    api: ServedApi, engine: Engine
) -> None:
    cid = add_contact(engine, "ada@ledgerline.example", journeys=("b2b_drip",))
    for url in ("https://ledgerline.example/blog/close", "https://ledgerline.example/pricing?email=ada%40x.example"):
        response = await api.http.post("/track", json={"anonymous_id": "anon-1", "url": url, "title": "t"})
        assert response.status_code == 200, response.text
    assert [e.contact_id for e in _events(engine, kind="page_view")] == [None, None]
    assert api.outbox() == []

    proof = links.contact_token(api.ctx.settings, cid)  # from a nurture link, or signed by the site's server
    response = await api.http.post("/identify", json={"anonymous_id": "anon-1", "contact_token": proof})

    assert response.status_code == 200, response.text
    assert response.json()["events_attributed"] == 2
    assert [e.contact_id for e in _events(engine, kind="page_view")] == [cid, cid]  # history and score
    signals = api.outbox(contact_id=cid)
    assert [(o.journey, o.signal, o.payload["url"]) for o in signals] == [
        ("b2b_drip", temporal_names.SIGNAL_PAGE_VIEW, "https://ledgerline.example/pricing")
    ]  # b2b_drip waits for /pricing*, not for the blog; the query (PII here) never reaches Temporal

    later = await api.http.post("/track", json={"anonymous_id": "anon-1", "url": "https://ledgerline.example/pricing"})
    assert later.json()["signals_queued"] == 1  # the visitor is known now: attributed at once
    assert _events(engine, kind="page_view")[-1].contact_id == cid

    history = await api.http.get(f"/contacts/{cid}/history", headers={"Authorization": f"Bearer {API_TOKEN}"})
    closed = await api.http.get(f"/contacts/{cid}/history")
    huge = await api.http.get(f"/contacts/{2**64}/history", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert huge.status_code == 422, huge.text
    assert closed.status_code == 401
    assert history.status_code == 200, history.text
    urls = [e["url"] for e in history.json()["events"]]
    assert urls.count("https://ledgerline.example/pricing?email=ada%40x.example") == 1  # kept in the database
    score = history.json()["score"]["b2b_drip"]
    assert score["score"] > 0
    assert {k: v for k, v in score["top"][0].items() if k != "points"} == {"label": "pricing page", "count": 2}


async def test_a_contact_id_needs_proof(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "grace@example.com", journeys=("b2b_drip",))
    view = {"contact_id": cid, "url": "https://ledgerline.example/pricing"}

    bare = await api.http.post("/track", json=view)
    forged = await api.http.post("/track", json={**view, "contact_token": "eyJjIjoiMSJ9.AAAA"})
    other = await api.http.post(
        "/track", json={**view, "contact_token": links.contact_token(api.ctx.settings, cid + 1)}
    )
    bare_identify = await api.http.post("/identify", json={"anonymous_id": "x", "contact_id": cid})
    token_ok = await api.http.post(
        "/track", json={"url": view["url"], "contact_token": links.contact_token(api.ctx.settings, cid)}
    )
    server_ok = await api.http.post("/track", json=view, headers={"Authorization": f"Bearer {API_TOKEN}"})

    assert (bare.status_code, forged.status_code, other.status_code, bare_identify.status_code) == (403,) * 4
    assert "contact_token" in bare.json()["error"]
    assert token_ok.status_code == server_ok.status_code == 200
    assert len(_events(engine, kind="page_view", contact_id=cid)) == 2


async def test_bad_tracking_input_gets_a_clear_4xx(api: ServedApi) -> None:
    cases = {
        "no visitor": ({"url": "https://x.example/"}, 422),
        "not a url": ({"anonymous_id": "a", "url": "javascript:alert(1)"}, 422),
        "wrong type": ({"anonymous_id": "a", "url": "https://x.example/", "occurred_at": "soon"}, 422),
        "unknown field": ({"anonymous_id": "a", "url": "https://x.example/", "evil": 1}, 422),
    }
    for name, (body, status) in cases.items():
        response = await api.http.post("/track", json=body)
        assert response.status_code == status, name
        assert response.json()["error"].startswith(("invalid request", "url must", "a page view")), name
    malformed = await api.http.post("/track", content=b"{", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    huge = await api.http.post("/track", json={"anonymous_id": "a", "url": "https://x.example/" + "a" * 70_000})
    assert huge.status_code == 413
    no_proof = await api.http.post("/identify", json={"anonymous_id": "a"})
    assert no_proof.status_code == 422
    assert api.count() == 0


async def test_signed_clicks_redirect_only_to_the_signed_url_and_count_once(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "clicker@example.com", journeys=("b2b_drip",))
    settings = api.ctx.settings
    click = links.click_url(settings, "https://ledgerline.example/guide", cid, item_id="ll-aware-1")
    pixel = links.open_pixel_url(settings, cid, item_id="ll-aware-1")

    first = await api.http.get(link_path(click))
    second = await api.http.get(link_path(click))
    opened = await api.http.get(link_path(pixel))
    token = link_path(click).rsplit("/", 1)[1]
    forged = await api.http.get("/t/c/" + token[:-4] + "AAAA")
    evil = links.click_url(settings, "https://evil.example/", cid).replace(settings.public_base_url, "")
    swapped = await api.http.get(link_path(click).split(".")[0] + "." + evil.rsplit(".", 1)[1])
    javascript = await api.http.get(
        "/t/c/"
        + __import__("nurture.tokens", fromlist=["sign"]).sign(
            settings.tracking_secret.get_secret_value(), "click", {"contact_id": str(cid), "url": "javascript:x"}
        )
    )

    assert first.status_code == second.status_code == 302
    assert first.headers["location"] == "https://ledgerline.example/guide"
    assert opened.status_code == 200
    assert opened.headers["content-type"] == "image/gif"
    assert (forged.status_code, swapped.status_code, javascript.status_code) == (403, 403, 403)
    assert [e.kind for e in _events(engine, contact_id=cid)] == ["clicked", "opened"]  # the double click once
    assert [o.signal for o in api.outbox(contact_id=cid)] == [
        temporal_names.SIGNAL_ENGAGEMENT
    ]  # nobody waits for opens


async def test_identify_on_opt_in_stitches_in_the_same_request(api: ServedApi, engine: Engine) -> None:
    await api.http.post(
        "/track", json={"anonymous_id": "anon-9", "url": "https://greenacre.example/mowers/verdant-900"}
    )

    response = await api.http.post(
        "/contacts",
        json={
            "email": "sam@example.com",
            "persona": "homeowner",
            "topics": ["mowers"],
            "consent": {"source": "https://greenacre.example/mowers/verdant-900#form"},
            "anonymous_id": "anon-9",
        },
        headers=AUTH,
    )

    assert response.status_code == 201, response.text
    cid = response.json()["contact_id"]
    assert response.json()["events_attributed"] == 1
    rows = [(o.journey, o.signal) for o in api.outbox(contact_id=cid)]
    assert rows == [
        ("b2c_cultivation", ENROLL),
        ("b2c_cultivation", temporal_names.SIGNAL_PAGE_VIEW),
    ]  # enroll, then tell
    with session_scope(engine) as s:
        visitor = s.get(Visitor, "anon-9")
        assert visitor is not None
        assert visitor.contact_id == cid


BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5"


def _touch(engine: Engine, contact_id: int, item_id: str, sent_at: datetime) -> int:
    with session_scope(engine) as s:
        touch = Touch(
            idempotency_key=f"test:{contact_id}:{item_id}",
            contact_id=contact_id,
            journey="b2b_drip",
            workflow_id=workflow_ids.journey_workflow_id("b2b_drip", contact_id),
            step="test drop",
            item_id=item_id,
            sender="outbox",
            status="sent",
            created_at=sent_at,
            sent_at=sent_at,
        )
        s.add(touch)
        s.flush()
        assert touch.id is not None
        return touch.id


async def test_link_scanner_clicks_are_stored_with_the_reason_but_never_count(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "scanned@example.com", journeys=("b2b_drip",))
    now = utcnow()
    earlier = _touch(engine, cid, "ll-aware-1", now - timedelta(hours=3))
    just_sent = _touch(engine, cid, "ll-aware-2", now)
    settings = api.ctx.settings

    def link(n: int, touch_id: int) -> str:
        return link_path(links.click_url(settings, f"https://ledgerline.example/guide/{n}", cid, touch_id=touch_id))

    head = await api.http.head(link(1, earlier), headers={"User-Agent": BROWSER})
    gateway = await api.http.get(link(2, earlier), headers={"User-Agent": "Mozilla/5.0 (compatible; Mimecast)"})
    at_delivery = await api.http.get(link(3, just_sent), headers={"User-Agent": BROWSER})
    person = await api.http.get(link(4, earlier), headers={"User-Agent": BROWSER})

    assert [r.status_code for r in (head, gateway, at_delivery, person)] == [302, 302, 302, 302]
    assert person.headers["location"] == "https://ledgerline.example/guide/4"
    clicks = _events(engine, contact_id=cid, kind="clicked")
    assert [(e.url, e.machine) for e in clicks] == [
        ("https://ledgerline.example/guide/1", True),
        ("https://ledgerline.example/guide/2", True),
        ("https://ledgerline.example/guide/3", True),
        ("https://ledgerline.example/guide/4", False),
    ]
    reasons = [str(e.data.get("machine_reason", "")) for e in clicks[:3]]
    assert "HEAD" in reasons[0] and "scanner" in reasons[1] and "delivery" in reasons[2]
    assert [o.signal for o in api.outbox(contact_id=cid)] == [temporal_names.SIGNAL_ENGAGEMENT], (
        "only the person's click"
    )
    rules = scoring_for("b2b_drip")
    assert rules.value(Engagement("clicked", now, machine=True))[1] == 0
    assert rules.value(Engagement("clicked", now))[1] > 0


async def test_page_view_signals_carry_no_email_or_configured_pattern_from_thelink_path(
    api: ServedApi, engine: Engine
) -> None:
    cid = add_contact(engine, "ada@ledgerline.example", journeys=("b2b_drip",))
    api.ctx.settings.pii_url_patterns = [r"acct-\d+"]
    url = "https://ledgerline.example/pricing/for/ada@ledgerline.example/acct-42?email=ada%40ledgerline.example"

    response = await api.http.post(
        "/track", json={"contact_id": cid, "url": url}, headers={"Authorization": f"Bearer {API_TOKEN}"}
    )

    assert response.status_code == 200, response.text
    [signal] = api.outbox(contact_id=cid)
    assert signal.payload["url"] == "https://ledgerline.example/pricing/for/redacted/redacted"
    assert _events(engine, kind="page_view")[0].url == url  # the database keeps what happened
