"""The lifecycle doors over real HTTP: stage history, ranked leads and CSV imports, behind the API token."""

from __future__ import annotations

from tests.fixtures.api import API_TOKEN, ServedApi
from tests.lifecycle.test_imports_by_natural_key import CONTACTS, ORDERS

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
CSV = {"Content-Type": "text/csv"} | AUTH


async def test_import_then_read_stages_and_ranked_leads(api: ServedApi) -> None:
    imported = await api.http.post("/imports/contacts", content=CONTACTS.encode(), headers=CSV)
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 2
    again = await api.http.post("/imports/contacts", content=CONTACTS.encode(), headers=CSV)
    assert again.json()["created"] == 0 and again.json()["changed"] == 0
    orders = await api.http.post("/imports/orders?name=shop-sync", content=ORDERS.encode(), headers=CSV)
    assert orders.status_code == 200 and orders.json()["stages_moved"] == 2

    top = (await api.http.get("/leads/top", headers=AUTH)).json()["leads"]
    assert [lead["rank"] for lead in top] == [1, 2]
    assert top[0]["readiness"] >= top[1]["readiness"] and "grade" in top[0]["why"]
    assert (await api.http.get("/leads/top?stage=mql", headers=AUTH)).json()["leads"] == []
    cid = top[0]["contact_id"]
    stages = (await api.http.get(f"/contacts/{cid}/stages", headers=AUTH)).json()
    assert stages["stage"] == "customer" and stages["seconds_in_stage"] >= 0
    assert stages["history"][-1]["actor"] == {"kind": "import", "id": "shop-sync (orders)"}


async def test_lifecycle_doors_refuse_strangers_and_bad_input(api: ServedApi) -> None:
    assert (await api.http.get("/leads/top")).status_code == 401
    assert (await api.http.get("/contacts/1/stages", headers={"Authorization": "Bearer nope"})).status_code == 401
    assert (await api.http.post("/imports/orders", content=ORDERS.encode())).status_code == 401
    assert (await api.http.get("/contacts/1/stages", headers=AUTH)).status_code == 404
    assert (await api.http.get("/contacts/99999999999999999999/stages", headers=AUTH)).status_code == 422
    assert (await api.http.get("/leads/top?stage=prospect", headers=AUTH)).status_code == 422
    assert (await api.http.post("/imports/invoices", content=b"x", headers=CSV)).status_code == 404
    assert (await api.http.post("/imports/orders", content=b"\xff\xfe", headers=CSV)).status_code == 400
    bad = await api.http.post("/imports/orders", content=ORDERS.encode(), headers=CSV)  # no such contacts yet
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        "line 2: no contact with external_id crm-1 (import contacts first)",
        "line 3: no contact with new@example.com (import contacts first)",
    ]
    assert (await api.http.get("/leads/top", headers=AUTH)).json()["leads"] == []
