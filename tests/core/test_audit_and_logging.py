"""The audit trail is append-only; log records are JSON lines."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.utils import timezone

from rathaus.core.audit import record, redact
from rathaus.core.logging import JsonFormatter
from rathaus.core.models import AuditEvent, Municipality
from rathaus.core.purge import purging


@pytest.fixture
def municipality(db: None) -> Municipality:
    return Municipality.objects.create(name="Solingen", slug="solingen", ags="05122000", state="NW")


def test_state_change_is_recorded_with_before_and_after(municipality: Municipality) -> None:
    event = record(
        actor=None,
        action="rename",
        obj=municipality,
        before={"name": "Solingen"},
        after={"name": "Klingenstadt Solingen"},
        municipality=municipality,
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_label == "system"
    assert stored.object_type == "core.Municipality"
    assert stored.object_id == str(municipality.pk)
    assert stored.after == {"name": "Klingenstadt Solingen"}


def test_audit_event_cannot_be_changed_or_deleted(municipality: Municipality) -> None:
    event = record(actor=None, action="create", obj=municipality)
    event.action = "forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "create"


def test_log_record_is_one_json_object_with_extra_fields() -> None:
    record_ = logging.LogRecord(
        "rathaus.test", logging.WARNING, __file__, 1, "hello %s", ("x",), None
    )
    record_.case_id = 42
    payload = json.loads(JsonFormatter().format(record_))
    assert payload["message"] == "hello x"
    assert payload["level"] == "WARNING"
    assert payload["case_id"] == 42


@pytest.mark.django_db
def test_database_refuses_raw_edits_of_the_audit_trail_on_postgresql(
    municipality: Municipality,
) -> None:
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL only")
    event = record(actor=None, action="create", obj=municipality)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'forged' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET actor_id = NULL WHERE id = %s", [event.pk])


def test_redact_clears_the_values_and_the_persons_name_and_nothing_else(
    municipality: Municipality, django_user_model: type[Any]
) -> None:
    from django.db import transaction

    person = django_user_model.objects.create_user(email="erika@example.org", password="x" * 12)
    clerk = django_user_model.objects.create_user(email="clerk@example.org", password="x" * 12)
    other = Municipality.objects.create(name="Haan", slug="haan", ags="05158012", state="NW")
    by_person = record(
        actor=person, action="applied", obj=municipality, after={"name": "Erika Mustermann"}
    )
    by_clerk = record(actor=clerk, action="decided", obj=municipality, before={"a": 1})
    kept = record(actor=None, action="purged", obj=municipality, after={"count": 1})
    elsewhere = record(actor=person, action="applied", obj=other, after={"name": "Erika"})
    with transaction.atomic():
        changed = redact(
            targets={Municipality: [municipality.pk]},
            person=person,
            role="Antragsteller/in",
            keep=["purged"],
        )
    assert changed == 2
    by_person.refresh_from_db()
    assert by_person.after == {"redacted_on": timezone.localdate().isoformat()}
    assert by_person.actor is None and by_person.actor_label == "Antragsteller/in"
    assert by_person.action == "applied" and by_person.before is None
    by_clerk.refresh_from_db()
    assert by_clerk.before == {"redacted_on": timezone.localdate().isoformat()}
    assert by_clerk.after is None and by_clerk.actor == clerk and by_clerk.actor_label == str(clerk)
    kept.refresh_from_db()
    assert kept.after == {"count": 1}
    elsewhere.refresh_from_db()
    assert elsewhere.after == {"name": "Erika"} and elsewhere.actor == person
    with transaction.atomic():  # idempotent
        again = redact(
            targets={Municipality: [municipality.pk]}, person=person, role="x", keep=["purged"]
        )
        assert again == 0


@pytest.mark.django_db
def test_the_database_lets_only_the_redaction_through_during_a_purge_on_postgresql(
    municipality: Municipality,
) -> None:
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL only")
    event = record(actor=None, action="create", obj=municipality, after={"name": "Solingen"})
    marker = '{"redacted_on": "2030-01-01"}'
    sql = "UPDATE core_auditevent SET after = %s::jsonb WHERE id = %s"
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [marker, event.pk])  # not during a purge
    for change, params in (
        (sql, ['{"name": "Haan"}', event.pk]),  # only the marker
        ("UPDATE core_auditevent SET action = 'forged' WHERE id = %s", [event.pk]),
        ("DELETE FROM core_auditevent WHERE id = %s", [event.pk]),
    ):
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(),
            purging(),
            connection.cursor() as cursor,
        ):
            cursor.execute(change, params)
    with transaction.atomic(), purging(), connection.cursor() as cursor:
        cursor.execute(sql, [marker, event.pk])
        cursor.execute("UPDATE core_auditevent SET actor_label = 'x' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.after == {"redacted_on": "2030-01-01"} and event.actor_label == "x"


@pytest.mark.django_db
def test_database_refuses_to_reattribute_an_audit_event_on_postgresql(
    municipality: Municipality, django_user_model: type[Any]
) -> None:
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL only")
    clerk = django_user_model.objects.create_user(email="clerk@example.org", password="x" * 12)
    other = django_user_model.objects.create_user(email="other@example.org", password="x" * 12)
    event = record(actor=clerk, action="case.decided", obj=municipality)
    nobody = record(actor=None, action="case.opened", obj=municipality)
    reattribute = "UPDATE core_auditevent SET actor_id = %s WHERE id = %s"
    for params in ([other.pk, event.pk], [other.pk, nobody.pk]):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(reattribute, params)
        # not during the purge of a disposed file either
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(),
            purging(),
            connection.cursor() as cursor,
        ):
            cursor.execute(reattribute, params)
    # deleting the account still clears the reference (actor_label keeps who it was)
    label = str(clerk)
    clerk.delete()
    event.refresh_from_db()
    assert event.actor is None and event.actor_label == label
