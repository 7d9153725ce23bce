from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "rathaus.core"
    label = "core"
    verbose_name = _("Municipalities and audit trail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from rathaus.core import (
            checks,  # noqa: F401  (registers the deploy checks)
            integer_lookups,
            sessions,
        )

        integer_lookups.register()
        user_logged_in.connect(sessions.on_user_logged_in, dispatch_uid="rathaus-login-time")
