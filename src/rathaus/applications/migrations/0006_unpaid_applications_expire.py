"""Applications already waiting for their fee get the expiry that new ones get at submission
(``APPLICATION_UNPAID_DAYS``, default 30, counted from the confirmed declaration)."""

import datetime

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def set_expiry(apps, schema_editor):  # type: ignore[no-untyped-def]
    application = apps.get_model("applications", "Application")
    days = datetime.timedelta(days=getattr(settings, "APPLICATION_UNPAID_DAYS", 30))
    waiting = application.objects.filter(status="awaiting_payment", expires_at__isnull=True)
    for row in waiting.only("pk", "declaration_confirmed_at"):
        start = row.declaration_confirmed_at or timezone.now()
        application.objects.filter(pk=row.pk).update(expires_at=start + days)


class Migration(migrations.Migration):
    dependencies = [("applications", "0005_application_purged_on")]

    operations = [migrations.RunPython(set_expiry, migrations.RunPython.noop)]
