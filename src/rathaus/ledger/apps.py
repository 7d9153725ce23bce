from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "rathaus.ledger"
    label = "ledger"
    verbose_name = _("GovChain (verifiable documents)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.ledger import checks  # noqa: F401 - registers the system check
