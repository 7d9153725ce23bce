from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "rathaus.forms"
    label = "formschema"
    default_auto_field = "django.db.models.BigAutoField"
