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
    EntryRule,
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
MOWER_PAGES = PAGE_VIEW("/mowers/*")
COMPARISONS = PAGE_VIEW("/compare*")
MOWER_LAUNCH = PRODUCT_LAUNCHED(topic="mowers")


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
    entry=EntryRule(personas={"homeowner"}, topics={"mowers"}),  # homeowners, or an email given on a mower page
    send_window=WEEKENDS_TOO,
    holidays=True,  # no drop on a public holiday of the contact's country or a company closure date
    relevance=garden_news_only,
    cooldown_after_rejection=weeks(6),
)
async def b2c_cultivation(j: Journey) -> None:
    """B2C cultivation: lawn-care advice, comparison content on product interest, launch news if relevant."""
    while not j.catalog_exhausted:
        await j.until_send_window()
        sent_at = j.now
        if not (await j.drop(topic="lawn-care")).sent:
            await j.drop()  # no lawn-care advice left (or it was refused): whatever fits next

        heard = await j.wait_for(MOWER_PAGES, COMPARISONS, EMAIL_CLICKED, MOWER_LAUNCH, timeout=CADENCE)
        if heard is not None and heard.matches(MOWER_PAGES, COMPARISONS, MOWER_LAUNCH):
            j.decide("send comparison content", f"showed product interest: {heard.url or 'mower launch'}")
            await j.sleep(days(1), "do not pounce")
            await j.until_send_window()
            if (await j.drop("looked at mowers", topic="comparison")).sent and await j.ready():
                answer = await j.hand_off("compared mowers and scored high enough for a lawn visit")
                if answer.accepted:
                    return  # the store team booked the visit
                await j.cool_down()
                continue

        await j.sleep_until(sent_at + CADENCE, "keep the two-week rhythm")
