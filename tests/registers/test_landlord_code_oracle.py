"""A landlord confirmation's code is public (GovChain log), so the check a citizen's registration
runs must not tell them *which* detail differs: otherwise whoever holds a code could try one
move-in day, one address or one name at a time and learn who moved in where and when. Every
failing check of the details, and an unknown code, is the same refusal, counted against the
account's limit; the clerk still sees which detail differs."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.service_rules import LANDLORD_CODE_FAILURES, _failure_key
from rathaus.applications.services import save_step, start_application, submit_application
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Responsibility, Service
from rathaus.core import counters
from rathaus.core.models import AuditEvent, Authority, Municipality
from rathaus.forms.engine import validate_step
from rathaus.registers.landlord_confirmations import (
    MoveIn,
    Person,
    confirm_move_in,
    revoke_confirmation,
)
from rathaus.registers.models import LandlordConfirmation
from rathaus.registers.selectors import check_landlord_confirmation
from tests.accounts.factories import ProfileFactory, UserFactory
from tests.applications.wohnsitz import ADULT, people

ADDRESS = {
    "street": "Friedrich-Engels-Allee",
    "house_number": "12",
    "postal_code": "42283",
    "place": "Wuppertal",
}
MOVED_IN = timezone.localdate() - datetime.timedelta(days=3)
PERSONS = [{"name": {"given_names": "Erika", "family_name": "Mustermann"}}]
UNKNOWN_CODE = "7KQ4M2XH9P"


def _confirm(authority: Authority) -> LandlordConfirmation:
    return confirm_move_in(
        landlord=UserFactory(),
        authority=authority,
        move_in=MoveIn(
            street=ADDRESS["street"],
            house_number=ADDRESS["house_number"],
            address_supplement="",
            postal_code=ADDRESS["postal_code"],
            place=ADDRESS["place"],
            move_in_date=MOVED_IN,
            persons=(Person("Erika", "Mustermann"), Person("Max", "Mustermann")),
            landlord_name="Hans Vermieter",
            landlord_address="Hofaue 5, 42103 Wuppertal",
        ),
    )


def _probes(code: str) -> dict[str, dict[str, Any]]:
    """One detail wrong at a time, all wrong, and an unknown code with the right details."""
    right: dict[str, Any] = {
        "code": code,
        "address": ADDRESS,
        "move_in_date": MOVED_IN.isoformat(),
        "persons": PERSONS,
    }
    return {
        "day": {**right, "move_in_date": (MOVED_IN - datetime.timedelta(days=1)).isoformat()},
        "address": {**right, "address": {**ADDRESS, "house_number": "14"}},
        "person": {
            **right,
            "persons": [{"name": {"given_names": "Mallory", "family_name": "Angreifer"}}],
        },
        "nobody": {**right, "persons": []},
        "all": {
            **right,
            "move_in_date": "2020-01-01",
            "address": {**ADDRESS, "street": "Irgendwo"},
            "persons": [{"name": {"given_names": "Mallory", "family_name": "Angreifer"}}],
        },
        "unknown code": {**right, "code": UNKNOWN_CODE},
        "malformed code": {**right, "code": "abc"},
    }


def test_a_citizen_cannot_tell_which_detail_differs_or_whether_the_code_exists(
    registration_office: Authority,
) -> None:
    confirmation = _confirm(registration_office)
    right = check_landlord_confirmation(
        code=confirmation.code, address=ADDRESS, move_in_date=MOVED_IN, persons=PERSONS
    )
    assert right.ok, right.problems
    answers = {
        name: check_landlord_confirmation(**probe)
        for name, probe in _probes(confirmation.code).items()
    }
    assert not any(check.ok for check in answers.values())
    said = {name: tuple(check.problems) for name, check in answers.items()}
    assert len(set(said.values())) == 1, said
    [problems] = set(said.values())
    text = " ".join(problems)
    for secret in ("Friedrich-Engels-Allee", "42283", MOVED_IN.strftime("%d.%m.%Y"), "Max"):
        assert secret not in text
    for name in ("Mallory", UNKNOWN_CODE, "7KQ4M-2XH9P"):
        assert name not in text  # not even what the citizen typed, which varies by probe
    # nor does the answer carry the confirmation it compared against
    assert {check.confirmation for check in answers.values()} == {None}
    assert {check.status for check in answers.values()} == {None}


def test_what_the_public_log_says_about_a_code_does_not_depend_on_the_details(
    registration_office: Authority,
) -> None:
    # The log tells anyone whether a code was withdrawn and which office it went to: said as
    # such, and the same whichever details were typed with it.
    confirmation = _confirm(registration_office)
    solingen = Municipality.objects.create(
        name="Solingen", slug="solingen", ags="05122000", state=Municipality.State.NW
    )
    elsewhere = Authority.objects.create(
        municipality=solingen,
        kind=Authority.Kind.CITIZENS_OFFICE,
        name="Bürgerbüro Solingen",
        address="Rathausplatz 1, 42651 Solingen",
    )
    probes = _probes(confirmation.code)
    del probes["unknown code"], probes["malformed code"]
    right = {**probes["day"], "move_in_date": MOVED_IN.isoformat()}
    other_office = {
        tuple(check_landlord_confirmation(**probe, authority=elsewhere).problems)
        for probe in [right, *probes.values()]
    }
    assert len(other_office) == 1 and "Einwohnermeldeamt Wuppertal" in str(other_office)
    revoke_confirmation(confirmation=confirmation, actor=confirmation.landlord)
    withdrawn = {
        tuple(check_landlord_confirmation(**probe).problems) for probe in [right, *probes.values()]
    }
    assert len(withdrawn) == 1 and "zurückgezogen" in str(withdrawn)


def test_the_clerk_still_sees_which_detail_differs(registration_office: Authority) -> None:
    confirmation = _confirm(registration_office)
    probes = _probes(confirmation.code)
    day = " ".join(check_landlord_confirmation(**probes["day"], disclose=True).problems)
    address = " ".join(check_landlord_confirmation(**probes["address"], disclose=True).problems)
    person = " ".join(check_landlord_confirmation(**probes["person"], disclose=True).problems)
    unknown = " ".join(
        check_landlord_confirmation(**probes["unknown code"], disclose=True).problems
    )
    assert MOVED_IN.strftime("%d.%m.%Y") in day and "Anschrift" not in day
    assert "Friedrich-Engels-Allee 12" in address and MOVED_IN.strftime("%d.%m.%Y") not in address
    assert "Mallory Angreifer" in person
    assert "Keine Wohnungsgeberbestätigung" in unknown
    assert check_landlord_confirmation(**probes["day"], disclose=True).confirmation == confirmation


# --- through the registration, as a citizen submits it -----------------------------------------


@pytest.fixture
def demo(db: None) -> None:
    call_command("load_demo", verbosity=0)


def _answer(application: Application, step: str, data: dict[str, Any]) -> str | None:
    schema, _ = form_schema(application.service)
    result = validate_step(schema, step, data, answers=application.answers)
    assert result.is_valid, result.errors
    return save_step(application=application, result=result)


def _registration(
    citizen: User, code: str, day: datetime.date, house: str, person: tuple[str, str]
) -> Application:
    wuppertal = Municipality.objects.get(ags="05124000")
    application = start_application(
        applicant=citizen,
        service=Service.objects.get(slug="wohnsitz-anmelden"),
        municipality=wuppertal,
        trust_level="high",
    )
    _answer(
        application,
        "move",
        {
            "move_in_date__day": str(day.day),
            "move_in_date__month": str(day.month),
            "move_in_date__year": str(day.year),
            "new_address__street": ADDRESS["street"],
            "new_address__house_number": house,
            "new_address__postal_code": ADDRESS["postal_code"],
            "new_address__place": ADDRESS["place"],
            "residence_kind": "main",
        },
    )
    _answer(application, "previous", {"previous_kept": "no"})
    given, family = person
    _answer(
        application,
        "people",
        people({**ADULT, "name__given_names": given, "name__family_name": family}),
    )
    _answer(application, "landlord", {"landlord_way": "code"})
    _answer(application, "landlord_code_step", {"landlord_code": code})
    return application


def test_every_failing_registration_gets_the_same_refusal_and_counts(demo: None) -> None:
    cache.clear()
    wuppertal = Municipality.objects.get(ags="05124000")
    confirmation = _confirm(
        Responsibility.objects.get(
            service__slug="wohnsitz-anmelden", municipality=wuppertal
        ).authority
    )
    citizen = ProfileFactory(birth_date=datetime.date(1985, 3, 27)).user
    erika = ("Erika", "Mustermann")
    probes = {
        "day": (confirmation.code, MOVED_IN - datetime.timedelta(days=1), "12", erika),
        "address": (confirmation.code, MOVED_IN, "14", erika),
        "person": (confirmation.code, MOVED_IN, "12", ("Mallory", "Angreifer")),
        "unknown code": (UNKNOWN_CODE, MOVED_IN, "12", erika),
    }
    said = {}
    for number, (name, probe) in enumerate(probes.items()):
        application = _registration(citizen, *probe)
        key = _failure_key(application)
        before = counters.hits(key)
        with pytest.raises(ApplicationError) as refused:
            submit_application(
                application=application, idempotency_key=f"p{number}", confirmed=True, actor=citizen
            )
        said[name] = str(refused.value)
        assert counters.hits(key) == before + 1, name  # counted against the limit
        application.refresh_from_db()
        assert application.status == Application.Status.DRAFT
    assert len(set(said.values())) == 1, said
    cache.clear()


def test_each_refused_code_check_is_audited_though_the_submission_is_rolled_back(
    demo: None,
) -> None:
    """The refusal undoes the submission's transaction; the audit trail still shows each failed
    check (who tried which code, how often this hour), so probing a public code can be seen.
    A submission stopped by the limit runs no check and records nothing."""
    cache.clear()
    wuppertal = Municipality.objects.get(ags="05124000")
    confirmation = _confirm(
        Responsibility.objects.get(
            service__slug="wohnsitz-anmelden", municipality=wuppertal
        ).authority
    )
    citizen = ProfileFactory(birth_date=datetime.date(1985, 3, 27)).user
    wrong_day = MOVED_IN - datetime.timedelta(days=1)
    application = _registration(
        citizen, confirmation.code, wrong_day, "12", ("Erika", "Mustermann")
    )
    allowed = LANDLORD_CODE_FAILURES[0]
    for attempt in range(1, allowed + 2):
        with pytest.raises(ApplicationError):
            submit_application(
                application=application,
                idempotency_key=f"a{attempt}",
                confirmed=True,
                actor=citizen,
            )
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT
    events = AuditEvent.objects.filter(
        action="applications.landlord_code_refused",
        object_type="applications.Application",
        object_id=str(application.pk),
    ).order_by("pk")
    assert [event.after for event in events] == [
        {"code": confirmation.code, "failures_in_window": number}
        for number in range(1, allowed + 1)
    ]
    assert {event.actor_id for event in events} == {citizen.pk}
    assert {event.municipality_id for event in events} == {wuppertal.pk}
    assert not AuditEvent.objects.filter(action="application.submitted").exists()
    cache.clear()
