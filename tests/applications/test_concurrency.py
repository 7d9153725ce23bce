"""Two simultaneous submissions of one draft give one application with one reference."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import save_step, start_application, submit_application
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import AuditEvent, Municipality
from rathaus.forms.engine import validate_step


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_give_one_application(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with real row locks and concurrent connections (PostgreSQL)")
    application = start_application(
        applicant=citizen, service=meldebescheinigung, municipality=wuppertal, trust_level="high"
    )
    schema, _ = form_schema(meldebescheinigung)
    for step_id, data in (
        (
            "person",
            {
                "name__given_names": "Erika",
                "name__family_name": "Mustermann",
                "birth_date__day": "27",
                "birth_date__month": "3",
                "birth_date__year": "1985",
                "address__street": "Neumarkt",
                "address__postal_code": "42103",
                "address__place": "Wuppertal",
            },
        ),
        ("certificate", {"kind": "simple"}),
    ):
        result = validate_step(schema, step_id, data, answers=application.answers)
        assert result.is_valid, result.errors
        save_step(application=application, result=result)

    barrier = threading.Barrier(2)
    references: list[str | None] = []
    errors: list[BaseException] = []

    def submit(key: str) -> None:
        try:
            barrier.wait(timeout=10)
            copy = Application.objects.get(pk=application.pk)
            submitted = submit_application(
                application=copy, idempotency_key=key, confirmed=True, actor=citizen
            )
            references.append(submitted.reference)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(key,)) for key in ("tab-1", "tab-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(references) == 2
    assert references[0] == references[1]
    assert Application.objects.filter(status="submitted").count() == 1
    assert AuditEvent.objects.filter(action="application.submitted").count() == 1
