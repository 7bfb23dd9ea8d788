"""The fake SendGrid itself: signed Event Webhook posts verify with SendGrid's own helper, events have
SendGrid's shape, bad Mail Send bodies are refused, and other processes can drive it over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from python_http_client.exceptions import BadRequestsError, TooManyRequestsError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook

from nurture.clock import utcnow
from nurture.fakes.sendgrid import FakeSendGrid
from nurture.fakes.sendgrid_events import SIGNATURE_HEADER, TIMESTAMP_HEADER, AcceptedMessage
from tests.activities.receiver import Receiver

MAIL: dict[str, Any] = {
    "personalizations": [{"to": [{"email": "ada@example.com"}, {"email": "bob@example.com"}]}],
    "from": {"email": "hello@nurture.example"},
    "subject": "Hello",
    "content": [{"type": "text/plain", "value": "hi"}, {"type": "text/html", "value": "<p>hi</p>"}],
    "custom_args": {"nurture_contact_id": "7", "nurture_item_id": "b2b-approval-costs"},
}


def send(fake: FakeSendGrid, body: dict[str, Any]) -> AcceptedMessage:
    response = SendGridAPIClient(api_key=fake.api_key, host=fake.url).send(body)
    assert response.status_code == 202
    assert response.body == b""
    return fake.message(response.headers["X-Message-Id"])


def verify(fake: FakeSendGrid, body: bytes, headers: dict[str, str]) -> bool:
    webhook = EventWebhook()
    key = webhook.convert_public_key_to_ecdsa(fake.public_key_b64)
    return bool(webhook.verify_signature(body.decode(), headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER], key))


def test_signed_event_webhook_verifies_with_sendgrids_helper_and_fails_when_tampered(
    fake_sendgrid: FakeSendGrid,
) -> None:
    msg = send(fake_sendgrid, MAIL)
    with Receiver() as receiver:
        fake_sendgrid.webhook_url = f"{receiver.url}/webhooks/sendgrid"
        response = fake_sendgrid.post_events(fake_sendgrid.events(msg, "processed", "delivered"))
    assert response.status_code == 200
    [got] = receiver.received
    assert got.path == "/webhooks/sendgrid"
    assert [e["event"] for e in json.loads(got.body)] == ["processed", "delivered"]
    assert verify(fake_sendgrid, got.body, got.headers)
    assert not verify(fake_sendgrid, got.body.replace(b"delivered", b"bounce"), got.headers)
    other_timestamp = {**got.headers, TIMESTAMP_HEADER: str(int(got.headers[TIMESTAMP_HEADER]) + 1)}
    assert not verify(fake_sendgrid, got.body, other_timestamp)
    assert fake_sendgrid.deliveries[0].status == 200


def test_events_have_sendgrids_shape_with_custom_args_at_top_level(fake_sendgrid: FakeSendGrid) -> None:
    msg = send(fake_sendgrid, MAIL)
    kinds = ["processed", "delivered", "deferred", "bounce", "dropped", "spamreport", "unsubscribe"]
    events = fake_sendgrid.events(msg, *kinds)
    events += fake_sendgrid.events(msg, "open", machine_open=True)
    events += fake_sendgrid.events(msg, "click", url="https://go.nurture.test/t/c/abc")
    events += fake_sendgrid.events(msg, "group_unsubscribe", asm_group_id=42, email="bob@example.com")

    assert [e["event"] for e in events] == [*kinds, "open", "click", "group_unsubscribe"]
    assert len({e["sg_event_id"] for e in events}) == len(events)
    for event in events:
        assert event["sg_message_id"].startswith(f"{msg.message_id}.filter")
        assert isinstance(event["timestamp"], int)
        assert event["nurture_contact_id"] == "7"
        assert event["nurture_item_id"] == "b2b-approval-costs"
    by_kind = {e["event"]: e for e in events}
    assert by_kind["processed"]["email"] == "ada@example.com"
    assert by_kind["open"]["sg_machine_open"] is True
    assert by_kind["click"]["url"] == "https://go.nurture.test/t/c/abc"
    assert by_kind["group_unsubscribe"]["asm_group_id"] == 42
    assert by_kind["group_unsubscribe"]["email"] == "bob@example.com"
    assert by_kind["bounce"]["reason"]
    assert by_kind["dropped"]["reason"] == "Bounced Address"
    with pytest.raises(ValueError, match="url"):
        fake_sendgrid.events(msg, "click")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"personalizations": []}, "personalizations"),
        ({"custom_args": {"nurture_contact_id": 7}}, "custom_args"),
        ({"headers": {"Subject": "sneaky"}}, "headers"),
        ({"content": list(reversed(MAIL["content"]))}, "content"),
        ({"subject": ""}, "subject"),
    ],
)
def test_mail_send_refuses_what_sendgrid_refuses(
    fake_sendgrid: FakeSendGrid, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadRequestsError) as refused:
        SendGridAPIClient(api_key=fake_sendgrid.api_key, host=fake_sendgrid.url).send({**MAIL, **change})
    assert refused.value.status_code == 400
    assert [e["field"] for e in json.loads(refused.value.body)["errors"]] == [field]
    assert fake_sendgrid.messages == []


def test_control_api_programs_failures_lists_messages_and_posts_events(fake_sendgrid: FakeSendGrid) -> None:
    control = httpx.Client(base_url=fake_sendgrid.url)
    assert control.post("/_fake/failures", json={"status": 429, "retry_after": 30}).status_code == 200
    with pytest.raises(TooManyRequestsError) as throttled:
        SendGridAPIClient(api_key=fake_sendgrid.api_key, host=fake_sendgrid.url).send(MAIL)
    assert int(throttled.value.headers["X-RateLimit-Reset"]) >= utcnow().timestamp() + 29
    msg = send(fake_sendgrid, MAIL)
    assert [m["message_id"] for m in control.get("/_fake/messages").json()] == [msg.message_id]
    with Receiver() as receiver:
        fake_sendgrid.webhook_url = receiver.url
        answer = control.post(
            "/_fake/events", json={"message_id": msg.message_id, "events": [{"event": "open", "machine_open": True}]}
        ).json()
    control.close()
    assert answer["webhook_status"] == 200
    [event] = json.loads(receiver.received[0].body)
    assert (event["event"], event["sg_machine_open"]) == ("open", True)


def test_auto_events_post_every_accepted_message_to_the_webhook() -> None:
    with Receiver() as receiver, FakeSendGrid(webhook_url=receiver.url, auto_events=["processed", "delivered"]) as fake:
        msg = send(fake, MAIL)
        deadline = time.monotonic() + 5
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
    [got] = receiver.received
    events = json.loads(got.body)
    assert [(e["event"], e["sg_message_id"].split(".")[0]) for e in events] == [
        ("processed", msg.message_id),
        ("delivered", msg.message_id),
    ]
    assert verify(fake, got.body, got.headers)


def test_cli_serves_and_prints_its_url_and_keys(tmp_path: Any) -> None:
    key_file = tmp_path / "webhook-key.pem"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nurture.fakes.sendgrid", "--port", "0", "--key-file", str(key_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert httpx.get(f"{info['url']}/_fake/info").json()["public_key"] == info["public_key"]
        assert info["env"]["NURTURE_SENDGRID_HOST"] == info["url"]
        response = SendGridAPIClient(api_key=info["api_key"], host=info["url"]).send(MAIL)
        assert response.status_code == 202
    finally:
        proc.terminate()
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # reaped either way: a leaked Popen fails a later test at its collection
            proc.kill()
            code = proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0, "the fake stops cleanly on SIGTERM"
    assert key_file.exists()  # the same key (and public key) next time


@pytest.mark.slow
def test_a_burst_of_hundreds_of_concurrent_sends_is_accepted_without_resets(fake_sendgrid: FakeSendGrid) -> None:
    import threading

    senders = 300
    start = threading.Barrier(senders)
    errors: list[BaseException] = []

    def one() -> None:
        client = SendGridAPIClient(api_key=fake_sendgrid.api_key, host=fake_sendgrid.url)
        start.wait()
        try:
            assert client.send(MAIL).status_code == 202
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=one) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(fake_sendgrid.messages) == senders
