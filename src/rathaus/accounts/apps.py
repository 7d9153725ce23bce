from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rathaus.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from rathaus.accounts.roles import on_user_logged_in
        from rathaus.accounts.services import register_own_export_sections

        user_logged_in.connect(on_user_logged_in, dispatch_uid="rathaus-staff-membership")

        register_own_export_sections()
