"""The audit trail of a payment's status change records the state before it, as it was."""

from __future__ import annotations

import pytest

from rathaus.core.models import AuditEvent
from rathaus.payments.models import PaymentStatus, ProviderConfig
from tests.payments.conftest import Sandbox
from tests.payments.test_services import back, pay, provider_id, run_on_commit  # noqa: F401


@pytest.mark.django_db
def test_the_state_before_a_confirmation_has_no_kassenzeichen_yet(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    sandbox.control(action="set_status", transactionId=provider_id(start), status="PAYED")

    back(request_id=start.transaction.request_id)

    event = AuditEvent.objects.get(action="payment.payed", object_id=str(start.transaction.pk))
    assert event.before["status"] == PaymentStatus.INITIAL
    assert (event.before["cash_reference"], event.before["payment_method"]) == ("", "")
    assert event.before["paid_at"] is None
    assert event.after["cash_reference"].startswith("SBX-")
    assert event.after["payment_method"] == "CREDITCARD"
    assert event.after["paid_at"] is not None


@pytest.mark.django_db
def test_the_state_before_a_second_payment_is_not_yet_a_duplicate(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    first = pay(provider_config.municipality)
    sandbox.control(action="set_status", transactionId=provider_id(first), status="FAILED")
    back(request_id=first.transaction.request_id)
    second = pay(provider_config.municipality)
    sandbox.control(action="set_status", transactionId=provider_id(second), status="PAYED")
    back(request_id=second.transaction.request_id)
    # the "failed" first attempt is captured late: a duplicate
    sandbox.control(action="set_status", transactionId=provider_id(first), status="PAYED")

    back(request_id=first.transaction.request_id)

    event = AuditEvent.objects.get(action="payment.payed", object_id=str(first.transaction.pk))
    assert (event.before["status"], event.before["duplicate"]) == (PaymentStatus.FAILED, False)
    assert (event.after["status"], event.after["duplicate"]) == (PaymentStatus.PAYED, True)
