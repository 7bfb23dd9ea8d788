"""The HTTP service: SendGrid Event Webhook, web tracking, identity, contacts, broadcasts."""
