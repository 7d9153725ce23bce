from django.apps import AppConfig


class MailboxConfig(AppConfig):
    name = "rathaus.mailbox"
    label = "mailbox"
    verbose_name = "Postfach"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.accounts.personal_data import register_export_section
        from rathaus.mailbox.personal_data import personal_data_export

        register_export_section("mailbox", personal_data_export)
