from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "rathaus.portal"
    label = "portal"
    verbose_name = _("Portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.accounts.personal_data import (
            register_erasure_handler,
            register_export_section,
        )
        from rathaus.portal import checks  # noqa: F401  (registers the deploy checks)
        from rathaus.portal.personal_data import personal_data_export
        from rathaus.portal.services import erase_for_account_deletion

        register_export_section("accessibility_feedback", personal_data_export)
        register_erasure_handler("accessibility_feedback", erase_for_account_deletion)
