"""Support learning: training records and certifications with expiry, learning paths of
articles assigned to agents and teams, and the team skills matrix."""

from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "opsdesk.learning"
    label = "learning"
    verbose_name = "Learning"

    def ready(self) -> None:
        from opsdesk.learning import permissions, tasks  # noqa: F401  (tasks register the daily sweep)

        permissions.register()
