from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "rathaus.records"
    label = "records"
    verbose_name = _("Electronic files (E-Akte)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.records import checks  # noqa: F401  (registers the deploy check)
