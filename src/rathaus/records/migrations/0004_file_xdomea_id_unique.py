import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0003_file_xdomea_id_values"),
    ]

    operations = [
        migrations.AlterField(
            model_name="file",
            name="xdomea_id",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="xdomea ID"
            ),
        ),
    ]
