"""Outbound delivery from the API process: the outbox relay (signals and enrolments to Temporal) and the mailer
(transactional mail through the configured provider). Inbound doors write what these deliver; see
`nurture.inbound`.
"""
