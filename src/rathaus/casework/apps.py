from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "rathaus.casework"
    label = "casework"
    verbose_name = _("Case work")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_save

        from rathaus.accounts.personal_data import register_export_section
        from rathaus.casework import checks  # noqa: F401  (registers the system check)
        from rathaus.casework.disposal import on_file_disposed, on_file_disposing
        from rathaus.casework.memberships import (
            on_membership_deleted,
            on_membership_saved,
            on_membership_saving,
        )
        from rathaus.casework.models import StaffMembership
        from rathaus.casework.personal_data import personal_data_export
        from rathaus.casework.receivers import on_reply_received
        from rathaus.mailbox.signals import reply_received
        from rathaus.records.signals import file_disposed, file_disposing

        register_export_section("cases", personal_data_export)
        reply_received.connect(on_reply_received, dispatch_uid="casework.reply_received")
        file_disposing.connect(on_file_disposing, dispatch_uid="casework.file_disposing")
        file_disposed.connect(on_file_disposed, dispatch_uid="casework.file_disposed")
        # A membership that ends hands the cases assigned through it back (memberships.py).
        post_delete.connect(
            on_membership_deleted,
            sender=StaffMembership,
            dispatch_uid="casework.membership_deleted",
        )
        pre_save.connect(
            on_membership_saving,
            sender=StaffMembership,
            dispatch_uid="casework.membership_saving",
        )
        post_save.connect(
            on_membership_saved,
            sender=StaffMembership,
            dispatch_uid="casework.membership_saved",
        )
