"""Beyond the sale: customers get onboarding, then light-touch loyalty drops, then one advocacy ask (seed: nurture
"to conversion and beyond to loyalty & advocacy").

Audience: contacts who bought (an order imported or synced from the CRM enrolls them). Owner: customer success.
Rhythm: onboarding a week apart; loyalty drops about monthly. Advocacy: asked once, only when engagement is high
(score at the threshold); a click through to the referral or review page is the advocate's act.
Exits: unsubscribe, bounce or complaint; the advocacy ask answered or unanswered; the catalog runs out.
"""

from definitions.catalogs.customer_care import CUSTOMER_CARE
from workflows.dsl import EMAIL_CLICKED, PAGE_VIEW, Journey, SendWindow, journey, weeks

LOYALTY_RHYTHM = weeks(4)
ONBOARDING_STEPS = 2  # the catalog's onboarding items, one a week


@journey("customer_care", catalog=CUSTOMER_CARE, threshold=20, send_window=SendWindow())
async def customer_care(j: Journey) -> None:
    """Customer care: onboarding, loyalty drops, and an advocacy ask when engagement is high."""
    for _ in range(ONBOARDING_STEPS):
        await j.until_send_window()
        await j.drop("onboarding a new customer", topic="onboarding")
        await j.sleep(weeks(1), "one onboarding step a week")
    while True:
        await j.until_send_window()
        if (await j.drop("light-touch loyalty", topic="loyalty")).exhausted:
            break  # no loyalty item left: the relationship goes on without this journey
        await j.wait_for(EMAIL_CLICKED, timeout=LOYALTY_RHYTHM)
        if await j.ready("engaged enough to ask for a referral or a review"):
            await j.until_send_window()
            await j.drop("advocacy ask", topic="advocacy")
            acted = await j.wait_for(PAGE_VIEW("/refer*"), PAGE_VIEW("/review*"), timeout=weeks(3))
            if acted is not None:
                await j.reach_stage("advocate", f"acted on the advocacy ask: {acted.url}")
            else:
                j.decide("no advocacy yet", "did not act on the ask within three weeks")
            return
