"""Unscheduled drops marketers broadcast when the market moves (launches, regulations).

Each journey's relevance rule decides who gets one; these items live outside journey catalogs.
"""

from workflows.dsl import Catalog, ContentItem, register_catalog

BROADCASTS = register_catalog(
    "broadcasts",
    Catalog(
        (
            ContentItem(
                id="bc-einvoicing-2027",
                subject="New e-invoicing rules from 1 January: a plain-language summary",
                body="Hi $first_name,\n\nThe e-invoicing regulation published this week changes how incoming "
                "supplier invoices must be received and archived. What changes for $company, what does not, and "
                "the three dates to put in the calendar.",
                stage="awareness",
                topics=frozenset({"compliance"}),
                kind="regulation",
            ),
            ContentItem(
                id="bc-mobile-approvals",
                subject="New: approve invoices from your phone",
                body="Hi $first_name,\n\nApprovers were the bottleneck in most of the workflows we studied. "
                "Ledgerline now sends approvals to the phone, with the invoice image and the PO side by side.",
                stage="consideration",
                topics=frozenset({"automation"}),
                kind="product_launch",
            ),
            ContentItem(
                id="bc-verdant-x2-launch",
                subject="Meet the Verdant X2: the quiet robotic mower for larger lawns",
                body="Hi $first_name,\n\nYou were looking at premium mowers, so you might like to know first: the "
                "Verdant X2 handles lawns up to 3,000 square metres, slopes up to 45%, and runs quieter than a "
                "conversation.",
                stage="consideration",
                topics=frozenset({"mowers"}),
                kind="product_launch",
            ),
            ContentItem(
                id="bc-hosepipe-ban",
                subject="Hosepipe ban announced: keeping your lawn alive this summer",
                body="Hi $first_name,\n\nThe water company has announced a hosepipe ban from next week. A brown "
                "lawn is dormant, not dead. What to do now, and what to leave alone until the rain comes back.",
                stage="awareness",
                topics=frozenset({"lawn-care"}),
                kind="regulation",
            ),
        )
    ),
)
