from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "rathaus.applications"
    label = "applications"
    verbose_name = _("Applications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.accounts.personal_data import (
            register_erasure_handler,
            register_export_section,
        )
        from rathaus.applications.disposal import on_file_disposed
        from rathaus.applications.selectors import personal_data_export
        from rathaus.applications.services import erase_for_account_deletion, on_payment_confirmed
        from rathaus.payments.signals import payment_confirmed
        from rathaus.records.signals import file_disposed

        register_export_section("applications", personal_data_export)
        register_erasure_handler("applications", erase_for_account_deletion)
        payment_confirmed.connect(on_payment_confirmed, dispatch_uid="applications.paid")
        file_disposed.connect(on_file_disposed, dispatch_uid="applications.file_disposed")
