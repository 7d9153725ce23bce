from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "rathaus.documents"
    label = "documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.documents import checks  # noqa: F401  (registers the deploy checks)
