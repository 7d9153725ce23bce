from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rathaus.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from rathaus.core import integer_lookups, sessions

        integer_lookups.register()
        user_logged_in.connect(sessions.on_user_logged_in, dispatch_uid="rathaus-login-time")
