from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rathaus.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.accounts.services import register_own_export_sections

        register_own_export_sections()
