from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RescueConfig(AppConfig):
    name = "rathaus.rescue"
    label = "rescue"
    verbose_name = _("Emergency medical services planning")
    default_auto_field = "django.db.models.BigAutoField"
