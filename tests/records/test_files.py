"""Files: the Aktenzeichen from plan entry, unit, serial number and year; unique per authority."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from freezegun import freeze_time

from rathaus.core.models import AuditEvent, Authority, OrgUnit
from rathaus.records.errors import RecordsError
from rathaus.records.models import File, FilePlan
from rathaus.records.services import import_file_plan, open_file
from tests.accounts.factories import StaffFactory
from tests.records.conftest import PLAN_CSV

BERLIN = datetime.timezone(datetime.timedelta(hours=1))


@freeze_time("2026-03-02 09:00")
def test_the_reference_is_plan_key_serial_number_and_year(
    authority: Authority, plan: FilePlan
) -> None:
    first = open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)
    second = open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)
    assert first.reference == "11.30.01-0001/2026"
    assert second.reference == "11.30.01-0002/2026"
    assert (second.serial, second.year) == (2, 2026)
    assert second.plan_entry.key == "11.30.01"


@freeze_time("2026-03-02 09:00")
def test_a_file_of_an_org_unit_carries_the_unit_mark_in_front(
    authority: Authority, plan: FilePlan, unit: OrgUnit
) -> None:
    with_unit = open_file(
        authority=authority, plan_key="11.30.01", org_unit=unit, title="Anmeldung", actor=None
    )
    without = open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)
    assert with_unit.reference == "33.1-11.30.01-0001/2026"
    assert with_unit.org_unit == unit
    # Files with and without a unit share the counter of the plan entry and year.
    assert without.reference == "11.30.01-0002/2026"


def test_the_serial_number_runs_per_plan_entry_and_year(
    authority: Authority, plan: FilePlan
) -> None:
    def reference(key: str, at: str) -> str:
        opened = datetime.datetime.fromisoformat(at).replace(tzinfo=BERLIN)
        return open_file(
            authority=authority, plan_key=key, title="Akte", actor=None, opened_at=opened
        ).reference

    assert reference("11.30.01", "2026-12-31T23:30") == "11.30.01-0001/2026"
    assert reference("11.30.02", "2026-12-31T23:40") == "11.30.02-0001/2026"
    assert reference("11.30.01", "2027-01-01T00:10") == "11.30.01-0001/2027"
    assert reference("11.30.01", "2027-01-02T08:00") == "11.30.01-0002/2027"


def test_the_year_is_the_local_year_in_germany(authority: Authority, plan: FilePlan) -> None:
    new_year_in_berlin = datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC)
    file = open_file(
        authority=authority,
        plan_key="11.30.01",
        title="Akte",
        actor=None,
        opened_at=new_year_in_berlin,
    )
    assert file.reference == "11.30.01-0001/2027"


@freeze_time("2026-03-02 09:00")
def test_references_are_unique_per_authority_and_may_repeat_in_another(
    authority: Authority, other_authority: Authority, plan: FilePlan
) -> None:
    import_file_plan(authority=other_authority, csv_text=PLAN_CSV)
    here = open_file(authority=authority, plan_key="11.30.01", title="A", actor=None)
    there = open_file(authority=other_authority, plan_key="11.30.01", title="B", actor=None)
    assert here.reference == there.reference == "11.30.01-0001/2026"
    with pytest.raises(IntegrityError), transaction.atomic():
        File.objects.create(
            authority=authority,
            plan_entry=here.plan_entry,
            serial=99,
            year=2026,
            reference=here.reference,
            title="Doppelt",
            opened_at=here.opened_at,
            retention_years=5,
            retention_trigger="closed",
            disposal_action="destroy",
        )


@freeze_time("2026-03-02 09:00")
def test_a_changed_format_never_gives_an_existing_reference_again(
    authority: Authority, plan: FilePlan
) -> None:
    plan.reference_format = "{serial:04d}/{year}"
    plan.unit_reference_format = "{unit}-{serial:04d}/{year}"
    plan.save()
    for expected in ("0001/2026", "0002/2026"):
        file = open_file(authority=authority, plan_key="11.30.01", title="A", actor=None)
        assert file.reference == expected
    # Without the year in the unit format the counter starts afresh, at numbers already taken.
    plan.unit_reference_format = "{unit}-{serial:04d}"
    plan.save()
    file = open_file(authority=authority, plan_key="11.30.02", title="B", actor=None)
    assert file.reference == "0003/2026"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reference_format", "{plan}/{year}", "laufende Nummer {serial}"),
        ("reference_format", "{plan}-{nummer}/{year}", "Unbekannter Platzhalter nummer"),
        ("reference_format", "{plan-{serial}", "kann nicht ausgefüllt werden"),
        ("reference_format", "{plan}-{serial!r:.0}/{year}", "muss die laufende Nummer zeigen"),
        ("unit_reference_format", "{plan}-{serial:04d}/{year}", "deren Kennzeichen {unit}"),
    ],
)
def test_a_reference_format_that_cannot_give_unique_references_is_refused(
    plan: FilePlan, field: str, value: str, message: str
) -> None:
    setattr(plan, field, value)
    with pytest.raises(ValidationError) as error:
        plan.full_clean()
    assert message in str(error.value.message_dict[field])


@freeze_time("2026-03-02 09:00")
def test_a_reference_longer_than_its_column_is_refused_with_a_message(
    authority: Authority, plan: FilePlan
) -> None:
    # Valid for the short example key and unit of the check, too long for a deep key and a long
    # unit code: refused with a message, not by the database (a 500 on PostgreSQL).
    plan.unit_reference_format = "Aktenzeichen {unit}-{plan}-{serial:04d}/{year} (Bürgerbüro)"
    plan.full_clean()
    plan.save()
    deep = "11.30.01.22.33.44.55.66.77.88"
    levels = deep.split(".")
    keys = [".".join(levels[:n]) for n in range(4, len(levels) + 1)]
    rows = "".join(f"{key};Gruppe {key};;;;\n" for key in keys)
    import_file_plan(authority=authority, csv_text=PLAN_CSV + rows)
    unit = OrgUnit.objects.create(authority=authority, code="Fachbereich 33.1.2.3", name="M")
    with pytest.raises(RecordsError, match="länger als 80 Zeichen"):
        open_file(authority=authority, plan_key=deep, org_unit=unit, title="Akte", actor=None)
    assert not File.objects.exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("11.99.99", "hat keinen Eintrag „11.99.99“"),
        ("", "hat keinen Eintrag „“"),
        ("1", "hat keine Aufbewahrungsfrist"),
    ],
)
def test_opening_a_file_under_a_missing_entry_is_refused_with_a_message(
    authority: Authority, plan: FilePlan, key: str, message: str
) -> None:
    with pytest.raises(RecordsError, match=message):
        open_file(authority=authority, plan_key=key, title="Akte", actor=None)
    assert not File.objects.exists()


def test_an_authority_without_a_plan_cannot_open_files(authority: Authority) -> None:
    with pytest.raises(RecordsError, match="Bürgerbüro Wuppertal hat keinen Aktenplan"):
        open_file(authority=authority, plan_key="11.30.01", title="Akte", actor=None)


def test_the_unit_must_belong_to_the_authority(
    authority: Authority, other_authority: Authority, plan: FilePlan
) -> None:
    foreign = OrgUnit.objects.create(authority=other_authority, code="33.1", name="Meldewesen")
    with pytest.raises(RecordsError, match="gehört nicht zu Bürgerbüro Wuppertal"):
        open_file(authority=authority, plan_key="11.30.01", org_unit=foreign, title="A", actor=None)


def test_a_file_needs_a_title(authority: Authority, plan: FilePlan) -> None:
    with pytest.raises(RecordsError, match="braucht einen Titel"):
        open_file(authority=authority, plan_key="11.30.01", title="  ", actor=None)


def test_control_characters_in_a_file_title_become_spaces(
    authority: Authority, plan: FilePlan
) -> None:
    """Titles are built by code (service and applicant name) and go into the xdomea messages."""
    file = open_file(
        authority=authority,
        plan_key="11.30.01",
        title=" Anmeldung\tErika\x0b\x0b Mustermann\r\n\x1b[0m",
        actor=None,
    )
    file.refresh_from_db()
    assert file.title == "Anmeldung Erika Mustermann [0m"
    with pytest.raises(RecordsError, match="braucht einen Titel"):
        open_file(authority=authority, plan_key="11.30.01", title="\x0b\x0c\x1b", actor=None)


def test_opening_takes_retention_from_the_plan_and_is_audited(
    authority: Authority, plan: FilePlan
) -> None:
    clerk = StaffFactory()
    file = open_file(authority=authority, plan_key="11.30.02", title="Bescheinigung", actor=clerk)
    assert (file.retention_years, file.retention_trigger) == (10, "closed_year_end")
    assert file.opened_by == clerk
    assert file.retention_starts_on is None and file.disposal_due_on is None
    event = AuditEvent.objects.get(action="records.file_opened")
    assert event.actor == clerk
    assert event.after["reference"] == file.reference
    assert event.after["plan_key"] == "11.30.02"
    permanent = open_file(authority=authority, plan_key="11.50.01", title="E", actor=None)
    assert permanent.retention_years is None
    assert permanent.disposal_action == "archive"
