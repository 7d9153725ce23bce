from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "rathaus.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the XBezahldienste client as a provider plugin.
        from rathaus.payments import xbezahldienste  # noqa: F401
