from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "opsdesk.tickets"
    label = "tickets"
    verbose_name = "Service desk"

    def ready(self) -> None:
        from opsdesk.tickets import permissions, search_index, tasks  # noqa: F401  (tasks: the sweeps)

        permissions.register()
        search_index.register()
