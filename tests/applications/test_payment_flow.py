"""Bewohnerparkausweis: the application goes to the authority only once the fee is paid (issue 6).

The portal talks to the sandbox provider over real HTTP, exactly as to a real ePayment platform.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import (
    save_step,
    start_application,
    start_fee_payment,
    submit_application,
)
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import AuditEvent, Municipality
from rathaus.forms.engine import validate_step
from rathaus.payments.models import PaymentTransaction, ProviderConfig
from rathaus.payments.services import handle_return, reconcile_open_transactions
from tests.payments.conftest import Sandbox

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def provider(sandbox: Sandbox, wuppertal: Municipality) -> ProviderConfig:
    return ProviderConfig.objects.create(
        municipality=wuppertal,
        base_url=sandbox.url,
        originator_id="rathaus-wuppertal",
        auth_scheme=ProviderConfig.AuthScheme.NONE,
        timeout_seconds=5,
    )


def fill_parking_permit(application: Application) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    schema, _ = form_schema(application.service)
    start = timezone.localdate() + datetime.timedelta(days=1)
    posts: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        (
            "residence",
            {
                "name__given_names": "Erika",
                "name__family_name": "Mustermann",
                "address__street": "Luisenstraße",
                "address__house_number": "12",
                "address__postal_code": "42103",
                "address__place": "Wuppertal",
                "zone": "Elberfeld-Mitte 3",
            },
            {},
        ),
        (
            "vehicle",
            {"plate": "W-AB 1234", "holder": "self"},
            {"registration_document": SimpleUploadedFile("zb1.pdf", PDF)},
        ),
        (
            "permit",
            {
                "start_date__day": str(start.day),
                "start_date__month": str(start.month),
                "start_date__year": str(start.year),
            },
            {},
        ),
    ]
    for step_id, data, files in posts:
        result = validate_step(schema, step_id, data, files, answers=application.answers)
        assert result.is_valid, result.errors
        save_step(application=application, result=result)


@pytest.fixture
def waiting(citizen: User, demo: None, wuppertal: Municipality) -> Application:
    service = Service.objects.get(slug="bewohnerparkausweis")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="substantial"
    )
    fill_parking_permit(application)
    submitted = submit_application(
        application=application, idempotency_key="park-1", confirmed=True, actor=citizen
    )
    assert submitted.status == Application.Status.AWAITING_PAYMENT
    return submitted


@pytest.mark.django_db(transaction=True)
def test_paid_application_is_handed_over_after_the_return(
    waiting: Application,
    provider: ProviderConfig,
    sandbox: Sandbox,
    citizen: User,
) -> None:
    assert waiting.reference and waiting.submitted_at is None
    start = start_fee_payment(application=waiting, actor=citizen)
    transaction = start.transaction
    assert transaction.amount_cents == 3070
    sandbox.choose(start.redirect_url, "pay")
    handle_return(request_id=str(transaction.request_id))
    waiting.refresh_from_db()
    assert waiting.status == Application.Status.SUBMITTED
    assert waiting.submitted_at is not None
    assert AuditEvent.objects.filter(action="application.submitted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_browser_never_returns_and_reconciliation_submits(
    waiting: Application,
    provider: ProviderConfig,
    sandbox: Sandbox,
    citizen: User,
) -> None:
    start = start_fee_payment(application=waiting, actor=citizen)
    sandbox.choose(start.redirect_url, "pay")
    reconcile_open_transactions()
    waiting.refresh_from_db()
    assert waiting.status == Application.Status.SUBMITTED


@pytest.mark.django_db(transaction=True)
def test_failed_payment_can_be_retried_without_double_charge(
    waiting: Application,
    provider: ProviderConfig,
    sandbox: Sandbox,
    citizen: User,
) -> None:
    first = start_fee_payment(application=waiting, actor=citizen)
    sandbox.choose(first.redirect_url, "fail")
    handle_return(request_id=str(first.transaction.request_id))
    waiting.refresh_from_db()
    assert waiting.status == Application.Status.AWAITING_PAYMENT
    second = start_fee_payment(application=waiting, actor=citizen)
    assert second.transaction.pk != first.transaction.pk
    sandbox.choose(second.redirect_url, "pay")
    handle_return(request_id=str(second.transaction.request_id))
    waiting.refresh_from_db()
    assert waiting.status == Application.Status.SUBMITTED
    # Asking again after payment never starts a new charge.
    client = Client()
    client.force_login(citizen)
    response = client.post(f"/antraege/{waiting.public_id}/bezahlen/")
    assert response.status_code == 302
    assert PaymentTransaction.objects.filter(status="PAYED").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_fee_paid_is_the_one_quoted_when_the_citizen_sent_it(
    waiting: Application,
    provider: ProviderConfig,
    sandbox: Sandbox,
    citizen: User,
) -> None:
    """The municipality changes its local fee after the citizen sent the application: the
    citizen still pays what the review page showed (3,070 cents), and the payment page still
    opens when the fee is now collected with the notice."""
    from rathaus.catalog.models import Responsibility

    responsibilities = Responsibility.objects.filter(service=waiting.service)
    responsibilities.update(local_fee=Decimal("99.00"))
    start = start_fee_payment(application=waiting, actor=citizen)
    assert start.transaction.amount_cents == 3070

    responsibilities.update(local_fee=None)
    client = Client()
    client.force_login(citizen)
    response = client.post(f"/antraege/{waiting.public_id}/bezahlen/")
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_a_paid_application_the_case_could_not_be_opened_for_is_handed_over_later(
    waiting: Application,
    provider: ProviderConfig,
    sandbox: Sandbox,
    citizen: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The hand-over fails at the moment of payment (here: no case can be opened); the payment
    # stays recorded, the citizen's return is no 500, and the periodic job catches up.
    from rathaus.applications import services as application_services
    from rathaus.applications.errors import ApplicationError
    from rathaus.applications.tasks import hand_over_paid_job
    from rathaus.payments.models import PaymentStatus

    honest = application_services._hand_over

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ApplicationError("Kein Aktenplaneintrag für diese Leistung.")

    monkeypatch.setattr(application_services, "_hand_over", broken)
    start = start_fee_payment(application=waiting, actor=citizen)
    sandbox.choose(start.redirect_url, "pay")
    outcome = handle_return(request_id=str(start.transaction.request_id))
    assert outcome.transaction.status == PaymentStatus.PAYED
    waiting.refresh_from_db()
    assert waiting.status == Application.Status.AWAITING_PAYMENT
    assert hand_over_paid_job.call() == 0  # still failing: logged, kept, tried again

    monkeypatch.setattr(application_services, "_hand_over", honest)
    assert hand_over_paid_job.call() == 1
    waiting.refresh_from_db()
    assert waiting.status == Application.Status.SUBMITTED
    assert hand_over_paid_job.call() == 0  # once only


@pytest.mark.django_db(transaction=True)
def test_one_failing_payment_does_not_stop_the_reconciliation_of_the_others(
    waiting: Application,
    provider: ProviderConfig,
    sandbox: Sandbox,
    citizen: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rathaus.payments import services as payment_services
    from rathaus.payments.models import PaymentStatus

    broken = PaymentTransaction.objects.create(  # checked first: the oldest open attempt
        municipality=provider.municipality,
        payable_type="test",
        payable_id="2",
        amount_cents=100,
        purpose="Test",
        request_id="00000000-0000-4000-8000-000000000002",
        provider="xbezahldienste",
        provider_transaction_id="gibt-es-nicht",
    )
    start = start_fee_payment(application=waiting, actor=citizen)
    sandbox.choose(start.redirect_url, "pay")
    honest = payment_services.refresh_status

    def refresh(*, transaction: PaymentTransaction, source: str) -> PaymentTransaction:
        if transaction.pk == broken.pk:
            raise RuntimeError("database hiccup")
        return honest(transaction=transaction, source=source)

    monkeypatch.setattr(payment_services, "refresh_status", refresh)
    result = reconcile_open_transactions()
    assert result.failed == 1 and result.errors == [f"{broken.request_id}: RuntimeError"]
    start.transaction.refresh_from_db()
    assert start.transaction.status == PaymentStatus.PAYED  # the next one was still checked
    waiting.refresh_from_db()
    assert waiting.status == Application.Status.SUBMITTED


@pytest.mark.django_db(transaction=True)
def test_an_unpaid_application_can_be_withdrawn_and_goes_with_its_files(
    waiting: Application, citizen: User
) -> None:
    """It never reached the authority: withdrawing it deletes it (audited); nothing blocks the
    deletion of the account any more."""
    from rathaus.accounts.personal_data import ErasureBlocked  # noqa: F401
    from rathaus.applications.models import Attachment
    from rathaus.applications.services import discard_unpaid, erase_for_account_deletion

    stored = Attachment.objects.get(application=waiting)
    storage, name = stored.file.storage, stored.file.name
    assert waiting.expires_at is not None  # waits for its fee for a while only
    discard_unpaid(application=waiting, actor=citizen)

    assert not Application.objects.filter(pk=waiting.pk).exists()
    assert not storage.exists(name)
    assert AuditEvent.objects.filter(action="application.unpaid_withdrawn").count() == 1
    erase_for_account_deletion(citizen)  # no ErasureBlocked


@pytest.mark.django_db(transaction=True)
def test_an_unpaid_application_is_not_withdrawn_while_a_payment_is_open_or_once_paid(
    waiting: Application,
    provider: ProviderConfig,
    sandbox: Sandbox,
    citizen: User,
) -> None:
    from rathaus.applications.errors import ApplicationError
    from rathaus.applications.services import discard_unpaid

    start = start_fee_payment(application=waiting, actor=citizen)
    with pytest.raises(ApplicationError, match="noch offen"):
        discard_unpaid(application=waiting, actor=citizen)  # the citizen may still pay
    sandbox.choose(start.redirect_url, "pay")  # paid, but the browser never came back
    with pytest.raises(ApplicationError, match="bezahlt"):
        discard_unpaid(application=waiting, actor=citizen)
    waiting.refresh_from_db()
    assert waiting.status == Application.Status.SUBMITTED  # handed over instead
    assert waiting.expires_at is None


@pytest.mark.django_db(transaction=True)
def test_an_application_unpaid_past_its_time_is_deleted_by_the_expiry_job(
    waiting: Application, citizen: User, settings: Any
) -> None:
    from rathaus.applications.services import delete_expired_unpaid

    settings.APPLICATION_UNPAID_DAYS = 30
    assert delete_expired_unpaid() == 0  # not yet
    later = timezone.now() + datetime.timedelta(days=31)
    assert delete_expired_unpaid(now=later) == 1
    assert not Application.objects.filter(pk=waiting.pk).exists()
    assert AuditEvent.objects.filter(action="application.unpaid_expired").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_citizen_withdraws_an_unpaid_application_on_its_page(
    waiting: Application, citizen: User
) -> None:
    client = Client()
    client.force_login(citizen)
    url = f"/antraege/{waiting.public_id}/zurueckziehen/"
    page = client.get(f"/antraege/{waiting.public_id}/").content.decode()
    assert f'action="{url}"' in page
    assert waiting.expires_at is not None
    assert timezone.localtime(waiting.expires_at).strftime("%d.%m.%Y") in page

    other = Client()
    other.force_login(User.objects.create_user(email="fremd@example.org"))
    assert other.post(url, {"confirm": "yes"}).status_code == 404
    unconfirmed = client.post(url)
    assert unconfirmed.status_code == 302 and Application.objects.filter(pk=waiting.pk).exists()
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == "/antraege/"
    assert not Application.objects.filter(pk=waiting.pk).exists()
