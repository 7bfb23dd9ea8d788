"""Ledgerline (accounts-payable automation) content for finance and IT prospects.

Informational first, per seed 001: each item helps the reader do their job; the sell stays subliminal until
the decision stage. Each item has a second subject line, a question, for arm b of b2b_drip's "subject-line"
experiment (arm a gets `subject`).
"""

from workflows.dsl import Catalog, ContentItem

SUBJECT_B = "subject-line:b"  # arm b of b2b_drip's subject-line test: the question a reader would ask
FINANCE = frozenset({"finance-lead"})
IT = frozenset({"it-lead"})

LEDGERLINE = Catalog(
    (
        ContentItem(
            id="b2b-close-checklist",
            subject="The month-end close checklist our customers actually use",
            subjects={SUBJECT_B: "$first_name, which of these 15 close tasks does nobody own?"},
            body="Hi $first_name,\n\nMonth-end close rarely fails on the big things; it fails on the fifteen small "
            "ones nobody owns. Here is the checklist finance teams like yours at $company print and tape to the "
            "wall: accruals cut-off, vendor statement reconciliation, and the three approvals that always stall.",
            stage="awareness",
            personas=FINANCE,
            topics=frozenset({"close", "reporting"}),
        ),
        ContentItem(
            id="b2b-approval-costs",
            subject="Five signs your approval workflow costs more than it should",
            subjects={SUBJECT_B: "Is your approval workflow quietly costing $company money?"},
            body="Hi $first_name,\n\nIf invoices wait in inboxes, get approved twice or paid late enough to lose "
            "the early-payment discount, your approval chain is quietly expensive. Five signs to look for, and "
            "how to measure each one in an afternoon.",
            stage="awareness",
            topics=frozenset({"automation"}),
        ),
        ContentItem(
            id="b2b-einvoicing-primer",
            subject="E-invoicing mandates: what your AP team needs to know this year",
            subjects={SUBJECT_B: "Is $company ready for this year's e-invoicing deadlines?"},
            body="Hi $first_name,\n\nStructured e-invoicing is becoming mandatory across Europe. This primer "
            "covers which formats matter, what changes for incoming supplier invoices, and which deadlines are "
            "real for a company like $company.",
            stage="awareness",
            topics=frozenset({"compliance"}),
        ),
        ContentItem(
            id="b2b-shadow-it",
            subject="Connecting finance tools without creating a shadow-IT problem",
            subjects={SUBJECT_B: "Who signs off on the next finance tool, $first_name?"},
            body="Hi $first_name,\n\nFinance teams buy tools; IT inherits them. A short guide to single sign-on, "
            "audit logs and data residency questions to settle before the next finance tool lands on your desk.",
            stage="awareness",
            personas=IT,
            topics=frozenset({"security", "integration"}),
        ),
        ContentItem(
            id="b2b-approval-benchmark",
            subject="Benchmark: how long invoice approval takes at companies your size",
            subjects={SUBJECT_B: "Are your invoices slower to approve than your peers'?"},
            body="Hi $first_name,\n\nWe surveyed 400 finance teams: the median invoice takes 9.3 days from "
            "receipt to approval; the top quartile does it in under two. The full benchmark, by company size "
            "and industry.",
            stage="awareness",
            topics=frozenset({"automation", "reporting"}),
        ),
        ContentItem(
            id="b2b-build-vs-buy",
            subject="Build or buy AP automation? A one-page worksheet",
            subjects={SUBJECT_B: "Build or buy, $first_name? Settle it on one page"},
            body="Hi $first_name,\n\nEvery ERP can be scripted into approving invoices. Whether it should be is "
            "a question of volume, exceptions and who maintains it. This worksheet walks $company through the "
            "numbers in fifteen minutes.",
            stage="consideration",
            topics=frozenset({"automation"}),
        ),
        ContentItem(
            id="b2b-distributor-case",
            subject="How a 200-person distributor closed the books four days faster",
            subjects={SUBJECT_B: "Could $company close the books four days faster?"},
            body="Hi $first_name,\n\nNorthwind Supply processed 3,000 invoices a month by email and spreadsheet. "
            "Here is what they changed first, what they left alone, and the four days a month they got back.",
            stage="consideration",
            personas=FINANCE,
            topics=frozenset({"close", "automation"}),
        ),
        ContentItem(
            id="b2b-security-questions",
            subject="Twelve security questions to ask any finance SaaS vendor",
            subjects={SUBJECT_B: "Would your finance SaaS vendor pass these twelve questions?"},
            body="Hi $first_name,\n\nSOC 2 is a start, not an answer. Twelve questions (encryption, access "
            "reviews, sub-processors, exit plans) that separate vendors who have done the work from those who "
            "have a badge.",
            stage="consideration",
            personas=IT,
            topics=frozenset({"security"}),
        ),
        ContentItem(
            id="b2b-cfo-business-case",
            subject="Making the case for automation to your CFO",
            subjects={SUBJECT_B: "What will your CFO ask before saying yes to automation?"},
            body="Hi $first_name,\n\nCFOs fund payback periods, not features. A template for the business case: "
            "hours saved, discounts captured, errors avoided, and the one slide that answers 'why now'.",
            stage="consideration",
            topics=frozenset({"automation"}),
        ),
        ContentItem(
            id="b2b-thirty-days",
            subject="Implementation in 30 days: what the first month looks like",
            subjects={SUBJECT_B: "What would your first 30 days of AP automation look like?"},
            body="Hi $first_name,\n\nWeek one: connect the ERP. Week two: import vendors and approval rules. "
            "Week three: run in parallel. Week four: switch over. What $company would need to have ready.",
            stage="decision",
            topics=frozenset({"automation", "integration"}),
        ),
        ContentItem(
            id="b2b-pricing-explained",
            subject="What actually drives the cost of AP automation",
            subjects={SUBJECT_B: "What really drives the cost of AP automation?"},
            body="Hi $first_name,\n\nInvoice volume, entities and integrations drive price; seats mostly do not. "
            "A plain explanation of how tools in this category are priced, ours included.",
            stage="decision",
            topics=frozenset({"pricing"}),
        ),
        ContentItem(
            id="b2b-reference-calls",
            subject="Talk to a finance team that has done it",
            subjects={SUBJECT_B: "Want to hear it from a finance team that has done it?"},
            body="Hi $first_name,\n\nSometimes the most useful thing is twenty minutes with a peer who made the "
            "switch. Reply to this email and we will set up a reference call with a team like $company's.",
            stage="decision",
            topics=frozenset({"automation"}),
        ),
    )
)
