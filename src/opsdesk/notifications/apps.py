"""Notifications: what the desk tells people about their tickets, by e-mail, from editable
templates, sent in the background with retries, as each person prefers."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "opsdesk.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from opsdesk.notifications import permissions, receivers, tasks  # noqa: F401  (tasks register the retry sweep)

        permissions.register()
        receivers.connect()
