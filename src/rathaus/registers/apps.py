from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistersConfig(AppConfig):
    name = "rathaus.registers"
    label = "registers"
    verbose_name = _("Registers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.accounts.personal_data import register_export_section
        from rathaus.registers.personal_data import personal_data_export

        register_export_section("landlord_confirmations", personal_data_export)
