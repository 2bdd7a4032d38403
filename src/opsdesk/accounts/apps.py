from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "opsdesk.accounts"
    label = "accounts"
    verbose_name = "People and organisation"

    def ready(self) -> None:
        from opsdesk.accounts import permissions, search_index

        permissions.register()
        search_index.register()
