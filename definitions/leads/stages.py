"""The lifecycle stage model. Owner: revenue operations with marketing and sales.

subscriber -> lead -> mql -> sal (accepted by sales) -> sql (opportunity) -> customer -> advocate, with three
detours off the line: recycled (back to nurture), disqualified, lost. A team renames a stage by changing its
label, or adds one by inserting it into `line` (history rows keep the keys they were written with).
"""

from __future__ import annotations

from workflows.dsl import StageModel, register_stage_model

SUBSCRIBER = "subscriber"
LEAD = "lead"
MQL = "mql"
SAL = "sal"
SQL = "sql"
CUSTOMER = "customer"
ADVOCATE = "advocate"
RECYCLED = "recycled"
DISQUALIFIED = "disqualified"
LOST = "lost"

STAGES = StageModel(
    line=(SUBSCRIBER, LEAD, MQL, SAL, SQL, CUSTOMER, ADVOCATE),
    side=(RECYCLED, DISQUALIFIED, LOST),
    reentry=(RECYCLED,),  # nurture may qualify a recycled lead again; disqualified and lost need a person
    labels=(
        (SUBSCRIBER, "Subscriber"),
        (LEAD, "Lead"),
        (MQL, "Marketing qualified"),
        (SAL, "Sales accepted"),
        (SQL, "Sales qualified (opportunity)"),
        (CUSTOMER, "Customer"),
        (ADVOCATE, "Advocate"),
        (RECYCLED, "Recycled"),
        (DISQUALIFIED, "Disqualified"),
        (LOST, "Lost"),
    ),
)
# A handed-off lead becomes an MQL; one sales rejects goes back to nurture as recycled.
register_stage_model(STAGES, qualified=MQL, recycled=RECYCLED)

# Stages in which a lead is worked by sales (the ranked list and the digest look at these and at mql).
PIPELINE = (MQL, SAL, SQL)

# The journey a contact enters on becoming a customer (`definitions/customer_care.py`); a purchase ends every
# other journey of the contact (its goal is reached) but not this one.
CUSTOMER_JOURNEY = "customer_care"
