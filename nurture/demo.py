"""The `nurture dev` demo: sample contacts opt in over HTTP and behave like people, in compressed time.

Everything goes through the real paths: `POST /contacts` (consent, entry rules, enrollment), `POST /track`
(anonymous and known page views, stitched by the opt-in), the fake SendGrid posting signed Event Webhook batches
(opens, clicks, machine opens) for the drops it really received, a one-click unsubscribe POST to the
`List-Unsubscribe` URL of a real drop, and sales feedback as a signal.

Cast (one day of journey time = one second at the default scale):
- Ada (finance lead, finance director at a 120-person logistics firm: the CRM sync grades her B+, a good fit
  but not strong enough for a pricing visit alone to qualify her): read the blog and the pricing page
  anonymously, then opted in. She opens and clicks her drops and comes back to pricing with her score past 45:
  a readiness check on fit and behaviour hands her to sales, who recycle her ("next quarter").
- Grace (IT lead): Apple Mail opens everything for her (machine opens): stored, never counted as engagement.
- Sam (homeowner): looked at the Verdant 900; viewing the mower page again brings comparison content.
- Lin (homeowner): unsubscribes with one click from her first drop; her journey ends at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from nurture import sendgrid_args, temporal_names, workflow_ids
from nurture.fakes.sendgrid import FakeSendGrid
from nurture.fakes.sendgrid_events import AcceptedMessage, build_event
from nurture.logging import get_logger

log = get_logger(__name__)
# Sales answers Ada this many journey days after the handoff: long enough to find her with
# `NurturePhase = 'with_sales'` in the UI, and before her journey stops waiting (b2b_drip: 14 days).
SALES_ANSWER_AFTER_DAYS = 12

SITE_B2B = "https://ledgerline.example"
SITE_B2C = "https://greenacre.example"


@dataclass(frozen=True)
class Person:
    key: str
    email: str
    first_name: str
    last_name: str
    company: str
    persona: str
    time_zone: str
    topics: tuple[str, ...]
    reacts: str  # engaged | machine | unsubscribes
    source: str
    profile: tuple[tuple[str, str], ...] = ()  # facts the CRM knows (fit grading): role, company_size, ...


CAST = (
    Person("ada", "ada@northwind.example", "Ada", "Lovelace", "Northwind Supply", "finance-lead", "Europe/London",
           ("compliance", "automation"), "engaged", f"{SITE_B2B}/whitepapers/month-end-close",
           (("role", "Finance Director"), ("company_size", "120"), ("industry", "Logistics"), ("country", "GB"))),
    Person("grace", "grace@contoso.example", "Grace", "Hopper", "Contoso", "it-lead", "America/New_York",
           ("security",), "machine", f"{SITE_B2B}/newsletter",
           (("role", "IT Manager"), ("company_size", "80"), ("industry", "Software"), ("country", "US"))),
    Person("sam", "sam@example.net", "Sam", "Gardener", "", "homeowner", "Europe/Dublin",
           ("mowers", "lawn-care"), "engaged", f"{SITE_B2C}/mowers/verdant-900"),
    Person("lin", "lin@example.org", "Lin", "Okafor", "", "homeowner", "Africa/Lagos",
           ("lawn-care",), "unsubscribes", f"{SITE_B2C}/guides/autumn"),
)  # fmt: skip


@dataclass
class Demo:
    api: str  # base URL of nurture's HTTP service
    api_token: str
    fake: FakeSendGrid
    day_seconds: float
    contacts: dict[str, int] = field(default_factory=dict)  # person key -> contact id
    tokens: dict[str, str] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)

    async def run(self, client: Any) -> None:
        """Play the whole story; returns when the scripted part is over (journeys go on)."""
        async with httpx.AsyncClient(base_url=self.api, timeout=10) as http:
            await self._wait_for_api(http)
            await self._track(http, "/blog/approval-bottlenecks", anonymous="anon-ada")
            await self._track(http, "/pricing", anonymous="anon-ada")
            for person in CAST:
                await self._opt_in(http, person)
            watcher = asyncio.create_task(self._react_to_drops(http))
            try:
                await self._story(http, client)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def _story(self, http: httpx.AsyncClient, client: Any) -> None:
        day = self.day_seconds
        await asyncio.sleep(4 * day)
        await self._track(http, "/mowers/verdant-900", person="sam", site=SITE_B2C)
        await asyncio.sleep(13 * day)  # Ada's second drop is out by now
        await self._track(http, "/pricing/teams", person="ada")
        log.info("demo.story", scene="ada is back on the pricing page: a readiness check follows")
        await self._await_phase(client, "ada", "b2b_drip", "with_sales", timeout=20 * day)
        log.info("demo.story", scene=f"ada is with sales for {SALES_ANSWER_AFTER_DAYS} days: filter NurturePhase")
        await asyncio.sleep(SALES_ANSWER_AFTER_DAYS * day)
        handle = client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", self.contacts["ada"]))
        from workflows.payloads import SalesFeedback

        await handle.signal(
            temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(False, "budget frozen until next quarter")
        )
        log.info("demo.story", scene="sales recycled ada into nurture (cool-down first)")

    # ---- people ---------------------------------------------------------------------------------------

    async def _opt_in(self, http: httpx.AsyncClient, person: Person) -> None:
        body = {
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "company": person.company,
            "persona": person.persona,
            "time_zone": person.time_zone,
            "topics": list(person.topics),
            "consent": {"source": person.source},
        }
        if person.key == "ada":
            body["anonymous_id"] = "anon-ada"  # the form fill stitches her anonymous browsing to her
        # the site's server relays its form with the API token: a public post would answer without the id
        response = await http.post("/contacts", json=body, headers={"Authorization": f"Bearer {self.api_token}"})
        response.raise_for_status()
        data = response.json()
        self.contacts[person.key] = int(data["contact_id"])
        if data.get("contact_token"):
            self.tokens[person.key] = str(data["contact_token"])
        if person.profile:  # the CRM sync brings who they are: readiness weighs fit (grade) beside behaviour
            fields = ",".join(name for name, _ in person.profile)
            values = ",".join(value for _, value in person.profile)
            synced = await http.post(
                "/imports/contacts",
                content=f"email,{fields}\n{person.email},{values}\n",
                headers={"Authorization": f"Bearer {self.api_token}", "Content-Type": "text/csv"},
            )
            synced.raise_for_status()
        log.info("demo.opt_in", person=person.key, contact_id=data["contact_id"], journeys=data.get("journeys"))

    async def _track(
        self, http: httpx.AsyncClient, path: str, *, anonymous: str | None = None, person: str | None = None,
        site: str = SITE_B2B,
    ) -> None:  # fmt: skip
        body: dict[str, Any] = {"url": f"{site}{path}"}
        headers = {}
        if anonymous:
            body["anonymous_id"] = anonymous
        if person:
            body["contact_id"] = self.contacts[person]
            headers["Authorization"] = f"Bearer {self.api_token}"
        response = await http.post("/track", json=body, headers=headers)
        if response.status_code >= 400:
            log.warning("demo.track_refused", status=response.status_code, body=response.text[:200])

    async def _react_to_drops(self, http: httpx.AsyncClient) -> None:
        """Each drop the fake SendGrid accepted gets the reaction its recipient's character calls for."""
        by_contact = {}
        while True:
            by_contact = {str(cid): key for key, cid in self.contacts.items()}
            for message in self.fake.messages:
                if message.message_id in self._seen:
                    continue
                person_key = by_contact.get(message.custom_args.get(sendgrid_args.CUSTOM_ARG_CONTACT, ""))
                if person_key is None:
                    continue
                self._seen.add(message.message_id)
                person = next(p for p in CAST if p.key == person_key)
                await self._react(http, person, message)
            await asyncio.sleep(0.3)

    async def _react(self, http: httpx.AsyncClient, person: Person, message: AcceptedMessage) -> None:
        await asyncio.sleep(0.5 * self.day_seconds)
        if person.reacts == "unsubscribes":
            target = message.mail_headers.get("List-Unsubscribe", "").strip("<>")
            if target:
                response = await http.post(target, content=b"List-Unsubscribe=One-Click",
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
                log.info("demo.unsubscribed", person=person.key, status=response.status_code)
            return
        if person.reacts == "machine":
            events = [build_event(message, "open", machine_open=True)]
        else:
            events = [build_event(message, "open"), build_event(message, "click", url=f"{SITE_B2B}/blog")]
        await asyncio.to_thread(self.fake.post_events, events)

    async def _await_phase(self, client: Any, person: str, journey: str, phase: str, timeout: float) -> None:
        from workflows.payloads import JourneyStatus

        handle = client.get_workflow_handle(workflow_ids.journey_workflow_id(journey, self.contacts[person]))
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            with contextlib.suppress(Exception):
                status = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
                if status.phase == phase:
                    return
            await asyncio.sleep(0.5)
        log.warning("demo.phase_not_reached", person=person, phase=phase)

    async def _wait_for_api(self, http: httpx.AsyncClient) -> None:
        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code < 500:
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the API at {self.api} did not come up")
