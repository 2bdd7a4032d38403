from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "opsdesk.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"
