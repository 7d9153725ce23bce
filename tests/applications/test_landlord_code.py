"""Wohnsitzanmeldung with the code of a landlord's online confirmation (§ 19 BMG)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.service_rules import LANDLORD_CODE_FAILURES, _failure_key
from rathaus.applications.services import save_step, start_application, submit_application
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import Municipality
from rathaus.forms.engine import validate_step
from rathaus.ledger.leaves import format_code
from rathaus.registers.landlord_confirmations import (
    MoveIn,
    Person,
    confirm_move_in,
    revoke_confirmation,
)
from rathaus.registers.models import LandlordConfirmation
from rathaus.registers.selectors import landlord_confirmation_for_code
from tests.accounts.factories import UserFactory
from tests.applications.wohnsitz import ADULT, people

MOVED_IN = timezone.localdate() - datetime.timedelta(days=2)


@pytest.fixture
def confirmation(wuppertal: Municipality) -> LandlordConfirmation:
    # the registration office that handles Wuppertal's registrations (Remscheid's, in the demo):
    # the landlord portal gives the confirmation to it (§ 19 Abs. 4 BMG)
    office = Responsibility.objects.get(
        service__slug="wohnsitz-anmelden", municipality=wuppertal
    ).authority
    return confirm_move_in(
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


def _answer(application: Application, step: str, data: dict[str, Any]) -> str | None:
    schema, _ = form_schema(application.service)
    result = validate_step(schema, step, data, answers=application.answers)
    assert result.is_valid, result.errors
    return save_step(application=application, result=result)


def _registration(
    citizen: User,
    wuppertal: Municipality,
    code: str,
    day: datetime.date,
    person: tuple[str, str] = ("Erika", "Mustermann"),
) -> Any:
    service = Service.objects.get(slug="wohnsitz-anmelden")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    _answer(
        application,
        "move",
        {
            "move_in_date__day": str(day.day),
            "move_in_date__month": str(day.month),
            "move_in_date__year": str(day.year),
            "new_address__street": "Friedrich-Engels-Allee",
            "new_address__house_number": "12",
            "new_address__postal_code": "42283",
            "new_address__place": "Wuppertal",
            "residence_kind": "main",
        },
    )
    _answer(application, "previous", {"previous_kept": "no"})
    _answer(
        application,
        "people",
        people({**ADULT, "name__given_names": person[0], "name__family_name": person[1]}),
    )
    assert _answer(application, "landlord", {"landlord_way": "code"}) == "landlord_code_step"
    _answer(application, "landlord_code_step", {"landlord_code": code})
    return application


def test_registration_with_a_matching_code_is_submitted_and_the_clerk_finds_it(
    citizen: User, wuppertal: Municipality, confirmation: LandlordConfirmation
) -> None:
    typed = format_code(confirmation.code).lower()
    application = _registration(citizen, wuppertal, typed, MOVED_IN)
    submitted = submit_application(
        application=application, idempotency_key="k1", confirmed=True, actor=citizen
    )
    assert submitted.status == Application.Status.SUBMITTED
    code = submitted.submitted_data["landlord_code"]
    assert landlord_confirmation_for_code(code) == confirmation
    # the clerk's case page checks the same, persons included, and may see the details
    from rathaus.backoffice.case_page import landlord_check

    check = landlord_check(submitted)
    assert check is not None and check.ok, check and check.problems
    submitted.submitted_data["persons"][0]["name"]["given_names"] = "Max"
    check = landlord_check(submitted)
    assert check is not None and not check.ok
    assert "nennt nicht: Max Mustermann" in " ".join(check.problems)


def test_code_for_another_move_in_date_is_refused(
    citizen: User, wuppertal: Municipality, confirmation: LandlordConfirmation
) -> None:
    application = _registration(
        citizen, wuppertal, confirmation.code, MOVED_IN - datetime.timedelta(days=1)
    )
    # not which detail differs: tests/registers/test_landlord_code_oracle.py
    with pytest.raises(ApplicationError, match="den Tag des Einzugs"):
        submit_application(
            application=application, idempotency_key="k2", confirmed=True, actor=citizen
        )
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT


def test_a_code_from_the_public_log_does_not_register_strangers_or_reveal_the_address(
    citizen: User, wuppertal: Municipality, confirmation: LandlordConfirmation
) -> None:
    cache.clear()
    # A stranger took the code from the GovChain log and guesses: told only that it does not fit
    guess = _registration(
        citizen, wuppertal, confirmation.code, MOVED_IN - datetime.timedelta(days=9)
    )
    with pytest.raises(ApplicationError) as refused:
        submit_application(application=guess, idempotency_key="g1", confirmed=True, actor=citizen)
    assert MOVED_IN.strftime("%d.%m.%Y") not in str(refused.value)
    # right address and day, but other people: refused the same way, naming nobody
    stranger = _registration(
        citizen, wuppertal, confirmation.code, MOVED_IN, person=("Mallory", "Angreifer")
    )
    with pytest.raises(ApplicationError) as other_people:
        submit_application(
            application=stranger, idempotency_key="g2", confirmed=True, actor=citizen
        )
    assert str(other_people.value) == str(refused.value)
    stranger.refresh_from_db()
    assert stranger.status == Application.Status.DRAFT


def test_failed_code_checks_are_limited_per_account(
    citizen: User, wuppertal: Municipality, confirmation: LandlordConfirmation
) -> None:
    cache.clear()
    allowed, _seconds = LANDLORD_CODE_FAILURES
    guess = _registration(
        citizen, wuppertal, confirmation.code, MOVED_IN - datetime.timedelta(days=9)
    )
    for attempt in range(allowed):
        with pytest.raises(ApplicationError, match="passt nicht"):
            submit_application(
                application=guess, idempotency_key=f"f{attempt}", confirmed=True, actor=citizen
            )
    right = _registration(citizen, wuppertal, confirmation.code, MOVED_IN)
    with pytest.raises(ApplicationError, match="zu oft"):
        submit_application(application=right, idempotency_key="r1", confirmed=True, actor=citizen)
    other = UserFactory()  # another account is not affected
    assert _failure_key(right) != _failure_key(
        Application(applicant=other, service=right.service, municipality=wuppertal)
    )
    cache.clear()  # the next window
    submitted = submit_application(
        application=right, idempotency_key="r2", confirmed=True, actor=citizen
    )
    assert submitted.status == Application.Status.SUBMITTED


def test_withdrawn_or_unknown_code_is_refused(
    citizen: User, wuppertal: Municipality, confirmation: LandlordConfirmation
) -> None:
    application = _registration(citizen, wuppertal, "7KQ4M-2XH9P", MOVED_IN)
    with pytest.raises(ApplicationError, match="Entweder hat keine Wohnungsgeberbestätigung"):
        submit_application(
            application=application, idempotency_key="k3", confirmed=True, actor=citizen
        )
    revoke_confirmation(confirmation=confirmation, actor=confirmation.landlord)
    other = _registration(citizen, wuppertal, confirmation.code, MOVED_IN)
    with pytest.raises(ApplicationError, match="zurückgezogen"):
        submit_application(application=other, idempotency_key="k4", confirmed=True, actor=citizen)


def test_malformed_code_is_refused_at_the_step(citizen: User, wuppertal: Municipality) -> None:
    service = Service.objects.get(slug="wohnsitz-anmelden")
    schema, _ = form_schema(service)
    result = validate_step(schema, "landlord_code_step", {"landlord_code": "abc"}, answers={})
    assert not result.is_valid
    assert "zehn Buchstaben und Ziffern" in str(result.errors)
