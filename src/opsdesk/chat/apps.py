from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "opsdesk.chat"
    label = "chat"
    verbose_name = "Live chat"
