"""Live chat: a widget in the portal (embeddable elsewhere), chats queued for agents on shift,
messages and typing over WebSockets, and transcripts that become tickets."""

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "opsdesk.chat"
    label = "chat"
    verbose_name = "Live chat"

    def ready(self) -> None:
        from opsdesk.chat import permissions, tasks  # noqa: F401  (tasks register the idle sweep)

        permissions.register()
