"""The knowledge base: articles with their lifecycle, versions and feedback, known errors
published as articles, and the deflection of tickets in the portal."""

from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "opsdesk.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from opsdesk.knowledge import permissions, search_index, tasks  # noqa: F401  (tasks register the review check)

        permissions.register()
        search_index.register()
