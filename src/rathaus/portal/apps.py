from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "rathaus.portal"
    label = "portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.portal import checks  # noqa: F401  (registers the deploy checks)
