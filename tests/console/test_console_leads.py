"""The leads page ranks leads from the database with why, filters by owner and stage (unknown ones are a 422
page, not a 500), and a journey's page counts its contacts by lifecycle stage from the lead table."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import insert

from nurture.clock import utcnow
from nurture.db.tables import CONTACT, ENROLLMENT, LEAD, OWNER
from tests.console.conftest import add_console_user, sign_in
from tests.fixtures.api import ServedApi


def _seed(api: ServedApi) -> list[int]:
    now = utcnow() - timedelta(minutes=5)
    with api.ctx.engine.begin() as conn:
        owner_ids = [
            conn.execute(
                insert(OWNER).returning(OWNER.c.id),
                {"key": key, "name": key.title(), "team": "sales", "updated_at": now},
            ).scalar_one()
            for key in ("ana", "ben")
        ]
        ids = []
        for n, (stage, readiness, owner) in enumerate(
            [("mql", 50.0, 0), ("sal", 90.0, 1), ("mql", 70.0, 1), ("lead", 10.0, None)]
        ):
            cid = conn.execute(
                insert(CONTACT).returning(CONTACT.c.id),
                {
                    "email": f"lead{n}@example.com",
                    "first_name": f"L{n}",
                    "last_name": "",
                    "company": "",
                    "persona": "general",
                    "time_zone": "UTC",
                    "topics": [],
                    "status": "active",
                    "consent_source": "form",
                    "created_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            ids.append(int(cid))
            conn.execute(
                insert(LEAD),
                {
                    "contact_id": cid,
                    "stage": stage,
                    "stage_entered_at": now,
                    "grade": "B",
                    "score": readiness / 2,
                    "signals": [],
                    "value": 0.0,
                    "readiness": readiness,
                    "why": {"rank": f"why-{n}: fit B, score {readiness / 2}"},
                    "owner_id": None if owner is None else owner_ids[owner],
                    "updated_at": now,
                },
            )
            if n < 3:  # the fourth never entered b2b_drip
                conn.execute(
                    insert(ENROLLMENT),
                    {"contact_id": cid, "journey": "b2b_drip", "workflow_id": f"wf-lead-{cid}", "enrolled_at": now},
                )
        fresh = conn.execute(  # enrolled, and no stage move yet: no lead row (ensure_lead makes it at the first)
            insert(CONTACT).returning(CONTACT.c.id),
            {"email": "fresh@example.com", "first_name": "F", "last_name": "", "company": "", "persona": "general",
             "time_zone": "UTC", "topics": [], "status": "active", "consent_source": "csv", "created_at": now,
             "updated_at": now},
        ).scalar_one()  # fmt: skip
        conn.execute(
            insert(ENROLLMENT),
            {"contact_id": fresh, "journey": "b2b_drip", "workflow_id": f"wf-lead-{fresh}", "enrolled_at": now},
        )
        erased = conn.execute(  # erasure deletes the lead row and keeps the enrollment (anonymised) for the counts
            insert(CONTACT).returning(CONTACT.c.id),
            {"email": "erased-x@erased.invalid", "first_name": "", "last_name": "", "company": "",
             "persona": "general", "time_zone": "UTC", "topics": [], "status": "suppressed",
             "suppressed_reason": "erased", "created_at": now, "updated_at": now},
        ).scalar_one()  # fmt: skip
        conn.execute(
            insert(ENROLLMENT),
            {"contact_id": erased, "journey": "b2b_drip", "workflow_id": f"wf-lead-{erased}", "enrolled_at": now},
        )
    return ids


async def test_leads_are_ranked_with_why_and_filtered_by_owner_and_stage(api: ServedApi) -> None:
    add_console_user(api.ctx.engine)
    ids = _seed(api)
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        assert (await http.get("/console/leads")).status_code == 303  # signed out: to the sign-in page
        assert (await sign_in(http)).status_code == 303
        page = await http.get("/console/leads")
        assert page.status_code == 200
        order = [page.text.index(f"why-{n}:") for n in (1, 2, 0, 3)]
        assert order == sorted(order)  # readiest first: 90, 70, 50, 10
        bens = await http.get("/console/leads", params={"owner": "ben"})
        assert "why-1:" in bens.text and "why-2:" in bens.text and "why-0:" not in bens.text
        ben_mql = await http.get("/console/leads", params={"owner": "ben", "stage": "mql"})
        assert "why-2:" in ben_mql.text and "why-1:" not in ben_mql.text
        assert f'href="/console/contacts/{ids[2]}"' in ben_mql.text
        for bad in ({"stage": "nope"}, {"owner": "<script>x"}):
            refused = await http.get("/console/leads", params=bad)
            assert refused.status_code == 422 and "unknown" in refused.text and "<script>x" not in refused.text

        journey = await http.get("/console/journeys/b2b_drip")
        assert journey.status_code == 200
        counts = journey.text[journey.text.index('id="lifecycle"') :]
        assert '<tr data-stage="mql"><td>Marketing qualified</td><td class="num">2</td>' in counts
        assert '<tr data-stage="sal"><td>Sales accepted</td><td class="num">1</td>' in counts
        assert '<tr data-stage="lead"><td>Lead</td><td class="num">0</td>' in counts  # not in this journey
        assert '<tr data-stage="subscriber"><td>Subscriber</td><td class="num">1</td>' in counts, "no lead row yet"
