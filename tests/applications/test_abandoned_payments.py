"""An unpaid application whose payment page was left open expires all the same, and a capture
the provider reports late is never lost: it hands the application over while it waits, and is
kept for a refund once the application is gone."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications import services
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.services import (
    PAYABLE_TYPE,
    delete_expired_unpaid,
    discard_unpaid,
    start_application,
    start_fee_payment,
    submit_application,
)
from rathaus.catalog.models import Service
from rathaus.core.models import AuditEvent, Municipality
from rathaus.payments.models import PaymentStatus, PaymentTransaction, ProviderConfig
from rathaus.payments.services import reconcile_open_transactions
from tests.applications.test_payment_flow import (  # noqa: F401  (fixtures)
    fill_parking_permit,
    provider,
    waiting,
)
from tests.payments.conftest import Sandbox
from tests.payments.test_views_and_commands import _in_the_admin


def after_expiry() -> datetime.datetime:
    """The hourly expiry job, a day after APPLICATION_UNPAID_DAYS (30) ran out."""
    return timezone.now() + datetime.timedelta(days=31)


def another_waiting(citizen: User, wuppertal: Municipality) -> Application:
    service = Service.objects.get(slug="bewohnerparkausweis")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="substantial"
    )
    fill_parking_permit(application)
    return submit_application(
        application=application, idempotency_key="park-2", confirmed=True, actor=citizen
    )


@pytest.mark.django_db(transaction=True)
def test_an_application_whose_payment_page_was_left_open_expires_as_documented(
    waiting: Application,  # noqa: F811
    provider: ProviderConfig,  # noqa: F811
    sandbox: Sandbox,
    citizen: User,
) -> None:
    start = start_fee_payment(application=waiting, actor=citizen)  # and the citizen left

    assert delete_expired_unpaid(now=after_expiry()) == 1

    assert not Application.objects.filter(pk=waiting.pk).exists()
    assert AuditEvent.objects.filter(action="application.unpaid_expired").count() == 1
    tx = PaymentTransaction.objects.get(pk=start.transaction.pk)
    assert tx.status == PaymentStatus.ABANDONED  # the provider still says "open"
    assert tx.payable_deleted_at is not None
    for action in ("payment.abandoned", "payment.payable_deleted"):
        assert AuditEvent.objects.filter(action=action, object_id=str(tx.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_payment_opened_within_the_limit_still_keeps_the_expired_application(
    waiting: Application,  # noqa: F811
    provider: ProviderConfig,  # noqa: F811
    sandbox: Sandbox,
    citizen: User,
) -> None:
    # The citizen opened the payment page on the last day; the expiry job runs an hour later.
    start = start_fee_payment(application=waiting, actor=citizen)
    Application.objects.filter(pk=waiting.pk).update(
        expires_at=timezone.now() - datetime.timedelta(hours=1)
    )

    assert delete_expired_unpaid() == 0  # the citizen may still be paying
    assert PaymentTransaction.objects.get(pk=start.transaction.pk).status == "INITIAL"
    assert Application.objects.filter(pk=waiting.pk).exists()

    two_days_later = timezone.now() + datetime.timedelta(hours=49)  # limit: 48 hours
    assert delete_expired_unpaid(now=two_days_later) == 1
    assert not Application.objects.filter(pk=waiting.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_final_question_hands_a_captured_application_over_and_expires_the_other(
    waiting: Application,  # noqa: F811
    provider: ProviderConfig,  # noqa: F811
    sandbox: Sandbox,
    citizen: User,
    wuppertal: Municipality,
) -> None:
    other = another_waiting(citizen, wuppertal)
    paid = start_fee_payment(application=waiting, actor=citizen)
    start_fee_payment(application=other, actor=citizen)
    # captured at the provider, but the browser never came back and no reconciliation ran
    sandbox.control(
        action="set_status", transactionId=paid.transaction.provider_transaction_id, status="PAYED"
    )

    assert delete_expired_unpaid(now=after_expiry()) == 1

    waiting.refresh_from_db()
    assert waiting.status == Application.Status.SUBMITTED  # handed over, not deleted
    assert waiting.case is not None
    assert not Application.objects.filter(pk=other.pk).exists()
    assert PaymentTransaction.objects.get(pk=paid.transaction.pk).payable_deleted_at is None


@pytest.mark.django_db(transaction=True)
def test_a_capture_after_the_application_expired_is_kept_for_refund_and_audited(
    waiting: Application,  # noqa: F811
    provider: ProviderConfig,  # noqa: F811
    sandbox: Sandbox,
    citizen: User,
    admin_user: Any,
    client: Client,
) -> None:
    start = start_fee_payment(application=waiting, actor=citizen)
    assert delete_expired_unpaid(now=after_expiry()) == 1
    sandbox.choose(start.redirect_url, "pay")  # the page was still open at the provider

    result = reconcile_open_transactions()

    assert result.changed == 1
    tx = PaymentTransaction.objects.get(pk=start.transaction.pk)
    assert tx.status == PaymentStatus.PAYED and tx.refund_due
    assert not Application.objects.filter(pk=waiting.pk).exists()  # nothing handed over
    event = AuditEvent.objects.get(action="payment.refund_due", object_id=str(tx.pk))
    assert event.after["reason"] == "payable_deleted"
    page = _in_the_admin(client, admin_user).get(
        "/admin/payments/paymenttransaction/?refund_outstanding=yes"
    )
    assert waiting.reference and waiting.reference in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_payment_confirmed_for_an_application_deleted_otherwise_is_kept_for_refund(
    waiting: Application,  # noqa: F811
    provider: ProviderConfig,  # noqa: F811
    sandbox: Sandbox,
    citizen: User,
) -> None:
    # deleted without telling payments (before this rule existed, or by hand)
    start = start_fee_payment(application=waiting, actor=citizen)
    Application.objects.filter(pk=waiting.pk).delete()
    sandbox.choose(start.redirect_url, "pay")

    reconcile_open_transactions()

    tx = PaymentTransaction.objects.get(pk=start.transaction.pk)
    assert tx.status == PaymentStatus.PAYED and tx.refund_due
    event = AuditEvent.objects.get(action="payment.refund_due", object_id=str(tx.pk))
    assert event.after["reason"] == "payable_missing"
    assert AuditEvent.objects.filter(action="payment.payable_deleted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_payment_started_in_another_tab_during_the_withdrawal_keeps_the_application(
    waiting: Application,  # noqa: F811
    provider: ProviderConfig,  # noqa: F811
    sandbox: Sandbox,
    citizen: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = services.current_state

    def other_tab_pays_meanwhile(**kwargs: Any) -> Any:
        state = asked(**kwargs)  # nothing open yet
        start_fee_payment(application=waiting, actor=citizen)
        return state

    monkeypatch.setattr(services, "current_state", other_tab_pays_meanwhile)

    with pytest.raises(ApplicationError, match="noch offen"):
        discard_unpaid(application=waiting, actor=citizen)

    assert Application.objects.filter(pk=waiting.pk).exists()
    assert PaymentTransaction.objects.get().payable_deleted_at is None


@pytest.mark.django_db(transaction=True)
def test_an_attempt_that_never_reached_the_provider_does_not_keep_the_application(
    waiting: Application,  # noqa: F811
) -> None:
    # the process ended between recording the attempt and the provider's answer
    assert waiting.authority is not None
    lost = PaymentTransaction.objects.create(
        municipality=waiting.authority.municipality,
        payable_type=PAYABLE_TYPE,
        payable_id=str(waiting.pk),
        amount_cents=3070,
        purpose="Bewohnerparkausweis",
        provider="xbezahldienste",
    )
    PaymentTransaction.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=16)
    )

    assert delete_expired_unpaid(now=after_expiry()) == 1

    lost.refresh_from_db()
    assert lost.status == PaymentStatus.FAILED
    assert not Application.objects.filter(pk=waiting.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_return_after_paying_for_an_expired_application_does_not_say_received(
    waiting: Application,  # noqa: F811
    provider: ProviderConfig,  # noqa: F811
    sandbox: Sandbox,
    citizen: User,
) -> None:
    from django.contrib.messages import get_messages

    start = start_fee_payment(application=waiting, actor=citizen)
    assert delete_expired_unpaid(now=after_expiry()) == 1
    sandbox.choose(start.redirect_url, "pay")  # the page was still open at the provider
    client = Client()
    client.force_login(citizen)

    response = client.get(
        f"/zahlung/{start.transaction.request_id}/rueckkehr/",
        follow=True,
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert PaymentTransaction.objects.get(pk=start.transaction.pk).refund_due
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Vielen Dank, Ihre Zahlung ist eingegangen." not in shown
    assert shown == [
        "Ihre Zahlung ist eingegangen, der Antrag, für den sie bestimmt war, besteht jedoch "
        "nicht mehr (er wurde zurückgenommen oder ist abgelaufen). Der Betrag wird Ihnen "
        "erstattet."
    ]
    assert response.status_code == 200  # not the application's address: it is a 404 now
    assert response.redirect_chain == [(f"/zahlung/{start.transaction.request_id}/", 302)]
    page = response.content.decode()
    assert "Erstattung" in page and "30,70 €" in page
    assert "nachdem der Antrag zurückgenommen worden oder abgelaufen war" in page
