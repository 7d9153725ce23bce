from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "rathaus.payments"
    label = "payments"
    verbose_name = _("Payments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.accounts.personal_data import register_export_section

        # Registers the XBezahldienste client as a provider plugin.
        from rathaus.payments import xbezahldienste  # noqa: F401
        from rathaus.payments.personal_data import personal_data_export

        register_export_section("payments", personal_data_export)
