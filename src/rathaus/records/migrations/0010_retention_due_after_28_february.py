"""Files closed on 28 February whose period counts from the day of closing were due a day late.

A period of years from 28 February ends with 28 February (§ 188 Abs. 2 BGB), so a file whose
period ends in a leap year is due on 29 February; ``retention_dates`` added the years to the day
after closing and made it 1 March. Files not yet disposed of get the right date; the disposal
records of files already disposed of keep what was true when they were disposed of.
"""

import datetime

from django.db import migrations


def due_on_29_february(apps, schema_editor):
    File = apps.get_model("records", "File")
    files = File.objects.filter(
        retention_trigger="closed",
        closed_on__month=2,
        closed_on__day=28,
        retention_years__isnull=False,
        disposal_due_on__isnull=False,
        disposed_on__isnull=True,
    )
    for pk, closed_on, years, due_on in files.values_list(
        "pk", "closed_on", "retention_years", "disposal_due_on"
    ).iterator():
        right = datetime.date(closed_on.year + years, 2, 28) + datetime.timedelta(days=1)
        if right != due_on:
            File.objects.filter(pk=pk).update(disposal_due_on=right)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0009_archive_timestamp_signature"),
    ]

    operations = [
        migrations.RunPython(due_on_29_february, migrations.RunPython.noop),
    ]
