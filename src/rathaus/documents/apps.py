from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "rathaus.documents"
    label = "documents"
    verbose_name = _("PDF documents")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.documents import checks  # noqa: F401  (registers the deploy checks)
