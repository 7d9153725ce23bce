"""Rules of the registration services: Meldebescheinigung only about oneself (§ 18 BMG), the
landlord confirmation given to the competent office (§ 19 Abs. 4 BMG), plausible dates, and no
"only home" while the previous home is kept (§ 21 BMG)."""

from __future__ import annotations

import datetime
import unicodedata
from typing import Any

import pytest
from django.utils import timezone
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.accounts.services import update_profile
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.services import (
    fee_quote,
    save_step,
    start_application,
    submit_application,
)
from rathaus.catalog.form_schemas import form_schema, schema_path
from rathaus.catalog.models import Responsibility, Service
from rathaus.core import audit
from rathaus.core.models import Authority, Municipality
from rathaus.forms.engine import validate_step
from rathaus.forms.schema import load_schema_file
from rathaus.ledger.leaves import format_code
from rathaus.registers.landlord_confirmations import MoveIn, Person, confirm_move_in
from tests.accounts.factories import UserFactory
from tests.applications.meldebescheinigung import PERSON, answer_all
from tests.applications.test_landlord_code import _answer, _registration
from tests.applications.wohnsitz import ADULT, people

MOVED_IN = timezone.localdate() - datetime.timedelta(days=2)


def _certificate(citizen: User, municipality: Municipality, person: dict[str, str]) -> Any:
    service = Service.objects.get(slug="meldebescheinigung")
    Responsibility.objects.filter(service=service).update(local_fee=None)
    application = start_application(
        applicant=citizen, service=service, municipality=municipality, trust_level="high"
    )
    schema, _ = form_schema(service)
    result = validate_step(schema, "person", person, answers=application.answers)
    assert result.is_valid, result.errors
    save_step(application=application, result=result)
    chosen = validate_step(schema, "certificate", {"kind": "simple"}, answers=application.answers)
    save_step(application=application, result=chosen)
    return application


# --- Meldebescheinigung: about the identified applicant only -------------------------------


def test_a_meldebescheinigung_is_only_issued_about_the_identified_applicant(
    citizen: User, wuppertal: Municipality
) -> None:
    stranger = {
        **PERSON,
        "name__given_names": "Max",
        "name__family_name": "Fremder",
        "birth_date__day": "1",
        "birth_date__month": "1",
        "birth_date__year": "1970",
    }
    application = _certificate(citizen, wuppertal, stranger)
    with pytest.raises(ApplicationError, match="nur über Sie selbst") as refused:
        submit_application(
            application=application, idempotency_key="m", confirmed=True, actor=citizen
        )
    assert "Erika Mustermann" in str(refused.value)  # the citizen's own, verified name
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT


def test_another_birth_date_is_refused_too(citizen: User, wuppertal: Municipality) -> None:
    application = _certificate(citizen, wuppertal, {**PERSON, "birth_date__day": "28"})
    with pytest.raises(ApplicationError, match="Online-Ausweises"):
        submit_application(
            application=application, idempotency_key="m", confirmed=True, actor=citizen
        )


def test_the_own_name_is_compared_without_case_spacing_or_unicode_composition(
    citizen: User, wuppertal: Municipality
) -> None:
    citizen.profile.family_name = "Müller"
    citizen.profile.save()
    typed = {
        **PERSON,
        "name__given_names": "  erika ",
        "name__family_name": unicodedata.normalize("NFD", "MÜLLER"),
    }
    application = _certificate(citizen, wuppertal, typed)
    submitted = submit_application(
        application=application, idempotency_key="m", confirmed=True, actor=citizen
    )
    assert submitted.status == Application.Status.SUBMITTED


def test_a_name_edited_in_the_profile_after_the_eid_login_does_not_count(
    citizen: User, wuppertal: Municipality
) -> None:
    audit.record(
        actor=citizen, action="accounts.federated_login", obj=citizen, after={"level": "high"}
    )
    update_profile(user=citizen, data={"given_names": "Max", "family_name": "Fremder"})
    application = _certificate(
        citizen, wuppertal, {**PERSON, "name__given_names": "Max", "name__family_name": "Fremder"}
    )
    with pytest.raises(ApplicationError, match="erneut mit Ihrem Online-Ausweis"):
        submit_application(
            application=application, idempotency_key="m", confirmed=True, actor=citizen
        )
    # the next eID login writes the card's name into the profile again: then it counts
    citizen.profile.refresh_from_db()
    citizen.profile.given_names, citizen.profile.family_name = "Erika", "Mustermann"
    citizen.profile.save()
    audit.record(
        actor=citizen, action="accounts.federated_login", obj=citizen, after={"level": "high"}
    )
    own = _certificate(citizen, wuppertal, PERSON)
    assert (
        submit_application(application=own, idempotency_key="o", confirmed=True, actor=citizen)
    ).status == Application.Status.SUBMITTED


# --- Meldebescheinigung: one sealed PDF, no copies -------------------------------------------


def test_the_meldebescheinigung_asks_for_no_copies_and_costs_one_certificate(
    citizen: User, demo: None, wuppertal: Municipality
) -> None:
    service = Service.objects.get(slug="meldebescheinigung")
    schema, _ = form_schema(service)
    assert "copies" not in {field.id for field in schema.all_fields()}
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    answer_all(application)
    assert "copies" not in application.answers
    responsibility = Responsibility.objects.get(service=service, municipality=wuppertal)
    assert responsibility.local_fee is not None
    quote = fee_quote(application)
    assert quote.total_cents == int(responsibility.local_fee * 100)
    assert [line.quantity for line in quote.lines] == [1]


