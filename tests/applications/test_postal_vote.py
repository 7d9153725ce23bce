"""Wahlschein und Briefwahl: only for an open election and before its deadline (§ 27 BWahlO)."""

from __future__ import annotations

import datetime

import pytest
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.applications.errors import ApplicationError
from rathaus.applications.services import save_step, start_application, submit_application
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.forms.engine import validate_step
from rathaus.registers.models import BERLIN, Election, default_postal_vote_deadline


@pytest.fixture
def briefwahl(demo: None) -> Service:
    return Service.objects.get(slug="briefwahl")


@pytest.fixture
def election(wuppertal: Municipality) -> Election:
    return Election.objects.create(
        municipality=wuppertal, name="Bundestagswahl", election_day=datetime.date(2029, 9, 23)
    )


def _fill(application_service: Service, application: object) -> None:
    schema, _ = form_schema(application_service)
    applicant = validate_step(
        schema,
        "applicant",
        {"applies_for": "self"},
        answers=application.answers,  # type: ignore[attr-defined]
    )
    save_step(application=application, result=applicant)  # type: ignore[arg-type]
    voter = validate_step(
        schema,
        "voter",
        {
            "name__given_names": "Erika",
            "name__family_name": "Mustermann",
            "birth_date__day": "27",
            "birth_date__month": "3",
            "birth_date__year": "1985",
            "address__street": "Neumarkt",
            "address__house_number": "10",
            "address__postal_code": "42103",
            "address__place": "Wuppertal",
        },
        answers=application.answers,  # type: ignore[attr-defined]
    )
    save_step(application=application, result=voter)  # type: ignore[arg-type]
    delivery = validate_step(
        schema,
        "delivery",
        {"delivery_to": "home"},
        answers=application.answers,  # type: ignore[attr-defined]
    )
    assert delivery.is_valid, delivery.errors
    save_step(application=application, result=delivery)  # type: ignore[arg-type]


def test_deadline_is_18_00_on_the_friday_before_a_sunday_election() -> None:
    deadline = default_postal_vote_deadline(datetime.date(2029, 9, 23))
    assert deadline == datetime.datetime(2029, 9, 21, 18, 0, tzinfo=BERLIN)


def test_without_an_open_election_the_service_cannot_start(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    with pytest.raises(ApplicationError, match="keine Wahl für Briefwahlanträge"):
        start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )


def test_application_before_the_deadline_is_submitted_for_that_election(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    with freeze_time("2029-09-21 15:59:00"):  # 17:59 in Berlin (CEST)
        application = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        assert application.context["election_id"] == election.pk  # the only one: no question
        _fill(briefwahl, application)
        submitted = submit_application(
            application=application, idempotency_key="pv1", confirmed=True, actor=citizen
        )
    assert submitted.reference


def test_submission_after_the_deadline_is_refused(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    with freeze_time("2029-09-21 15:00:00"):
        application = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        _fill(briefwahl, application)
    with (
        freeze_time("2029-09-21 16:00:01"),
        pytest.raises(ApplicationError, match="Frist für Briefwahlanträge"),
    ):
        submit_application(
            application=application, idempotency_key="pv2", confirmed=True, actor=citizen
        )
    application.refresh_from_db()
    assert application.is_draft


def test_a_voter_applies_for_a_polling_card_once_per_election(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    """A second application is refused at submission, when the voter is known (at the start
    the account may be about to apply for another person, § 27 Abs. 3 BWahlO); a lost card is
    replaced at the electoral office."""
    with freeze_time("2029-09-01 10:00:00"):
        first = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        second = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        _fill(briefwahl, first)
        _fill(briefwahl, second)
        sent = submit_application(
            application=first, idempotency_key="pv-a", confirmed=True, actor=citizen
        )
        with pytest.raises(ApplicationError, match=f"bereits.*{sent.reference}"):
            submit_application(
                application=second, idempotency_key="pv-b", confirmed=True, actor=citizen
            )
        third = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        _fill(briefwahl, third)
        with pytest.raises(ApplicationError, match="Wahlamt"):
            submit_application(
                application=third, idempotency_key="pv-c", confirmed=True, actor=citizen
            )
    second.refresh_from_db()
    assert second.is_draft


def test_after_a_withdrawal_the_voter_can_apply_again(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    from rathaus.applications.models import Application

    with freeze_time("2029-09-01 10:00:00"):
        first = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        _fill(briefwahl, first)
        submit_application(application=first, idempotency_key="pv-c", confirmed=True, actor=citizen)
        Application.objects.filter(pk=first.pk).update(status=Application.Status.WITHDRAWN)
        again = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
    assert again.is_draft
