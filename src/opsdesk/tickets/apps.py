from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "opsdesk.tickets"
    label = "tickets"
    verbose_name = "Service desk"

    def ready(self) -> None:
        from opsdesk.tickets import permissions, tasks  # noqa: F401  (tasks register the escalation sweep)

        permissions.register()
