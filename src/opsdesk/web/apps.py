from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "opsdesk.web"
    label = "web"
    verbose_name = "Web interface"
