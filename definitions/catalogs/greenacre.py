"""Greenacre Garden Co. content for homeowners who looked at the Verdant 900 premium mower.

Per seed 000: useful lawn-care advice first; comparison content once they show interest in the product.
"""

from workflows.dsl import Catalog, ContentItem

GREENACRE = Catalog(
    (
        ContentItem(
            id="b2c-autumn-lawn",
            subject="Why your lawn looks tired in autumn (and the 20-minute fix)",
            body="Hi $first_name,\n\nThin, yellowing grass in autumn is usually compaction, not neglect. Twenty "
            "minutes with a garden fork and a bag of top dressing does more than a month of watering. Here is how.",
            stage="awareness",
            topics=frozenset({"lawn-care"}),
        ),
        ContentItem(
            id="b2c-mowing-height",
            subject="Mowing height: the one setting that changes everything",
            body="Hi $first_name,\n\nCutting too short is the most common lawn mistake we see. Keep the blades at "
            "a third of the grass height and roots grow deeper, weeds get shaded out, and the lawn stays green "
            "through dry spells.",
            stage="awareness",
            topics=frozenset({"lawn-care", "mowers"}),
        ),
        ContentItem(
            id="b2c-feeding-calendar",
            subject="Feeding your lawn: a calendar for the whole year",
            body="Hi $first_name,\n\nSpring nitrogen, summer restraint, autumn potassium. A printable calendar "
            "of what to feed your lawn and when, with the quantities for an average garden.",
            stage="awareness",
            topics=frozenset({"lawn-care"}),
        ),
        ContentItem(
            id="b2c-reading-your-lawn",
            subject="Moss, clover or bare patches? What your lawn is telling you",
            body="Hi $first_name,\n\nMoss means shade or poor drainage; clover means low nitrogen; bare patches "
            "mean wear or grubs. A field guide to diagnosing your lawn from the kitchen window.",
            stage="awareness",
            topics=frozenset({"lawn-care"}),
        ),
        ContentItem(
            id="b2c-drought-proofing",
            subject="Water less, grow more: drought-proofing your lawn",
            body="Hi $first_name,\n\nOne deep soak a week beats a daily sprinkle. How to train roots down, which "
            "grass seed copes with hosepipe bans, and why leaving clippings on the lawn helps.",
            stage="awareness",
            topics=frozenset({"lawn-care"}),
        ),
        ContentItem(
            id="b2c-mower-types",
            subject="Petrol, battery or robotic? An honest comparison",
            body="Hi $first_name,\n\nEach type suits a different garden. We compared noise, running cost, cut "
            "quality and effort on lawns from 100 to 2,000 square metres, including the ones we do not sell.",
            stage="consideration",
            topics=frozenset({"comparison", "mowers"}),
        ),
        ContentItem(
            id="b2c-verdant-side-by-side",
            subject="Verdant 900 side by side: cut quality up close",
            body="Hi $first_name,\n\nYou had a look at the Verdant 900. Here is how its cut compares with three "
            "popular mowers after four weeks on the same lawn, photographed at grass level.",
            stage="consideration",
            topics=frozenset({"comparison", "mowers"}),
        ),
        ContentItem(
            id="b2c-ten-year-cost",
            subject="What a premium mower really costs over ten years",
            body="Hi $first_name,\n\nPurchase price is a third of the story. Fuel or electricity, blades, "
            "servicing and replacements over ten years, worked through for three mowers, so you can judge.",
            stage="consideration",
            topics=frozenset({"comparison", "mowers"}),
        ),
        ContentItem(
            id="b2c-blade-care",
            subject="Sharp blades, healthy grass: a maintenance guide",
            body="Hi $first_name,\n\nA blunt blade tears grass and leaves brown tips that invite disease. How to "
            "tell when a blade needs sharpening, and how to do it safely at home.",
            stage="consideration",
            topics=frozenset({"lawn-care", "mowers"}),
        ),
        ContentItem(
            id="b2c-lawn-visit",
            subject="Try the Verdant 900 on your own grass",
            body="Hi $first_name,\n\nThe best test of a mower is your own lawn. Book a free visit and one of our "
            "gardeners will bring a Verdant 900, mow a strip, and answer your questions. No obligation.",
            stage="decision",
            topics=frozenset({"mowers"}),
        ),
        ContentItem(
            id="b2c-warranty-faq",
            subject="Warranty, servicing and trade-ins: your questions answered",
            body="Hi $first_name,\n\nFive-year warranty, annual service at home, and a trade-in price for your old "
            "mower. The details, in plain words.",
            stage="decision",
            topics=frozenset({"mowers"}),
        ),
    )
)
