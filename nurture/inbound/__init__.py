"""Inbound: the doors' domain logic. SendGrid events and web tracking in, stored events and outbox signals out.

Pure parts (parsing, dedupe keys, routing rules, what each journey listens to) are separate from the parts that
touch the database (`store`, `identity`). The HTTP layer lives in `nurture.api`; outbound delivery (the outbox
relay to Temporal, the mailer) in `nurture.outbound`.
"""
