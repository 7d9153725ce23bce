"""Answers for the Meldebescheinigung form, shared by the application tests."""

from __future__ import annotations

from typing import Any

from rathaus.applications.models import Application
from rathaus.applications.services import save_step
from rathaus.catalog.form_schemas import form_schema
from rathaus.forms.engine import validate_step

PERSON = {
    "name__given_names": "Erika",
    "name__family_name": "Mustermann",
    "birth_date__day": "27",
    "birth_date__month": "3",
    "birth_date__year": "1985",
    "address__street": "Neumarkt",
    "address__house_number": "10",
    "address__postal_code": "42103",
    "address__place": "Wuppertal",
}
SIMPLE_CERTIFICATE = {"kind": "simple"}


def answer_all(application: Application, certificate: dict[str, Any] | None = None) -> None:
    """Fill both steps validly (a simple certificate unless another is given)."""
    schema, _ = form_schema(application.service)
    person = validate_step(schema, "person", PERSON, answers=application.answers)
    assert person.is_valid, person.errors
    assert save_step(application=application, result=person) == "certificate"
    chosen = validate_step(
        schema, "certificate", certificate or SIMPLE_CERTIFICATE, answers=application.answers
    )
    assert chosen.is_valid, chosen.errors
    assert save_step(application=application, result=chosen) is None
