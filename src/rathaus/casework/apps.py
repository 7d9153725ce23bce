from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "rathaus.casework"
    label = "casework"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.casework import checks  # noqa: F401  (registers the system check)
        from rathaus.casework.disposal import on_file_disposed, on_file_disposing
        from rathaus.casework.receivers import on_reply_received
        from rathaus.mailbox.signals import reply_received
        from rathaus.records.signals import file_disposed, file_disposing

        reply_received.connect(on_reply_received, dispatch_uid="casework.reply_received")
        file_disposing.connect(on_file_disposing, dispatch_uid="casework.file_disposing")
        file_disposed.connect(on_file_disposed, dispatch_uid="casework.file_disposed")
