from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailboxConfig(AppConfig):
    name = "rathaus.mailbox"
    label = "mailbox"
    verbose_name = _("Mailbox")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.accounts.personal_data import (
            register_erasure_handler,
            register_export_section,
        )
        from rathaus.mailbox.personal_data import personal_data_export
        from rathaus.mailbox.services import erase_for_account_deletion

        register_export_section("mailbox", personal_data_export)
        register_erasure_handler("mailbox", erase_for_account_deletion)

        from allauth.account.signals import email_confirmed

        email_confirmed.connect(_queue_withheld_notifications, dispatch_uid="mailbox-notify")


def _queue_withheld_notifications(
    sender: Any, *, request: Any, email_address: Any, **_: Any
) -> None:
    """Once an owner confirms their address, the notifications withheld until then go out."""
    from django.db import transaction

    from rathaus.mailbox.tasks import queue_after_confirmation

    user_id = email_address.user_id
    transaction.on_commit(lambda: queue_after_confirmation(user_id=user_id))
