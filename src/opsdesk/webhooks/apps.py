"""Inbound webhooks: signed (HMAC) deliveries from other systems that create or update tickets,
idempotent by delivery id, with every delivery visible."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "opsdesk.webhooks"
    label = "webhooks"
    verbose_name = "Inbound webhooks"

    def ready(self) -> None:
        from opsdesk.webhooks import permissions, tasks  # noqa: F401  (register the schedule)

        permissions.register()
