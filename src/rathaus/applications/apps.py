from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "rathaus.applications"
    label = "applications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.applications.services import on_payment_confirmed
        from rathaus.payments.signals import payment_confirmed

        payment_confirmed.connect(on_payment_confirmed, dispatch_uid="applications.paid")
