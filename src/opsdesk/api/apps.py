from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "opsdesk.api"
    label = "opsdesk_api"
    verbose_name = "REST API"
