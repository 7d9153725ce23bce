from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rathaus.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rathaus.core import integer_lookups

        integer_lookups.register()
