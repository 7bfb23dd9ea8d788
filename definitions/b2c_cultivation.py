"""B2C cultivation for visitors who looked at the Verdant 900 premium mower and gave an email (seed 000).

Audience: homeowners who opted in on a mower page. Owner: e-commerce marketing.
Rhythm: lawn-care advice about every two weeks; comparison content as soon as they look at mowers again.
Market events: a mower launch reaches them as an unscheduled drop (topic "mowers"); others are skipped.
Readiness: checked after they compare mowers; "sales" is a free lawn visit booked by the store team.
Exits: unsubscribe, bounce or complaint; the store team books the visit; the catalog runs out.
"""

from definitions.catalogs.greenacre import GREENACRE
from workflows.dsl import (
    EMAIL_CLICKED,
    PAGE_VIEW,
    PRODUCT_LAUNCHED,
    Journey,
    JourneyView,
    Offer,
    SendWindow,
    days,
    journey,
    weeks,
)

CADENCE = weeks(2)
WEEKENDS_TOO = SendWindow(weekdays=frozenset(range(7)), start_hour=8, end_hour=20)


def garden_news_only(view: JourneyView, offer: Offer) -> str | None:
    """Homeowners hear about mowers and lawns, never about accounts-payable software."""
    if not offer.item.topics & {"mowers", "lawn-care"}:
        return "not garden news"
    if offer.kind == "product_launch" and "mowers" not in view.topics:
        return "not interested in mowers"
    return None


@journey(
    "b2c_cultivation",
    catalog=GREENACRE,
    threshold=40,
    send_window=WEEKENDS_TOO,
    relevance=garden_news_only,
    cooldown_after_rejection=weeks(6),
)
async def b2c_cultivation(j: Journey) -> None:
    """B2C cultivation: lawn-care advice, comparison content on product interest, launch news if relevant."""
    while not j.catalog_exhausted:
        await j.until_send_window()
        sent_at = j.now
        await j.drop(topic="lawn-care") or await j.drop()

        heard = await j.wait_for(
            PAGE_VIEW("/mowers/*"), PAGE_VIEW("/compare*"), EMAIL_CLICKED, PRODUCT_LAUNCHED("mowers"), timeout=CADENCE
        )
        if heard is not None and heard.kind in ("page_view", "broadcast"):
            j.decide("send comparison content", f"showed product interest: {heard.url or 'mower launch'}")
            await j.sleep(days(1), "do not pounce")
            await j.until_send_window()
            if await j.drop("looked at mowers", topic="comparison") and await j.ready():
                await j.hand_off("compared mowers and scored high enough for a lawn visit")
                continue

        await j.sleep(sent_at + CADENCE - j.now, "keep the two-week rhythm")
