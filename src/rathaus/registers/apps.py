from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "rathaus.registers"
    label = "registers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.accounts.personal_data import register_export_section
        from rathaus.registers.personal_data import personal_data_export

        register_export_section("landlord_confirmations", personal_data_export)
