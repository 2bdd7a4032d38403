from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "opsdesk.webhooks"
    label = "webhooks"
    verbose_name = "Inbound webhooks"
