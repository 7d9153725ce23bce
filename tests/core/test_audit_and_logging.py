"""The audit trail is append-only; log records are JSON lines."""

from __future__ import annotations

import json
import logging

import pytest

from rathaus.core.audit import record
from rathaus.core.logging import JsonFormatter
from rathaus.core.models import AuditEvent, Municipality


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
