from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "opsdesk.learning"
    label = "learning"
    verbose_name = "Learning"
