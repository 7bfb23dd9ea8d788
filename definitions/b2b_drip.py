"""B2B drip for opted-in finance and IT prospects who are not yet ready to buy (seed 001).

Audience: contacts enrolled with persona finance-lead or it-lead. Owner: growth marketing.
Rhythm: one informational drop about every two weeks, inside business hours in the contact's time zone.
Readiness: checked gently every third drop, or at once after a pricing-page visit, on fit and behaviour
(`FIT_AND_BEHAVIOUR`): grade B or better with a score of 45, or grade A- or better with a recent pricing visit. A
busy student is not handed off however high the score. A lead the rule refused but close on both axes (a fair fit,
score nearly there) gets a phone call first (seed 001: "most effectively via telephone"): interested on the phone
goes to sales; not now, no answer or no outcome within a week keeps the rhythm.
Sales: the routed owner must accept within one business day (`HANDOFF_SLA`); a miss escalates and re-routes, a
second recycles the lead ("SLA missed").
Exits: unsubscribe, bounce or complaint (at any moment); sales accepts the lead; the catalog runs out.
Measured: 10% of contacts are held out (enrolled, tracked and scored, sent nothing) so `nurture report uplift`
can say whether the drip changes anything; the rest split evenly between the catalog's subject lines (a) and
questions (b) in the "subject-line" test. Both apply to journeys begun after they were introduced.
"""

from definitions.catalogs.ledgerline import LEDGERLINE
from definitions.leads.readiness import READINESS, MqlRule
from definitions.leads.sla import SLAS, SlaPolicy
from workflows.dsl import EMAIL_CLICKED, PAGE_VIEW, EntryRule, Experiment, Journey, journey, weeks

CADENCE = weeks(2)
PRICING_PAGE = PAGE_VIEW("/pricing*")
THRESHOLD = 45
NEARLY_READY = 36  # a score this close under the threshold is worth a call (a higher one was refused on fit)
CALL_GRADE = "B-"  # a fit this good is worth a call when the score is nearly there; a poorer one is not
CALL_TIMEOUT = weeks(1)
HOLDOUT = 0.1
SUBJECT_LINE = Experiment.of("subject-line", ["a", "b"])  # a: the catalog's subjects; b: its questions
FIT_AND_BEHAVIOUR = MqlRule(min_grade="B", min_score=THRESHOLD, strong_grade="A-", strong_signal="pricing page")
HANDOFF_SLA = SlaPolicy(business_hours=8.0, max_misses=2)

READINESS["b2b_drip"] = FIT_AND_BEHAVIOUR
SLAS["b2b_drip"] = HANDOFF_SLA


@journey(
    "b2b_drip",
    catalog=LEDGERLINE,
    threshold=THRESHOLD,
    entry=EntryRule(personas={"finance-lead", "it-lead"}),  # newsletter and whitepaper opt-ins
    holidays=True,  # no drop on a public holiday of the contact's country or a company closure date
    holdout=HOLDOUT,
    experiments=[SUBJECT_LINE],
)
async def b2b_drip(j: Journey) -> None:
    """B2B drip: informational drops every two weeks, gentle readiness checks, handoff to sales."""
    if j.changed("subject-line-test"):  # journeys begun before the test keep the subjects they were getting
        await j.variant(SUBJECT_LINE.key, SUBJECT_LINE.arms, SUBJECT_LINE.weights)  # every drop records the arm
    while not j.catalog_exhausted:
        await j.until_send_window()
        sent_at = j.now
        if not (await j.drop()).sent:
            continue  # refused by the provider, or the contact had it already: try the next item

        heard = await j.wait_for(PRICING_PAGE, EMAIL_CLICKED, timeout=CADENCE)
        pricing_visit = heard is not None and heard.matches(PRICING_PAGE)
        if heard is not None and pricing_visit:
            j.decide("check readiness now", f"visited {heard.url}: a strong buying signal")

        # Ask gently: only after strong engagement, or every third drop.
        checked = pricing_visit or j.drops_sent % 3 == 0
        ready, why = checked and await j.ready(), "qualified by lead score"
        if ready and j.changed("handoff-names-both-axes"):
            why = ""  # hand_off() without a reason passes on the readiness check's: grade and facts, score and top
        worth_a_call, about = checked and not ready and NEARLY_READY <= j.score < THRESHOLD, "nearly ready"
        if checked and not ready and j.changed("call-on-fit-and-score"):  # refused, but close on both axes
            worth_a_call = j.grade.at_least(CALL_GRADE) and j.score >= NEARLY_READY
            about = f"close on fit and behaviour (grade {j.grade}, score {j.score:g})"
        if worth_a_call and j.changed("call-when-nearly-ready"):
            call = await j.call_task(f"{about}: check gently by phone", timeout=CALL_TIMEOUT)
            ready, why = call.interested, f"interested on the phone ({call.value})"
        if ready:
            answer = await j.hand_off(why)
            if answer.accepted:
                return  # a customer now: sales takes it from here
            await j.cool_down()  # rejected or unanswered: rest, then back to nurture with the reason kept
            continue

        await j.sleep_until(sent_at + CADENCE, "keep the two-week rhythm")