# --- Landlord confirmation given to another Meldebehörde ------------------------------------


def test_a_confirmation_given_to_another_municipalitys_office_is_refused(
    citizen: User, wuppertal: Municipality
) -> None:
    solingen = Municipality.objects.get(slug="solingen")
    office = Authority.objects.get(municipality=solingen, kind=Authority.Kind.CITIZENS_OFFICE)
    responsible = Responsibility.objects.get(
        service__slug="wohnsitz-anmelden", municipality=wuppertal
    ).authority
    assert office != responsible
    confirmation = confirm_move_in(
        landlord=UserFactory(),
        authority=office,
        move_in=MoveIn(
            street="Friedrich-Engels-Allee",
            house_number="12",
            address_supplement="",
            postal_code="42283",
            place="Wuppertal",
            move_in_date=MOVED_IN,
            persons=(Person("Erika", "Mustermann"),),
            landlord_name="Hans Vermieter",
            landlord_address="Hofaue 5, 42103 Wuppertal",
        ),
    )
    application = _registration(citizen, wuppertal, format_code(confirmation.code), MOVED_IN)
    with pytest.raises(ApplicationError) as refused:
        submit_application(
            application=application, idempotency_key="x1", confirmed=True, actor=citizen
        )
    message = str(refused.value)
    assert "Solingen" in message and "erneut" in message, message
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT


# --- Plausible dates --------------------------------------------------------------------------

MOVE = {
    "new_address__street": "Neumarkt",
    "new_address__house_number": "10",
    "new_address__postal_code": "42103",
    "new_address__place": "Wuppertal",
    "residence_kind": "main",
}


def _anmeldung() -> Any:
    return load_schema_file(schema_path("wohnsitz-anmelden"), source="wohnsitz-anmelden")


@freeze_time("2026-11-20 10:00:00")
@pytest.mark.parametrize("year", ["0001", "0985", "1026", "2016"])
def test_a_move_in_date_years_ago_is_refused(year: str) -> None:
    result = validate_step(
        _anmeldung(),
        "move",
        {**MOVE, "move_in_date__day": "1", "move_in_date__month": "11", "move_in_date__year": year},
        answers={},
    )
    assert not result.is_valid, (result.cleaned.get("move_in_date"), result.warnings)
    assert "mehr als zehn Jahre" in str(result.errors)


@freeze_time("2026-11-20 10:00:00")
def test_a_late_move_in_is_still_accepted_with_a_warning() -> None:
    result = validate_step(
        _anmeldung(),
        "move",
        {
            **MOVE,
            "move_in_date__day": "1",
            "move_in_date__month": "3",
            "move_in_date__year": "2024",
        },
        answers={},
    )
    assert result.is_valid, result.errors
    assert "Anmeldefrist" in str(result.warnings)


@freeze_time("2026-11-20 10:00:00")
def test_birth_dates_more_than_130_years_ago_are_refused() -> None:
    birth = {"birth_date__day": "1", "birth_date__month": "1", "birth_date__year": "1890"}
    persons = validate_step(_anmeldung(), "people", people({**ADULT, **birth}), answers={})
    assert not persons.is_valid
    assert "130 Jahre" in str(persons.errors)
    certificate = load_schema_file(schema_path("meldebescheinigung"), source="meldebescheinigung")
    person = validate_step(certificate, "person", {**PERSON, **birth}, answers={})
    assert not person.is_valid
    assert "130 Jahre" in str(person.errors)


# --- Only home and previous home kept (§ 21 BMG) --------------------------------------------


def _own_home(citizen: User, wuppertal: Municipality, kind: str, kept: str) -> Any:
    service = Service.objects.get(slug="wohnsitz-anmelden")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    _answer(
        application,
        "move",
        {
            **MOVE,
            "residence_kind": kind,
            "move_in_date__day": str(MOVED_IN.day),
            "move_in_date__month": str(MOVED_IN.month),
            "move_in_date__year": str(MOVED_IN.year),
        },
    )
    _answer(
        application,
        "previous",
        {
            "previous_address__street": "Hofaue",
            "previous_address__house_number": "5",
            "previous_address__postal_code": "42103",
            "previous_address__place": "Wuppertal",
            "previous_kept": kept,
        },
    )
    _answer(
        application,
        "people",
        people(ADULT),
    )
    _answer(application, "landlord", {"landlord_way": "own_property"})
    return application


def test_an_only_home_cannot_go_with_keeping_the_previous_home(
    citizen: User, wuppertal: Municipality
) -> None:
    application = _own_home(citizen, wuppertal, "main", "yes")
    with pytest.raises(ApplicationError, match="alleinige Wohnung") as refused:
        submit_application(
            application=application, idempotency_key="h1", confirmed=True, actor=citizen
        )
    assert "Ihre neue Wohnung" in str(refused.value)
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT


@pytest.mark.parametrize(("kind", "kept"), [("main_with_other", "yes"), ("main", "no")])
def test_fitting_residence_answers_are_submitted(
    citizen: User, wuppertal: Municipality, kind: str, kept: str
) -> None:
    application = _own_home(citizen, wuppertal, kind, kept)
    submitted = submit_application(
        application=application, idempotency_key="h2", confirmed=True, actor=citizen
    )
    assert submitted.status == Application.Status.SUBMITTED
