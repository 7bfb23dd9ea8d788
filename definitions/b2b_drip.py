"""B2B drip for opted-in finance and IT prospects who are not yet ready to buy (seed 001).

Audience: contacts enrolled with persona finance-lead or it-lead. Owner: growth marketing.
Rhythm: one informational drop about every two weeks, inside business hours in the contact's time zone.
Readiness: checked gently every third drop, or at once after a pricing-page visit.
Exits: unsubscribe, bounce or complaint (at any moment); sales accepts the lead; the catalog runs out.
"""

from definitions.catalogs.ledgerline import LEDGERLINE
from workflows.dsl import EMAIL_CLICKED, PAGE_VIEW, Journey, journey, weeks

CADENCE = weeks(2)


@journey("b2b_drip", catalog=LEDGERLINE, threshold=45)
async def b2b_drip(j: Journey) -> None:
    """B2B drip: informational drops every two weeks, gentle readiness checks, handoff to sales."""
    while not j.catalog_exhausted:
        await j.until_send_window()
        sent_at = j.now
        if await j.drop() is None:
            continue  # the provider refused this item; try the next one

        heard = await j.wait_for(PAGE_VIEW("/pricing*"), EMAIL_CLICKED, timeout=CADENCE)
        pricing_visit = heard is not None and heard.kind == "page_view"
        if heard is not None and pricing_visit:
            j.decide("check readiness now", f"visited {heard.url}: a strong buying signal")

        # Ask gently: only after strong engagement, or every third drop.
        if (pricing_visit or j.drops_sent % 3 == 0) and await j.ready():
            await j.hand_off("qualified by lead score")
            continue  # rejected or no feedback: back to nurture after the cool-down, with the reason kept

        await j.sleep(sent_at + CADENCE - j.now, "keep the two-week rhythm")
