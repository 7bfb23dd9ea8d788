"""Ledgerline content for customers: onboarding first, then light-touch loyalty drops, then one advocacy ask.

Topics select the phase: "onboarding", "loyalty", "advocacy" (the journey asks for one topic at a time).
"""

from workflows.dsl import Catalog, ContentItem

CUSTOMER_CARE = Catalog(
    (
        ContentItem(
            id="cc-welcome",
            subject="Welcome to Ledgerline: your first week, step by step",
            body="Hi $first_name,\n\nThree things to set up this week: connect your bank feed, invite your approvers, "
            "and import last month's invoices. Each takes about ten minutes.",
            topics=frozenset({"onboarding"}),
        ),
        ContentItem(
            id="cc-first-close",
            subject="Your first month-end close with Ledgerline",
            body="Hi $first_name,\n\nA checklist for closing the month in Ledgerline, with the two reports your "
            "auditors will ask for first.",
            topics=frozenset({"onboarding"}),
        ),
        ContentItem(
            id="cc-approval-rules",
            subject="Approval rules that save an hour a week",
            body="Hi $first_name,\n\nHow finance teams at companies like $company set approval thresholds so "
            "small invoices never wait for a manager.",
            topics=frozenset({"loyalty"}),
        ),
        ContentItem(
            id="cc-year-end",
            subject="Year-end in Ledgerline: what to do in December",
            body="Hi $first_name,\n\nThe four year-end tasks, in order, and how to hand your accountant a clean file.",
            topics=frozenset({"loyalty"}),
        ),
        ContentItem(
            id="cc-whats-new",
            subject="Three Ledgerline features you may have missed",
            body="Hi $first_name,\n\nBatch payments, supplier statements and the new cash-flow forecast.",
            topics=frozenset({"loyalty"}),
        ),
        ContentItem(
            id="cc-refer",
            subject="Know a finance team that would like this? Refer them",
            body="Hi $first_name,\n\nIf Ledgerline has made month-end easier at $company, a colleague elsewhere might "
            "like it too. Refer them and both of you get a month free, or leave us a review.",
            topics=frozenset({"advocacy"}),
            kind="advocacy-ask",
        ),
    )
)
