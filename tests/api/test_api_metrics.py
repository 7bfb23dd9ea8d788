"""`/metrics` on the API, scraped over real HTTP: requests by route template, latency, webhook events by kind,
outbox and mailer backlogs computed at scrape time; no token needed and no email or id in any label."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from temporalio.client import Client

from nurture.clock import utcnow
from nurture.context import AppContext
from nurture.db.engine import make_engine
from nurture.inbound.confirmation import send_confirmation
from tests.api.payloads import add_contact, event
from tests.fixtures.api import AUTH, ServedApi, api_settings, free_port, served_api


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def test_metrics_scrape_shows_routes_webhook_kinds_and_backlogs(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "metrics-person@example.com", journeys=("b2b_drip",))
    other = add_contact(engine, "queued-mail@example.com")
    with engine.begin() as conn:
        # as with a provider configured: queued for a mailer (none runs in this API)
        with_provider = api.ctx.settings.model_copy(update={"sendgrid_api_key": SecretStr("SG.test")})
        send_confirmation(conn, with_provider, other, utcnow() - timedelta(minutes=5))
    now = utcnow()
    batch = [
        event("open", cid, at=now - timedelta(minutes=3)),
        event("click", cid, at=now - timedelta(minutes=2)),
        event("click", cid, at=now - timedelta(minutes=1)),
    ]
    assert (await api.post_events(batch)).status_code == 200
    assert (await api.http.get(f"/contacts/{cid}/history")).status_code == 401  # no token: still counted
    assert (await api.http.get("/no-such-page/metrics-person@example.com")).status_code == 404

    stranger = await api.http.get("/metrics")
    guessed = await api.http.get("/metrics", headers={"Authorization": "Bearer guessed"})
    assert stranger.status_code == guessed.status_code == 401, "its gauges move with what strangers make it do"
    scraped = await api.http.get("/metrics", headers=AUTH)  # the API token scrapes too

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert "metrics-person" not in scraped.text and "queued-mail" not in scraped.text
    assert f"/{cid}/" not in scraped.text  # route templates, never raw paths
    s = _samples(scraped.text)
    req = "nurture_http_requests_total"
    assert _value(s, req, route="/webhooks/sendgrid", method="POST", status="200") == 1
    assert _value(s, req, route="/contacts/{contact_id}/history", method="GET", status="401") == 1
    assert _value(s, req, route="<unmatched>", method="GET", status="404") == 1
    latency = "nurture_http_request_duration_seconds_count"
    assert _value(s, latency, route="/webhooks/sendgrid", method="POST") == 1
    assert _value(s, "nurture_http_request_duration_seconds_sum", route="/webhooks/sendgrid", method="POST") > 0
    assert _value(s, "nurture_webhook_events_total", kind="clicked") == 2
    assert _value(s, "nurture_webhook_events_total", kind="opened") == 1
    assert _value(s, "nurture_outbox_backlog") >= 1  # the click's signal, no relay running
    assert _value(s, "nurture_outbox_oldest_age_seconds") >= 0
    assert _value(s, "nurture_database_up") == 1
    assert _value(s, "nurture_mailer_backlog") == 1
    assert 290 <= _value(s, "nurture_mailer_oldest_age_seconds") < 3600

    again = _samples((await api.http.get("/metrics", headers=AUTH)).text)
    assert _value(again, req, route="/metrics", method="GET", status="200") == 1  # the first scrape, counted


SCRAPER = "prometheus-scrape-token-0123"  # NURTURE_METRICS_TOKEN: scrapes, and opens no admin door


async def test_a_scrape_during_a_database_outage_answers_and_says_so(webhook_key: tuple[object, str]) -> None:
    private, public = webhook_key
    dead = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere", pool_pre_ping=False)
    client = await Client.connect("127.0.0.1:9", lazy=True)
    try:
        settings = api_settings(free_port(), public, metrics_token=SecretStr(SCRAPER))
        async with served_api(AppContext(settings, dead, client), private) as api:  # type: ignore[arg-type]
            scraped = await api.http.get("/metrics", headers={"Authorization": f"Bearer {SCRAPER}"})
            admin = await api.http.get("/contacts/1/export", headers={"Authorization": f"Bearer {SCRAPER}"})
    finally:
        dead.dispose()
    assert admin.status_code == 401, "the metrics token opens no other door"
    assert scraped.status_code == 200
    s = _samples(scraped.text)
    assert _value(s, "nurture_database_up") == 0
    assert ("nurture_outbox_backlog", frozenset()) not in s  # no made-up zero backlog
