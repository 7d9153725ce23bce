"""GovChain demonstrator services: dangerous-dog permit and street music permit (verifiable)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from rathaus.applications.models import Application
from rathaus.applications.services import save_step, start_application, submit_application
from rathaus.casework import notice_templates
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import Authority, Municipality
from rathaus.forms.engine import validate_step
from rathaus.records.models import PlanEntry
from tests.accounts.factories import ProfileFactory

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


def test_street_music_permit_can_be_applied_for_and_refuses_a_last_day_before_the_first(
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
