"""The last notification errors stored before ``tasks.failure_summary`` were the exception's
``repr``, which for a refused recipient (``SMTPRecipientsRefused({'…@…': (550, b'…')})``) or a
server reply repeating it holds the citizen's e-mail address. They are cut to what the job keeps
now: the exception's class and the SMTP codes, or a network error's number."""

import re

from django.db import migrations

_CALL = re.compile(r"\s*([A-Za-z_]\w*)\(")
_FIRST_NUMBER = re.compile(r"\s*[A-Za-z_]\w*\((\d+),")
_REPLY_CODE = re.compile(r"\((\d{3}),")


def summary_of(stored: str) -> str:
    """What ``tasks.failure_summary`` would have kept of the exception shown by ``stored``."""
    call = _CALL.match(stored)
    if call is None:
        return "error"
    kind = call.group(1)
    if kind == "SMTPRecipientsRefused":
        return " ".join([kind, *sorted(set(_REPLY_CODE.findall(stored)))])
    number = _FIRST_NUMBER.match(stored)
    if number is None:
        return kind
    if kind.startswith("SMTP"):
        return f"{kind} {number.group(1)}"
    return f"{kind} errno {number.group(1)}"


def errors_without_address(apps, schema_editor):
    """Every stored error in the old form (a call, "Kind(…)"); the new form never has a
    parenthesis, nor has the note of a withheld notification."""
    Message = apps.get_model("mailbox", "Message")
    for pk, stored in list(
        Message.objects.filter(notification_error__contains="(").values_list(
            "pk", "notification_error"
        )
    ):
        Message.objects.filter(pk=pk).update(notification_error=summary_of(stored))


class Migration(migrations.Migration):
    dependencies = [
        ("mailbox", "0004_pending_file_deletion"),
    ]

    operations = [
        migrations.RunPython(errors_without_address, migrations.RunPython.noop),
    ]
