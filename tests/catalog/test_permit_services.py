"""GovChain demonstrator services: dangerous-dog permit and street music permit (verifiable)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from rathaus.applications.models import Application
from rathaus.applications.services import save_step, start_application, submit_application
from rathaus.casework import notice_templates
from rathaus.casework import services as casework
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import Authority, Municipality
from rathaus.forms.engine import validate_step
from rathaus.ledger.models import Entry
from rathaus.ledger.sequencer import sequence
from rathaus.records.models import PlanEntry
from tests.accounts.factories import ProfileFactory, StaffFactory

SLUGS = ["gefaehrlicher-hund", "strassenmusik"]


@pytest.mark.parametrize("slug", SLUGS)
def test_granted_notice_is_a_verifiable_permit_and_refusal_a_notice(slug: str) -> None:
    granted = notice_templates.template(slug, "granted")
    refused = notice_templates.template(slug, "refused")
    assert granted.document_type == "permit"
    assert granted.outcome == "granted"
    assert refused.outcome == "refused"
    assert refused.document_type == "notice"


def test_street_music_notice_fills_in_the_answers() -> None:
    granted = notice_templates.template("strassenmusik", "granted")
    text = granted.fill(
        {
            "applicant_name": "Erika Mustermann",
            "case_number": "2026-000001",
            "file_reference": "11.70.02-0001/2026",
            "decided_on": datetime.date(2026, 11, 23),
            "service_name": "Straßenmusik-Erlaubnis",
            "authority_name": "Ordnungsamt Wuppertal",
            "municipality_name": "Wuppertal",
            "opened_on": datetime.date(2026, 11, 20),
            "court": "Verwaltungsgericht Düsseldorf",
            "particulars": notice_templates.template_values(
                {
                    "first_day": "2026-12-01",
                    "last_day": "2026-12-24",
                    "places": "Fußgängerzone Elberfeld",
                    "instruments": "Gitarre",
                    "group_size": 2,
                    "amplifier": False,
                }
            ),
        }
    )
    assert "01.12.2026 bis 24.12.2026" in text["body"]
    assert "Verstärker oder Lautsprecher: nicht erlaubt" in text["body"]
    assert "Verwaltungsgericht Düsseldorf" in text["remedy"]


@pytest.fixture
def demo(db: None) -> None:
    call_command("load_demo", verbosity=0)


@pytest.mark.parametrize("slug", SLUGS)
def test_each_city_s_public_order_office_handles_them_with_a_file_plan_entry(
    demo: None, slug: str
) -> None:
    service = Service.objects.get(slug=slug)
    for town in Municipality.objects.all():
        responsibility = Responsibility.objects.get(service=service, municipality=town)
        assert responsibility.authority.kind == Authority.Kind.PUBLIC_ORDER
        assert responsibility.authority.municipality == town
        assert PlanEntry.objects.filter(
            plan__authority=responsibility.authority, key=service.file_plan_key
        ).exists()


def _answer(application: Application, step: str, data: dict[str, Any]) -> None:
    schema, _ = form_schema(application.service)
    result = validate_step(schema, step, data, answers=application.answers)
    assert result.is_valid, result.errors
    save_step(application=application, result=result)


def test_street_music_permit_is_applied_for_granted_verified_and_revoked(
    demo: None,
) -> None:
    citizen = ProfileFactory().user
    town = Municipality.objects.get(slug="wuppertal")
    application = start_application(
        applicant=citizen,
        service=Service.objects.get(slug="strassenmusik"),
        municipality=town,
        trust_level="low",
    )
    _answer(
        application,
        "musician",
        {
            "name__given_names": "Erika",
            "name__family_name": "Mustermann",
            "address__street": "Neumarkt",
            "address__house_number": "10",
            "address__postal_code": "42103",
            "address__place": "Wuppertal",
            "group_size": "2",
        },
    )
    first = timezone.localdate() + datetime.timedelta(days=7)
    performance = {
        "first_day__day": str(first.day),
        "first_day__month": str(first.month),
        "first_day__year": str(first.year),
        "last_day__day": str((first - datetime.timedelta(days=1)).day),
        "last_day__month": str((first - datetime.timedelta(days=1)).month),
        "last_day__year": str((first - datetime.timedelta(days=1)).year),
        "places": "Fußgängerzone Elberfeld",
        "instruments": "Gitarre",
        "amplifier": "no",
    }
    schema, _ = form_schema(application.service)
    refused = validate_step(schema, "performance", performance, answers=application.answers)
    assert "nicht vor dem ersten Tag" in str(refused.errors)
    last = first + datetime.timedelta(days=3)
    performance.update(
        last_day__day=str(last.day), last_day__month=str(last.month), last_day__year=str(last.year)
    )
    _answer(application, "performance", performance)
    submitted = submit_application(
        application=application, idempotency_key="s1", confirmed=True, actor=citizen
    )
    assert submitted.status in (Application.Status.SUBMITTED, Application.Status.AWAITING_PAYMENT)
    assert submitted.authority is not None
    assert submitted.authority.kind == Authority.Kind.PUBLIC_ORDER

    # The clerk grants it: the permit is issued as a verifiable document of type "permit".
    case = Application.objects.get(pk=submitted.pk).case
    assert case is not None
    clerk = StaffFactory()
    notice = casework.draft_notice(case=case, template_key="granted", actor=clerk)
    issued = casework.issue_notice(notice=notice, actor=clerk)
    pdf = issued.pdf.read()
    assert Entry.objects.get(code=issued.ledger_code).document_type == "permit"
    sequence()
    response = Client().post(
        "/pruefen/", {"document": SimpleUploadedFile("erlaubnis.pdf", pdf, "application/pdf")}
    )
    content = response.content.decode()
    assert "Echt: Dieses Dokument wurde von der Stadt ausgestellt" in content
    assert "Ordnungsamt Wuppertal" in content

    # Withdrawn (e.g. after repeated complaints): the same PDF now shows as revoked.
    casework.revoke_notice(notice=issued, reason="Wiederholte Beschwerden", actor=clerk)
    response = Client().post(
        "/pruefen/", {"document": SimpleUploadedFile("erlaubnis.pdf", pdf, "application/pdf")}
    )
    assert "Widerrufen: Dieses Dokument ist nicht mehr gültig" in response.content.decode()
