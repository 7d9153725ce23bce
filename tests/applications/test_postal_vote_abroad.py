"""Wahlschein und Briefwahl sent abroad: a voter on holiday or staying abroad for a while has
the documents sent to an address abroad (§ 28 BWahlO; the Wahlscheinantrag's
"Versandanschrift", at home or abroad), which the office sends by air mail."""

from __future__ import annotations

import datetime
import io

import pytest
from django.test import Client
from django.utils import translation
from freezegun import freeze_time
from pypdf import PdfReader

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.receipts import build_receipt
from rathaus.applications.services import (
    SubmissionIncomplete,
    save_step,
    start_application,
    submit_application,
)
from rathaus.casework import services as casework
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.forms.engine import next_step, validate_step
from rathaus.registers.models import Election
from tests.accounts.factories import StaffFactory

SEPTEMBER = "2029-09-01 10:00:00"
VOTER = {
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
LISBON = {
    "delivery_address_abroad__address_line1": "Rua Augusta 10",
    "delivery_address_abroad__address_line2": "Hotel Miramar, quarto 12",
    "delivery_address_abroad__postal_code": "1100-053",
    "delivery_address_abroad__place": "Lisboa",
    "delivery_address_abroad__country": "PT",
}


@pytest.fixture
def briefwahl(demo: None) -> Service:
    return Service.objects.get(slug="briefwahl")


@pytest.fixture
def election(wuppertal: Municipality) -> Election:
    return Election.objects.create(
        municipality=wuppertal, name="Bundestagswahl", election_day=datetime.date(2029, 9, 23)
    )


def _step(service: Service, application: Application, step: str, data: dict[str, str]) -> None:
    schema, _ = form_schema(service)
    result = validate_step(schema, step, data, answers=application.answers)
    assert result.is_valid, [issue.message for issue in result.errors]
    save_step(application=application, result=result)


def _sent_abroad(citizen: User, briefwahl: Service, wuppertal: Municipality) -> Application:
    application = start_application(
        applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
    )
    _step(briefwahl, application, "applicant", {"applies_for": "self"})
    _step(briefwahl, application, "voter", VOTER)
    _step(briefwahl, application, "delivery", {"delivery_to": "abroad"})
    _step(briefwahl, application, "delivery_abroad", LISBON)
    return submit_application(
        application=application, idempotency_key="abroad", confirmed=True, actor=citizen
    )


def test_an_application_with_an_address_abroad_is_submitted_with_that_address(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    with freeze_time(SEPTEMBER):
        sent = _sent_abroad(citizen, briefwahl, wuppertal)
    assert sent.reference and sent.status == Application.Status.SUBMITTED
    assert sent.submitted_data["delivery_to"] == "abroad"
    assert sent.submitted_data["delivery_address_abroad"] == {
        "address_line1": "Rua Augusta 10",
        "address_line2": "Hotel Miramar, quarto 12",
        "address_line3": "",
        "postal_code": "1100-053",
        "place": "Lisboa",
        "country": "PT",
    }
    assert "delivery_address" not in sent.submitted_data  # the German one is not asked


def test_the_receipt_lists_the_address_abroad_readably(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    with freeze_time(SEPTEMBER):
        sent = _sent_abroad(citizen, briefwahl, wuppertal)
    pdf = build_receipt(sent)
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "an eine Anschrift im Ausland" in text
    assert (
        "Anschrift im Ausland: Rua Augusta 10, Hotel Miramar, quarto 12, 1100-053 Lisboa, Portugal"
        in text
    )


def test_an_english_speaking_citizen_gets_the_answers_in_english_on_the_receipt(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    citizen.profile.preferred_language = "en"
    citizen.profile.save()
    with freeze_time(SEPTEMBER):
        sent = _sent_abroad(citizen, briefwahl, wuppertal)
    with translation.override("de"):  # the receipt job runs in German
        pdf = build_receipt(sent)
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "Election" in text and "Bundestagswahl on " in text  # the information block
    assert "Address abroad: Rua Augusta 10" in text and "Portugal" in text
    assert "Anschrift im Ausland" not in text


def test_the_address_abroad_is_asked_only_of_those_who_chose_it(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    """Fields that depend on an answer of their own step are always shown without JavaScript;
    the address abroad has a step of its own, so nobody else sees it. Choosing another way
    afterwards drops an address abroad given before."""
    with freeze_time(SEPTEMBER):
        application = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        _step(briefwahl, application, "applicant", {"applies_for": "self"})
        _step(briefwahl, application, "voter", VOTER)
        schema, _ = form_schema(briefwahl)
        _step(briefwahl, application, "delivery", {"delivery_to": "home"})
        assert next_step(schema, "delivery", application.answers) is None  # the review next
        _step(briefwahl, application, "delivery", {"delivery_to": "abroad"})
        following = next_step(schema, "delivery", application.answers)
        assert following is not None and following.id == "delivery_abroad"
        _step(briefwahl, application, "delivery_abroad", LISBON)
        _step(briefwahl, application, "delivery", {"delivery_to": "home"})
        sent = submit_application(
            application=application, idempotency_key="home", confirmed=True, actor=citizen
        )
    assert "delivery_address_abroad" not in sent.submitted_data


def test_an_application_that_chose_abroad_without_the_address_is_not_sent(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    with freeze_time(SEPTEMBER):
        application = start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )
        _step(briefwahl, application, "applicant", {"applies_for": "self"})
        _step(briefwahl, application, "voter", VOTER)
        _step(briefwahl, application, "delivery", {"delivery_to": "abroad"})
        with pytest.raises(SubmissionIncomplete) as refused:
            submit_application(
                application=application, idempotency_key="none", confirmed=True, actor=citizen
            )
    assert refused.value.step_id == "delivery_abroad"
    application.refresh_from_db()
    assert application.is_draft


def test_the_polling_card_notice_says_the_documents_go_abroad_by_air_mail(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    with freeze_time(SEPTEMBER):
        sent = _sent_abroad(citizen, briefwahl, wuppertal)
        assert sent.case is not None
        notice = casework.draft_notice(case=sent.case, template_key="granted", actor=StaffFactory())
    assert "erhalten Sie mit Luftpost an die von Ihnen angegebene Anschrift im Ausland" in (
        notice.body
    )
    assert "ausreichend frankiert zurück" in notice.body
    assert "an Ihre Meldeanschrift" not in notice.body


# --- the pages, without JavaScript ---------------------------------------------------------------


def test_the_pages_ask_for_the_address_abroad_and_keep_what_was_typed(
    citizen: User, briefwahl: Service, wuppertal: Municipality, election: Election
) -> None:
    with freeze_time(SEPTEMBER):
        client = Client()
        client.force_login(citizen)
        started = client.post("/antraege/neu/briefwahl/", {"gemeinde": "wuppertal"})
        assert started.status_code == 302, started.content.decode()[:2000]
        base = f"/antraege/{Application.objects.get().public_id}"
        for step, data in (("applicant", {"applies_for": "self"}), ("voter", VOTER)):
            assert client.post(f"{base}/schritt/{step}/", data).status_code == 302
        delivery = client.get(f"{base}/schritt/delivery/").content.decode()
        assert 'value="abroad"' in delivery and "an eine Anschrift im Ausland" in delivery
        assert "delivery_address_abroad" not in delivery  # its own step
        chosen = client.post(f"{base}/schritt/delivery/", {"delivery_to": "abroad"})
        assert chosen["Location"] == f"{base}/schritt/delivery_abroad/"

        page = client.get(chosen["Location"]).content.decode()
        assert "Versand ins Ausland" in page and "Luftpost" in page
        assert 'autocomplete="country"' in page and '<option value="PT">Portugal</option>' in page
        assert '<option value="DE">' not in page

        wrong = {
            **LISBON,
            "delivery_address_abroad__place": " ",
            "delivery_address_abroad__country": "DE",
        }
        refused = client.post(chosen["Location"], wrong)
        body = refused.content.decode()
        assert refused.status_code == 400
        assert 'href="#field-delivery_address_abroad-place"' in body
        assert 'href="#field-delivery_address_abroad-country"' in body
        assert 'id="field-delivery_address_abroad-place-error"' in body
        assert "Deutschland ist hier nicht wählbar" in body
        assert 'value="Hotel Miramar, quarto 12"' in body  # nothing typed is lost

        accepted = client.post(chosen["Location"], LISBON)
        assert accepted["Location"] == f"{base}/pruefen/"
        review = client.get(accepted["Location"]).content.decode()
    assert "Rua Augusta 10, Hotel Miramar, quarto 12, 1100-053 Lisboa, Portugal" in review
