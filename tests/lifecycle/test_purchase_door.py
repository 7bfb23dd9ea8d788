"""`POST /contacts/{id}/purchases`: the CRM reports an order; applied as an orders import line, once per order."""

from __future__ import annotations

from sqlalchemy import select

from nurture.inbound.outbox import OUTBOX
from tests.activities.helpers import add_contact
from tests.fixtures.api import API_TOKEN, ServedApi

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def test_the_purchase_door_makes_a_customer_once_per_order(api: ServedApi) -> None:
    cid = add_contact(api.ctx.engine)
    path = f"/contacts/{cid}/purchases"
    order = {"order_id": "A-1", "amount": 1200, "currency": "EUR", "product": "ledgerline-teams"}
    assert (await api.http.post(path, json=order)).status_code == 401
    first = await api.http.post(path, json=order, headers=AUTH)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == 1 and first.json()["stages_moved"] == 1
    again = await api.http.post(path, json=order, headers=AUTH)
    assert again.json()["created"] == 0, "idempotent by order id"
    assert (await api.http.post("/contacts/987654/purchases", json=order, headers=AUTH)).status_code == 404
    with api.ctx.engine.connect() as conn:
        queued = conn.execute(select(OUTBOX.c.journey, OUTBOX.c.signal)).all()
    assert ("customer_care", "enroll_journey") in [tuple(q) for q in queued]
