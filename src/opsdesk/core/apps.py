from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "opsdesk.core"
    label = "core"
    verbose_name = "OpsDesk core"

    def ready(self) -> None:
        # Registers the security-log receivers and the platform's own tasks and schedules.
        from opsdesk.core import security_events, tasks  # noqa: F401
