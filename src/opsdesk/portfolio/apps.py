from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "opsdesk.portfolio"
    label = "portfolio"
    verbose_name = "Service portfolio"

    def ready(self) -> None:
        from opsdesk.portfolio import permissions, search_index, tasks  # noqa: F401  (tasks register schedules)

        permissions.register()
        search_index.register()
