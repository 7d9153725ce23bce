"""An attempt the provider keeps open for ever is given up after a while, and a capture the
provider reports later is never lost: honoured while its matter waits, kept for a refund once
the matter is deleted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from django.utils import timezone

from rathaus.core.models import AuditEvent, Municipality
from rathaus.payments.models import PaymentStatus, PaymentTransaction, ProviderConfig
from rathaus.payments.providers import PaymentItem
from rathaus.payments.selectors import payable_state, refunds_due
from rathaus.payments.services import (
    PayableHasPayment,
    PaymentStart,
    close_payable,
    current_state,
    record_refund,
    start_payment,
)
from rathaus.payments.treasury import export_reconciliation_csv
from tests.payments.conftest import Sandbox
from tests.payments.test_services import (  # noqa: F401
    back,
    committed,
    provider_id,
    reconcile,
    run_on_commit,
    signals,
)
from tests.payments.test_views_and_commands import _in_the_admin

#: A payable no module owns: the payments rules alone, without the applications' receiver
#: (tests/applications/test_abandoned_payments.py has them with applications).
MATTER = "tests.matter"


def pay(municipality: Municipality, payable_id: str = "17") -> PaymentStart:
    return committed(  # type: ignore[no-any-return]
        start_payment,
        municipality=municipality,
        payable_type=MATTER,
        payable_id=payable_id,
        amount_cents=3060,
        items=[PaymentItem("permit", "Bewohnerparkausweis", 1, 3060)],
        purpose=f"Bewohnerparkausweis A-{payable_id}",
        return_url=f"/antraege/{payable_id}/",
    )


def started_ago(start: PaymentStart, *, hours: float) -> PaymentTransaction:
    """The citizen opened the payment page ``hours`` ago and left."""
    PaymentTransaction.objects.filter(pk=start.transaction.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=hours)
    )
    return PaymentTransaction.objects.get(pk=start.transaction.pk)


def close(payable_id: str = "17") -> None:
    """The matter's module deletes it unpaid (an application withdrawn or expired)."""
    with transaction.atomic():
        close_payable(payable_type=MATTER, payable_id=payable_id, actor=None)


@pytest.mark.django_db
def test_an_attempt_still_open_past_the_limit_is_given_up_after_one_final_question(
    provider_config: ProviderConfig,
    sandbox: Sandbox,
    signals: dict[str, list[Any]],  # noqa: F811
) -> None:
    start = pay(provider_config.municipality)
    started_ago(start, hours=49)  # the default limit is 48 hours

    result = reconcile()

    tx = PaymentTransaction.objects.get(pk=start.transaction.pk)
    assert (result.checked, result.changed, result.abandoned) == (1, 1, 1)
    assert tx.status == PaymentStatus.ABANDONED
    assert tx.check_count == 1  # the provider was asked, and said "still open"
    [change] = tx.status_changes.filter(to_status=PaymentStatus.ABANDONED)
    assert (change.from_status, change.source) == (PaymentStatus.INITIAL, "reconciliation")
    assert "48 hours" in change.detail
    event = AuditEvent.objects.get(action="payment.abandoned", object_id=str(tx.pk))
    assert (event.before["status"], event.after["status"]) == ("INITIAL", "ABANDONED")
    assert len(signals["failed"]) == 1 and not signals["confirmed"]
    assert payable_state(payable_type=MATTER, payable_id="17").open_transaction is None


@pytest.mark.django_db
def test_the_limit_is_a_setting_and_an_attempt_within_it_stays_open(
    provider_config: ProviderConfig, sandbox: Sandbox, settings: Any
) -> None:
    settings.PAYMENTS_ATTEMPT_ABANDON_HOURS = 6
    within = started_ago(pay(provider_config.municipality, "17"), hours=5.9)
    beyond = started_ago(pay(provider_config.municipality, "18"), hours=6.1)

    assert reconcile().checked == 2
    state = current_state(payable_type=MATTER, payable_id="17")

    within.refresh_from_db()
    beyond.refresh_from_db()
    assert within.status == PaymentStatus.INITIAL  # the citizen may still pay
    assert state.open_transaction == within
    assert beyond.status == PaymentStatus.ABANDONED


