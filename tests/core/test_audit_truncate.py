"""PostgreSQL refuses TRUNCATE of the audit trail (core migration 0007), as it refuses DELETE.

Only a session that set ``rathaus.allow_truncate`` (the test settings, for pytest-django's
flush between transactional tests) may empty it.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from rathaus.core import audit
from rathaus.core.models import AuditEvent, Municipality

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
    ),
]


@pytest.fixture
def event() -> AuditEvent:
    municipality = Municipality.objects.create(name="Testdorf", slug="testdorf")
    recorded = audit.record(actor=None, action="test.done", obj=municipality, after={"x": 1})
    with connection.cursor() as cursor:
        # the deferred foreign-key checks now: TRUNCATE refuses a table with pending ones
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return recorded


def _without_test_permission() -> None:
    """This transaction as in production: the test settings' permission switched off."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('rathaus.allow_truncate', 'off', true)")


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE core_auditevent",
        "TRUNCATE core_auditevent RESTART IDENTITY CASCADE",
        "TRUNCATE core_municipality CASCADE",  # reaches the trail through its foreign key
    ],
)
def test_truncating_the_audit_trail_is_refused(event: AuditEvent, statement: str) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
        transaction.atomic(),
    ):
        _without_test_permission()
        with connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_manage_py_flush_cannot_empty_the_audit_trail(event: AuditEvent) -> None:
    with pytest.raises(CommandError), transaction.atomic():
        _without_test_permission()
        call_command("flush", interactive=False, stdout=io.StringIO())
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_session_allowed_to_truncate_empties_the_trail(event: AuditEvent) -> None:
    """What pytest-django's flush does between transactional tests (rolled back here)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('rathaus.allow_truncate', 'on', true)")
            cursor.execute("TRUNCATE core_auditevent")
        assert not AuditEvent.objects.exists()
        transaction.set_rollback(True)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
