"""Wahlschein und Briefwahl: one polling card per voter and vote, whoever applies and wherever
(§ 27 Abs. 3, § 28 Abs. 10 BWahlO); several open elections; the voting age on election day."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.services import save_step, start_application, submit_application
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.forms.engine import validate_step
from rathaus.registers.models import Election
from tests.accounts.factories import ProfileFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
VOTER_ERIKA = {
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
VOTER_MAX = {**VOTER_ERIKA, "name__given_names": "Max", "birth_date__year": "1983"}
SEPTEMBER = "2029-09-01 10:00:00"


@pytest.fixture
def briefwahl(demo: None) -> Service:
    return Service.objects.get(slug="briefwahl")


def _step(service: Service, application: Application, step: str, data: Any, files: Any = None):
    schema, _ = form_schema(service)
    result = validate_step(schema, step, data, files, answers=application.answers)
    assert result.is_valid, [i.message for i in result.errors]
    save_step(application=application, result=result)


def _fill(
    service: Service,
    application: Application,
    voter: dict[str, str],
    *,
    for_other: bool = False,
    delivery: dict[str, str] | None = None,
) -> None:
    _step(service, application, "applicant", {"applies_for": "other" if for_other else "self"})
    if for_other:
        _step(
            service,
            application,
            "authorisation",
            {"representative__given_names": "Erika", "representative__family_name": "Muster"},
            {"power_of_attorney": SimpleUploadedFile("vollmacht.pdf", PDF)},
        )
    _step(service, application, "voter", voter)
    _step(service, application, "delivery", delivery or {"delivery_to": "home"})


def _apply(
    user: User,
    service: Service,
    town: Municipality,
    voter: dict[str, str],
    key: str,
    *,
    for_other: bool = False,
    election: Election | None = None,
) -> Application:
    application = start_application(
        applicant=user,
        service=service,
        municipality=town,
        trust_level="low",
        choice=str(election.pk) if election else None,
    )
    _fill(service, application, voter, for_other=for_other)
    return submit_application(
        application=application, idempotency_key=key, confirmed=True, actor=user
    )


def _bundestagswahl(town: Municipality, vote_key: str = "btw-2029") -> Election:
    return Election.objects.create(
        municipality=town,
        name="Bundestagswahl",
        election_day=datetime.date(2029, 9, 23),
        vote_key=vote_key,
    )


# --- one polling card per voter, whoever applies ---------------------------------------------


def test_one_account_may_apply_for_another_voter_with_authorisation(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    _bundestagswahl(wuppertal)
    with freeze_time(SEPTEMBER):
        _apply(citizen, briefwahl, wuppertal, VOTER_ERIKA, "self")
        spouse = _apply(citizen, briefwahl, wuppertal, VOTER_MAX, "spouse", for_other=True)
    assert spouse.reference
    assert spouse.submitted_data["representative"]["family_name"] == "Muster"
    assert list(spouse.attachments.values_list("original_name", flat=True)) == ["vollmacht.pdf"]


def test_applying_for_another_person_requires_the_signed_authorisation(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    _bundestagswahl(wuppertal)
    with freeze_time(SEPTEMBER):
        application = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        _step(briefwahl, application, "applicant", {"applies_for": "other"})
        schema, _ = form_schema(briefwahl)
        result = validate_step(
            schema,
            "authorisation",
            {"representative__given_names": "Erika", "representative__family_name": "Muster"},
            answers=application.answers,
        )
    assert [i.field for i in result.errors] == ["power_of_attorney"]


def test_the_review_names_the_authorised_applicant(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    from rathaus.forms.display import describe_answers

    _bundestagswahl(wuppertal)
    with freeze_time(SEPTEMBER):
        application = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        _fill(briefwahl, application, VOTER_MAX, for_other=True)
    schema, _ = form_schema(briefwahl)
    rows = {
        r.field_id: r.text for s in describe_answers(schema, application.answers) for r in s.rows
    }
    assert rows["representative"] == "Erika Muster"
    assert rows["name"] == "Max Mustermann"


def test_the_receipt_is_addressed_to_the_authorised_applicant_not_the_voter(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    """The receipt goes to the person who applied. Found by the form's order of fields, not
    the declaration's: PostgreSQL's jsonb orders keys by length ("name" before
    "representative"), and the voter would get the applicant's receipt."""
    from rathaus.applications import receipts

    _bundestagswahl(wuppertal)
    with freeze_time(SEPTEMBER):
        sent = _apply(citizen, briefwahl, wuppertal, VOTER_MAX, "spouse", for_other=True)
    sent = Application.objects.get(pk=sent.pk)  # the declaration as the database keeps it
    assert receipts._recipient(sent).name_lines == ("Erika Muster",)