@pytest.mark.django_db
def test_the_final_question_honours_a_capture_and_gives_up_only_what_is_still_open(
    provider_config: ProviderConfig,
    sandbox: Sandbox,
    signals: dict[str, list[Any]],  # noqa: F811
) -> None:
    captured = started_ago(pay(provider_config.municipality, "17"), hours=49)
    still_open = started_ago(pay(provider_config.municipality, "18"), hours=49)
    sandbox.control(
        action="set_status", transactionId=captured.provider_transaction_id, status="PAYED"
    )

    first = current_state(payable_type=MATTER, payable_id="17")
    second = current_state(payable_type=MATTER, payable_id="18")

    assert first.paid and first.paid_transaction == captured
    assert not second.paid and second.open_transaction is None
    assert second.last_attempt is not None
    assert second.last_attempt.status == PaymentStatus.ABANDONED
    assert not AuditEvent.objects.filter(action="payment.abandoned", object_id=str(captured.pk))
    assert still_open.pk == second.last_attempt.pk


@pytest.mark.django_db
def test_a_capture_after_the_matter_was_deleted_is_kept_for_refund_and_audited(
    provider_config: ProviderConfig,
    sandbox: Sandbox,
    signals: dict[str, list[Any]],  # noqa: F811
    admin_user: Any,
    client: Client,
) -> None:
    start = pay(provider_config.municipality)
    started_ago(start, hours=49)
    reconcile()
    close()  # the application expired unpaid
    assert AuditEvent.objects.filter(action="payment.payable_deleted").count() == 1
    sandbox.control(action="set_status", transactionId=provider_id(start), status="PAYED")

    reconcile()

    tx = PaymentTransaction.objects.get(pk=start.transaction.pk)
    assert tx.status == PaymentStatus.PAYED  # the money is not lost
    assert tx.payable_deleted_at is not None and tx.refund_due
    assert "after ABANDONED" in tx.status_detail
    assert not signals["confirmed"]  # nothing to hand over
    event = AuditEvent.objects.get(action="payment.refund_due", object_id=str(tx.pk))
    assert event.after["reason"] == "payable_deleted"
    assert event.after["amount_cents"] == 3060
    assert list(refunds_due()) == [tx]
    assert "Vorgang geloescht: Erstattung faellig" in export_reconciliation_csv(
        timezone.localdate()
    )
    admin = _in_the_admin(client, admin_user)
    listed = admin.get("/admin/payments/paymenttransaction/?refund_outstanding=yes")
    assert tx.request_id in listed.content.decode()

    record_refund(transaction=tx, amount_cents=3060, reason="Antrag verfallen", actor=None)
    assert not refunds_due().exists()
    listed = admin.get("/admin/payments/paymenttransaction/?refund_outstanding=yes")
    assert tx.request_id not in listed.content.decode()


