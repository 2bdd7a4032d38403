from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "opsdesk.mail"
    label = "mail"
    verbose_name = "E-mail in"
