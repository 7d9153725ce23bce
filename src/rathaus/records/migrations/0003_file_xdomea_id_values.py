"""Every existing file gets its own xdomea UUID (see 0002)."""

import uuid

from django.db import migrations


def give_every_file_an_xdomea_id(apps, schema_editor):
    File = apps.get_model("records", "File")
    for pk in File.objects.filter(xdomea_id__isnull=True).values_list("pk", flat=True).iterator():
        File.objects.filter(pk=pk).update(xdomea_id=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0002_disposal"),
    ]

    operations = [
        migrations.RunPython(give_every_file_an_xdomea_id, migrations.RunPython.noop),
    ]
