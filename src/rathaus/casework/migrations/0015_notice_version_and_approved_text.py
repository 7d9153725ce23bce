"""``Notice.version`` (raised by every change of a notice's text or state; forms carry the
version their page showed) and ``Notice.approved_text_sha256`` (the text an approval covers).

Notices approved before this migration and not issued yet were approved for the text they have
now (a notice awaiting approval cannot be edited): their digest is filled in, so that they can
still be issued.
"""

import hashlib
import json

from django.db import migrations, models


def _digest(notice):
    """A frozen copy of ``casework.services.notice_text_digest``."""
    said = {
        "title": notice.title,
        "outcome": notice.outcome,
        "document_type": notice.document_type,
        "body": notice.body,
        "legal_basis": notice.legal_basis,
        "remedy": notice.remedy,
    }
    canonical = json.dumps(said, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def approved_texts(apps, schema_editor):
    Notice = apps.get_model("casework", "Notice")
    approved = Notice.objects.filter(status="awaiting_approval", approved_by__isnull=False)
    for notice in approved.iterator():
        notice.approved_text_sha256 = _digest(notice)
        notice.save(update_fields=["approved_text_sha256"])


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0014_case_purged_on_and_purge_bypass"),
    ]

    operations = [
        migrations.AddField(
            model_name="notice",
            name="approved_text_sha256",
            field=models.CharField(
                blank=True, max_length=64, verbose_name="SHA-256 of the approved text"
            ),
        ),
        migrations.AddField(
            model_name="notice",
            name="version",
            field=models.PositiveIntegerField(default=1, verbose_name="version"),
        ),
        migrations.RunPython(approved_texts, migrations.RunPython.noop),
    ]
