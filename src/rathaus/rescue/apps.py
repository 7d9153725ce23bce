from django.apps import AppConfig


class RescueConfig(AppConfig):
    name = "rathaus.rescue"
    label = "rescue"
    default_auto_field = "django.db.models.BigAutoField"
