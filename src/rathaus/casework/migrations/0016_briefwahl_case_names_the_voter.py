"""Postal-vote cases applied for another voter named the authorised person as the applicant.

``Case.applicant_name`` was the first person's name among the answers; the Briefwahl form asks
for the authorised person (``representative``) before the voter (``name``). The name of such a
case becomes the voter's again, from the answers the case keeps. Only where the stored name is
exactly what the old rule gave (the representative's), so that nothing else is overwritten;
purged cases (no answers) are left alone. The file title in the E-Akte is not rewritten: the
file's history is the records module's. Issued notices keep their text.
"""

from django.db import migrations


def _person(value):
    """A frozen copy of ``casework.services._person_name``."""
    if isinstance(value, dict) and value.get("family_name"):
        return f"{value.get('given_names', '')} {value['family_name']}".strip()[:200]
    return ""


def name_the_voter(apps, schema_editor):
    Case = apps.get_model("casework", "Case")
    cases = Case.objects.filter(service__slug="briefwahl", particulars__applies_for="other")
    for case in cases.only("pk", "applicant_name", "particulars").iterator():
        particulars = case.particulars if isinstance(case.particulars, dict) else {}
        voter = _person(particulars.get("name"))
        representative = _person(particulars.get("representative"))
        if voter and representative and case.applicant_name == representative != voter:
            case.applicant_name = voter
            case.save(update_fields=["applicant_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0015_notice_version_and_approved_text"),
    ]

    operations = [
        migrations.RunPython(name_the_voter, migrations.RunPython.noop),
    ]
