"""The request catalogue: what people can order (items with a form, a price and an expected
delivery time), who approves each order (sequential steps, N of M in parallel, delegation,
reminders and escalation) and who fulfils it (a plan of team tasks with their own targets)."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "opsdesk.catalog"
    label = "catalog"
    verbose_name = "Request catalogue"

    def ready(self) -> None:
        from opsdesk.catalog import permissions, receivers, tasks  # noqa: F401  (tasks register the sweep)

        permissions.register()
        # A request's ticket resolved or cancelled by hand keeps its request consistent.
        receivers.connect()
