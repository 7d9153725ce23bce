from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "rathaus.ledger"
    label = "ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.ledger import checks  # noqa: F401 - registers the system check
