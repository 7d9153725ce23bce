"""A service switched off (``is_active``/``online``) or whose form folder was removed after
applications began. Sent applications still show, get their receipt and are handed over once
paid, from the form version stored with them; drafts can no longer be continued or sent, and the
citizen is told so (no 500); they can still be deleted."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications import services as application_services
from rathaus.applications.models import Application
from rathaus.applications.services import (
    ServiceNotOffered,
    hand_over_paid,
    start_application,
    submit_application,
)
from rathaus.catalog import form_schemas
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import Municipality
from rathaus.payments.models import PaymentStatus, PaymentTransaction
from tests.applications.meldebescheinigung import answer_all
from tests.applications.test_payment_flow import fill_parking_permit

GONE = "Diese Leistung wird nicht mehr online angeboten"


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


def _start(client: Client) -> Application:
    response = client.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    assert response.status_code == 302
    return Application.objects.filter(status="draft").get()


def _remove_folder(monkeypatch: pytest.MonkeyPatch, slug: str) -> None:
    """A deployment without ``services/<slug>/`` (the sync then switches the service off)."""
    real = form_schemas.schema_path
    monkeypatch.setattr(
        form_schemas,
        "schema_path",
        lambda name: Path("/nonexistent/form.toml") if name == slug else real(name),
    )


def _switch_off(service: Service, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "folder removed":
        _remove_folder(monkeypatch, service.slug)
        Service.objects.filter(pk=service.pk).update(is_active=False)
    else:
        Service.objects.filter(pk=service.pk).update(**{how: False})


def test_a_sent_application_still_shows_after_its_services_folder_was_removed(
    logged_in: Client,
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = _start(logged_in)
    answer_all(sent)
    submit_application(application=sent, idempotency_key="k", confirmed=True, actor=citizen)
    draft = _start(logged_in)
    _switch_off(meldebescheinigung, "folder removed", monkeypatch)

    page = logged_in.get(f"/antraege/{sent.public_id}/")
    assert page.status_code == 200
    assert "Mustermann" in page.content.decode()  # the declaration, with the stored form
    assert "Einfache Meldebescheinigung" in page.content.decode()

    listing = logged_in.get("/antraege/")
    body = listing.content.decode()
    assert listing.status_code == 200
    assert "kann dieser Entwurf nicht mehr fortgesetzt" in body
    assert f'href="/antraege/{draft.public_id}/"' not in body  # no "Continue"
    assert f'href="/antraege/{draft.public_id}/loeschen/"' in body  # still deletable


@pytest.mark.parametrize("how", ["is_active", "online", "folder removed"])
def test_the_pages_of_a_draft_whose_service_is_no_longer_offered_say_so(
    logged_in: Client,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    draft = _start(logged_in)
    answer_all(draft)
    _switch_off(meldebescheinigung, how, monkeypatch)
    for path in ("", "schritt/person/", "pruefen/"):
        response = logged_in.get(f"/antraege/{draft.public_id}/{path}")
        assert response.status_code == 302, path
        assert response["Location"] == "/antraege/"
        shown = logged_in.get("/antraege/").content.decode()
        assert GONE in shown, path
    deleted = logged_in.post(f"/antraege/{draft.public_id}/loeschen/", {"confirm": "yes"})
    assert deleted.status_code == 302
    assert not Application.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize("how", ["is_active", "online", "folder removed"])
def test_a_draft_is_not_sent_once_its_service_is_no_longer_offered(
    logged_in: Client,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """Switched off while the citizen reads the review page: "Send" is refused."""
    draft = _start(logged_in)
    answer_all(draft)
    url = f"/antraege/{draft.public_id}/pruefen/"
    reviewed = re.search(
        r'name="reviewed" value="([0-9a-f]+)"', logged_in.get(url).content.decode()
    )
    assert reviewed is not None
    _switch_off(meldebescheinigung, how, monkeypatch)
    response = logged_in.post(
        url, {"submission_key": "k", "confirm": "yes", "reviewed": reviewed.group(1)}, follow=True
    )
    assert response.status_code == 200
    assert GONE in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_draft and draft.reference is None and draft.case is None


def test_submission_itself_refuses_a_service_switched_off_after_the_start(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    draft = start_application(
        applicant=citizen, service=meldebescheinigung, municipality=wuppertal, trust_level="high"
    )
    answer_all(draft)
    Service.objects.filter(pk=meldebescheinigung.pk).update(online=False)
    with pytest.raises(ServiceNotOffered):
        submit_application(application=draft, idempotency_key="k", confirmed=True, actor=citizen)
    draft.refresh_from_db()
    assert draft.is_draft


def test_the_receipt_of_an_application_sent_before_the_folder_was_removed_is_made(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rathaus.applications.receipts import render_receipt

    application = start_application(
        applicant=citizen, service=meldebescheinigung, municipality=wuppertal, trust_level="high"
    )
    answer_all(application)
    submit_application(application=application, idempotency_key="k", confirmed=True, actor=citizen)
    _remove_folder(monkeypatch, meldebescheinigung.slug)
    assert render_receipt.call(application.pk) == "stored"
    application.refresh_from_db()
    assert application.receipt


def _paid(application: Application) -> None:
    PaymentTransaction.objects.create(
        municipality=application.authority.municipality,  # type: ignore[union-attr]
        payable_type="applications.application",
        payable_id=str(application.pk),
        amount_cents=1000,
        purpose="x",
        status=PaymentStatus.PAYED,
        paid_at=timezone.now(),
        provider="sandbox",
        return_url="/antraege/",
        created_by=application.applicant,
    )


@pytest.fixture
def two_paid(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> tuple[Application, Application]:
    """A paid Meldebescheinigung, then a paid Bewohnerparkausweis, both still waiting."""
    Responsibility.objects.filter(service=meldebescheinigung).update(local_fee=Decimal("10.00"))
    first = start_application(
        applicant=citizen, service=meldebescheinigung, municipality=wuppertal, trust_level="high"
    )
    answer_all(first)
    first = submit_application(
        application=first, idempotency_key="a", confirmed=True, actor=citizen
    )
    parking = Service.objects.get(slug="bewohnerparkausweis")
    second = start_application(
        applicant=citizen, service=parking, municipality=wuppertal, trust_level="high"
    )
    fill_parking_permit(second)
    second = submit_application(
        application=second, idempotency_key="b", confirmed=True, actor=citizen
    )
    assert first.status == second.status == Application.Status.AWAITING_PAYMENT
    assert first.pk < second.pk
    _paid(first)
    _paid(second)
    return first, second


def test_a_paid_application_is_handed_over_after_its_services_folder_was_removed(
    two_paid: tuple[Application, Application], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_paid
    _remove_folder(monkeypatch, "meldebescheinigung")
    assert hand_over_paid() == 2
    for application in (first, second):
        application.refresh_from_db()
        assert application.status == Application.Status.SUBMITTED


def test_one_application_failing_unexpectedly_does_not_stop_the_hand_over_of_the_others(
    two_paid: tuple[Application, Application],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = two_paid
    honest = application_services.open_case

    def open_case(**kwargs: Any) -> Any:
        if kwargs["service"].slug == "meldebescheinigung":
            raise RuntimeError("database hiccup")
        return honest(**kwargs)

    monkeypatch.setattr(application_services, "open_case", open_case)
    assert hand_over_paid() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Application.Status.AWAITING_PAYMENT  # tried again next time
    assert second.status == Application.Status.SUBMITTED
    assert "paid application could not be handed over" in caplog.text

    monkeypatch.setattr(application_services, "open_case", honest)
    assert hand_over_paid() == 1
    first.refresh_from_db()
    assert first.status == Application.Status.SUBMITTED
