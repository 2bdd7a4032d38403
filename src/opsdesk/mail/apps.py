"""E-mail in: mailboxes (IMAP polling and the built-in SMTP/LMTP receiver), parsing, threading
into tickets, loop and noise protection, and the quarantine."""

from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "opsdesk.mail"
    label = "mail"
    verbose_name = "E-mail in"

    def ready(self) -> None:
        from opsdesk.mail import permissions, tasks  # noqa: F401  (tasks register the poll schedule)

        permissions.register()