@pytest.mark.django_db
def test_reconciliation_stops_asking_about_an_abandoned_attempt_after_the_recheck_window(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    started_ago(start, hours=49)
    reconcile()  # given up now
    assert reconcile(now=timezone.now() + dt.timedelta(hours=71)).checked == 1  # a late capture?

    later = timezone.now() + dt.timedelta(hours=73)  # PAYMENTS_RECHECK_FINAL_HOURS: 72
    assert reconcile(now=later).checked == 0
    assert current_state(payable_type=MATTER, payable_id="17", now=later).open_transaction is None
    assert PaymentTransaction.objects.get(pk=start.transaction.pk).check_count == 2


@pytest.mark.django_db
def test_a_citizen_who_pays_after_the_limit_gets_a_new_payment_page(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    first = pay(provider_config.municipality)
    started_ago(first, hours=49)

    again = pay(provider_config.municipality)

    assert again.transaction.pk != first.transaction.pk
    assert again.redirect_url and again.redirect_url != first.redirect_url
    assert PaymentTransaction.objects.get(pk=first.transaction.pk).status == "ABANDONED"
    assert len(sandbox.transactions()) == 2


@pytest.mark.django_db
def test_a_citizen_returning_to_an_abandoned_attempt_is_told_a_capture_still_counts(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    started_ago(start, hours=49)
    reconcile()

    outcome = back(request_id=start.transaction.request_id)

    assert outcome.level == "warning"
    assert "automatisch bestätigt" in outcome.message
    assert outcome.transaction.status == PaymentStatus.ABANDONED


@pytest.mark.django_db
def test_a_matter_with_a_payment_open_or_paid_cannot_be_closed(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    with pytest.raises(PayableHasPayment) as refused:
        close()
    assert not refused.value.paid
    sandbox.choose(start.redirect_url, "pay")
    back(request_id=start.transaction.request_id)
    with pytest.raises(PayableHasPayment) as refused:
        close()
    assert refused.value.paid
    assert PaymentTransaction.objects.get().payable_deleted_at is None
    assert not AuditEvent.objects.filter(action="payment.payable_deleted").exists()


@pytest.mark.django_db
def test_a_citizen_returning_from_a_second_payment_is_told_of_the_refund(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    first = pay(provider_config.municipality)
    started_ago(first, hours=49)
    second = pay(provider_config.municipality)  # the first given up: a new page
    sandbox.choose(second.redirect_url, "pay")
    assert back(request_id=second.transaction.request_id).level == "success"
    sandbox.choose(first.redirect_url, "pay")  # the old tab: paid again

    outcome = back(request_id=first.transaction.request_id)

    tx = PaymentTransaction.objects.get(pk=first.transaction.pk)
    assert tx.status == PaymentStatus.PAYED and tx.duplicate
    assert outcome.level == "warning"
    assert outcome.message == (
        "Ihre Zahlung ist eingegangen, dieser Antrag war jedoch bereits bezahlt. Diese zweite "
        "Zahlung wird Ihnen erstattet."
    )
    assert not outcome.matter_deleted  # the application is still there: back to it


@pytest.mark.django_db
def test_the_status_page_of_a_second_payment_shows_its_refund(
    provider_config: ProviderConfig, sandbox: Sandbox, client: Client
) -> None:
    first = pay(provider_config.municipality)
    started_ago(first, hours=49)
    second = pay(provider_config.municipality)
    sandbox.choose(second.redirect_url, "pay")
    back(request_id=second.transaction.request_id)
    sandbox.choose(first.redirect_url, "pay")

    response = client.get(f"/zahlung/{first.transaction.request_id}/rueckkehr/")

    assert response["Location"] == "/antraege/17/"  # the application still exists
    page = client.get(f"/zahlung/{first.transaction.request_id}/").content.decode()
    assert "Als diese Zahlung einging, war der Antrag bereits bezahlt." in page
    assert "Der Betrag von 30,60 € wird Ihnen erstattet." in page
    paid = client.get(f"/zahlung/{second.transaction.request_id}/").content.decode()
    assert "Erstattung" not in paid

    tx = PaymentTransaction.objects.get(pk=first.transaction.pk)
    record_refund(transaction=tx, amount_cents=1000, reason="Doppelzahlung", actor=None)
    page = client.get(f"/zahlung/{first.transaction.request_id}/").content.decode()
    assert "Bisher erstattet: 10,00 €" in page
    record_refund(transaction=tx, amount_cents=2060, reason="Doppelzahlung", actor=None)
    page = client.get(f"/zahlung/{first.transaction.request_id}/").content.decode()
    assert "Der Betrag von 30,60 € wurde Ihnen erstattet." in page
    assert "wird Ihnen erstattet" not in page


@pytest.mark.django_db
def test_a_citizen_returning_to_an_attempt_of_a_deleted_matter_is_not_asked_to_pay_again(
    provider_config: ProviderConfig, sandbox: Sandbox, client: Client
) -> None:
    start = pay(provider_config.municipality)
    started_ago(start, hours=49)
    reconcile()  # given up
    close()  # the application expired unpaid

    response = client.get(f"/zahlung/{start.transaction.request_id}/rueckkehr/")

    # not to the application's address (a 404 now) but to the payment's own page
    assert response["Location"] == f"/zahlung/{start.transaction.request_id}/"
    [message] = list(get_messages(response.wsgi_request))
    assert message.level_tag == "warning"
    assert "kann nicht mehr bezahlt werden" in str(message)
    assert "wird Ihnen der Betrag erstattet" in str(message)
    assert "erneut bezahlen" not in str(message)
    page = client.get(response["Location"]).content.decode()
    assert "Der Antrag, für den diese Zahlung bestimmt war, besteht nicht mehr." in page
    assert "Weiter zur Bezahlung" not in page
