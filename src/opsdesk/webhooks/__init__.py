"""Inbound webhooks: signed (HMAC) deliveries from other systems that create or update tickets,
idempotent by delivery id, with every delivery visible."""