def test_the_receipt_of_ones_own_application_is_addressed_to_the_voter(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    from rathaus.applications import receipts

    _bundestagswahl(wuppertal)
    with freeze_time(SEPTEMBER):
        sent = _apply(citizen, briefwahl, wuppertal, VOTER_MAX, "self")
    sent = Application.objects.get(pk=sent.pk)
    assert receipts._recipient(sent).name_lines == ("Max Mustermann",)


def test_the_same_voter_gets_only_one_polling_card_whatever_the_account(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    _bundestagswahl(wuppertal)
    other = ProfileFactory(given_names="Jemand", family_name="Anders").user
    with freeze_time(SEPTEMBER):
        first = _apply(citizen, briefwahl, wuppertal, VOTER_ERIKA, "one")
        # another account, another spelling of the same name
        spelled = {**VOTER_ERIKA, "name__family_name": "MUSTERMANN ", "name__given_names": "erika"}
        # refused, without the first application's reference (test_postal_vote_privacy.py)
        with pytest.raises(ApplicationError, match="nicht online beantragt") as refused:
            _apply(other, briefwahl, wuppertal, spelled, "two", for_other=True)
    assert first.reference not in str(refused.value)


def test_once_per_election_holds_across_municipalities(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    solingen = Municipality.objects.get(slug="solingen")
    _bundestagswahl(wuppertal)
    _bundestagswahl(solingen)
    with freeze_time(SEPTEMBER):
        _apply(citizen, briefwahl, wuppertal, VOTER_ERIKA, "w")
        with pytest.raises(ApplicationError, match="bereits"):
            _apply(citizen, briefwahl, solingen, VOTER_ERIKA, "s")


def test_a_purely_local_vote_in_two_towns_is_not_linked(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    """Two towns' own votes on one day (e.g. a Bürgermeisterwahl each) have no shared key."""
    solingen = Municipality.objects.get(slug="solingen")
    _bundestagswahl(wuppertal, vote_key="")
    _bundestagswahl(solingen, vote_key="")
    with freeze_time(SEPTEMBER):
        first = _apply(citizen, briefwahl, wuppertal, VOTER_ERIKA, "w")
        second = _apply(citizen, briefwahl, solingen, VOTER_ERIKA, "s")
    assert first.context["election_id"] != second.context["election_id"]


def test_a_refused_duplicate_leaves_the_draft_and_a_withdrawal_frees_the_voter(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    _bundestagswahl(wuppertal)
    other = ProfileFactory().user
    with freeze_time(SEPTEMBER):
        first = _apply(citizen, briefwahl, wuppertal, VOTER_ERIKA, "one")
        draft = start_application(
            applicant=other, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        _fill(briefwahl, draft, VOTER_ERIKA, for_other=True)
        with pytest.raises(ApplicationError):
            submit_application(application=draft, idempotency_key="x", confirmed=True, actor=other)
        draft.refresh_from_db()
        assert draft.is_draft
        Application.objects.filter(pk=first.pk).update(status=Application.Status.WITHDRAWN)
        sent = submit_application(
            application=draft, idempotency_key="y", confirmed=True, actor=other
        )
    assert sent.reference


# --- several open elections -------------------------------------------------------------------


def test_two_elections_on_the_same_day_each_get_a_polling_card(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    """One application per election, each for the election the citizen chose."""
    day = datetime.date(2029, 6, 10)
    europe = Election.objects.create(
        municipality=wuppertal, name="Europawahl", election_day=day, minimum_age=16
    )
    local = Election.objects.create(
        municipality=wuppertal, name="Kommunalwahl", election_day=day, minimum_age=16
    )
    with freeze_time("2029-05-20 10:00:00"):
        first = _apply(citizen, briefwahl, wuppertal, VOTER_ERIKA, "a", election=local)
        second = _apply(citizen, briefwahl, wuppertal, VOTER_ERIKA, "b", election=europe)
        with pytest.raises(ApplicationError, match="bereits") as refused:
            _apply(citizen, briefwahl, wuppertal, VOTER_ERIKA, "c", election=europe)
    assert (first.context["election_id"], second.context["election_id"]) == (local.pk, europe.pk)
    assert "neuen Antrag" not in str(refused.value)  # no other election left to apply for


# --- voting age on election day ---------------------------------------------------------------

YOUNG = {
    **VOTER_ERIKA,
    "birth_date__day": "12",
    "birth_date__month": "9",
    "birth_date__year": "2014",
}


def test_a_voter_who_turns_16_before_election_day_can_apply(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    Election.objects.create(
        municipality=wuppertal,
        name="Kommunalwahl",
        election_day=datetime.date(2030, 9, 15),
        minimum_age=16,
    )
    with freeze_time("2030-08-25 10:00:00"):  # still 15 today, 16 on election day
        sent = _apply(citizen, briefwahl, wuppertal, YOUNG, "young")
    assert sent.reference


def test_a_voter_under_the_elections_minimum_age_on_election_day_is_refused(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    Election.objects.create(
        municipality=wuppertal, name="Bundestagswahl", election_day=datetime.date(2030, 9, 15)
    )
    with (
        freeze_time("2030-08-25 10:00:00"),
        pytest.raises(ApplicationError, match="mindestens 18 Jahre"),
    ):
        _apply(citizen, briefwahl, wuppertal, YOUNG, "young")


def test_a_young_voter_is_refused_for_the_chosen_election_and_told_of_the_one_open_to_them(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    """Bundestagswahl (18) and Kommunalwahl (16) together: a 16-year-old who chose the former
    is refused for it, not moved to the latter, and told they can apply for the latter."""
    day = datetime.date(2030, 9, 15)
    federal = Election.objects.create(
        municipality=wuppertal, name="Bundestagswahl", election_day=day
    )
    local = Election.objects.create(
        municipality=wuppertal, name="Kommunalwahl", election_day=day, minimum_age=16
    )
    with freeze_time("2030-08-25 10:00:00"):
        with pytest.raises(ApplicationError, match="mindestens 18 Jahre") as refused:
            _apply(citizen, briefwahl, wuppertal, YOUNG, "young", election=federal)
        assert "Kommunalwahl am 15. September 2030" in str(refused.value)
        assert not Application.objects.filter(status=Application.Status.SUBMITTED).exists()
        sent = _apply(citizen, briefwahl, wuppertal, YOUNG, "young-2", election=local)
    assert sent.context["election_id"] == local.pk


# --- the case and its notice are about the voter ---------------------------------------------


def test_a_polling_card_applied_for_another_voter_names_the_voter(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    from django.contrib.auth.models import Group

    from rathaus.accounts.roles import CLERK
    from rathaus.casework import notice_templates
    from rathaus.casework import services as casework
    from rathaus.casework.models import StaffMembership
    from tests.accounts.factories import StaffFactory

    notice_templates.clear_caches()
    _bundestagswahl(wuppertal)
    with freeze_time(SEPTEMBER):
        application = _apply(citizen, briefwahl, wuppertal, VOTER_MAX, "spouse", for_other=True)
        case = application.case
        assert case is not None
        clerk = StaffFactory()
        clerk.groups.add(Group.objects.get_or_create(name=CLERK)[0])
        StaffMembership.objects.create(user=clerk, org_unit=case.org_unit)
        draft = casework.draft_notice(case=case, template_key="granted", actor=clerk)
    assert case.applicant_name == "Max Mustermann"  # not the authorised Erika Muster
    assert case.file is not None and case.file.title.endswith(": Max Mustermann")
    assert "der wahlberechtigten Person Max Mustermann, für die Sie" in draft.body


def test_a_name_typed_with_or_without_a_zero_width_non_joiner_is_the_same_voter(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    """Persian names are spelt with a ZERO WIDTH NON-JOINER between letters, which the form
    accepts; typed once with it and once without, it is still one voter and one polling card."""
    _bundestagswahl(wuppertal)
    other = ProfileFactory(given_names="Jemand", family_name="Anders").user
    joined = {**VOTER_ERIKA, "name__given_names": "Mehr\u200casa", "name__family_name": "Karimi"}
    with freeze_time(SEPTEMBER):
        first = _apply(citizen, briefwahl, wuppertal, joined, "one")
        plain = {**joined, "name__given_names": "Mehrasa"}
        with pytest.raises(ApplicationError, match="nicht online beantragt") as refused:
            _apply(other, briefwahl, wuppertal, plain, "two", for_other=True)
    assert first.reference not in str(refused.value)
