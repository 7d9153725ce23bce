"""The data export (Art. 15, 20 GDPR) holds the payments the citizen started: amount, purpose,
Kassenzeichen, the provider's transaction id, the payment method, the times, the status history
and the refunds; nobody else's payments and not who booked a refund."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.services import export_personal_data
from rathaus.core.models import Municipality
from rathaus.payments.models import (
    PaymentStatus,
    PaymentStatusChange,
    PaymentTransaction,
)
from rathaus.payments.services import record_refund
from tests.accounts.factories import ProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _paid(
    municipality: Municipality, user: User, *, payable_id: str, cash_reference: str
) -> PaymentTransaction:
    tx = PaymentTransaction.objects.create(
        municipality=municipality,
        payable_type="applications.application",
        payable_id=payable_id,
        case_reference=f"A-2026-{payable_id}",
        amount_cents=3050,
        purpose="Bewohnerparkausweis",
        description="Bewohnerparkausweis Zone B",
        status=PaymentStatus.PAYED,
        paid_at=timezone.now(),
        provider="sandbox",
        provider_transaction_id=f"TX-{payable_id}",
        cash_reference=cash_reference,
        payment_method="giropay",
        created_by=user,
    )
    PaymentStatusChange.objects.create(
        transaction=tx,
        from_status=PaymentStatus.INITIAL,
        to_status=PaymentStatus.PAYED,
        source=PaymentStatusChange.Source.RETURN,
    )
    return tx


def test_export_holds_the_citizens_payments_with_their_refunds(
    municipality: Municipality,
) -> None:
    citizen = ProfileFactory(family_name="Zahlerin").user
    other = ProfileFactory(family_name="Andere").user
    cashier = StaffFactory()
    mine = _paid(municipality, citizen, payable_id="7", cash_reference="KZ-2026-0815")
    _paid(municipality, other, payable_id="8", cash_reference="KZ-2026-0999")
    record_refund(
        transaction=mine,
        amount_cents=1000,
        reason="Gebühr ermäßigt",
        reference="ERST-4711",
        actor=cashier,
    )

    document = export_personal_data(user=citizen)

    [payment] = document["payments"]
    assert {
        key: payment[key]
        for key in (
            "amount_cents",
            "currency",
            "purpose",
            "case_reference",
            "cash_reference",
            "provider_transaction_id",
            "payment_method",
            "status",
        )
    } == {
        "amount_cents": 3050,
        "currency": "EUR",
        "purpose": "Bewohnerparkausweis",
        "case_reference": "A-2026-7",
        "cash_reference": "KZ-2026-0815",
        "provider_transaction_id": "TX-7",
        "payment_method": "giropay",
        "status": "PAYED",
    }
    assert payment["paid_at"] == mine.paid_at
    assert [(c["from"], c["to"]) for c in payment["status_history"]] == [("INITIAL", "PAYED")]
    [refund] = payment["refunds"]
    assert (refund["amount_cents"], refund["reference"]) == (1000, "ERST-4711")
    text = json.dumps(document, cls=DjangoJSONEncoder)
    assert "KZ-2026-0999" not in text  # another citizen's payment
    assert cashier.email not in text  # who booked the refund is the authority's
