"""The payments' part of the data export (Art. 15, 20 GDPR): the payments an account started,
with their status history and refunds.

Who booked a refund (staff) is left out; the citizen's own payment data are all there: amount,
purpose, Kassenzeichen, the provider's transaction id, the payment method and the times.
"""

from __future__ import annotations

from typing import Any

from rathaus.payments.models import PaymentTransaction


def personal_data_export(user: Any) -> list[dict[str, Any]]:
    transactions = (
        PaymentTransaction.objects.filter(created_by_id=user.pk)
        .select_related("municipality")
        .prefetch_related("status_changes", "refunds")
        .order_by("created_at", "pk")
    )
    return [
        {
            "request_id": tx.request_id,
            "municipality": tx.municipality.name,
            "payable_type": tx.payable_type,
            "payable_id": tx.payable_id,
            "case_reference": tx.case_reference,
            "amount_cents": tx.amount_cents,
            "currency": tx.currency,
            "purpose": tx.purpose,
            "description": tx.description,
            "items": tx.items,
            "status": tx.status,
            "status_detail": tx.status_detail,
            "provider": tx.provider,
            "provider_transaction_id": tx.provider_transaction_id,
            "cash_reference": tx.cash_reference,
            "payment_method": tx.payment_method,
            "duplicate": tx.duplicate,
            "payable_deleted_at": tx.payable_deleted_at,
            "created_at": tx.created_at,
            "status_changed_at": tx.status_changed_at,
            "paid_at": tx.paid_at,
            "status_history": [
                {
                    "at": change.at,
                    "from": change.from_status,
                    "to": change.to_status,
                    "source": change.source,
                    "detail": change.detail,
                }
                for change in tx.status_changes.all()
            ],
            "refunds": [
                {
                    "amount_cents": refund.amount_cents,
                    "reason": refund.reason,
                    "reference": refund.reference,
                    "refunded_at": refund.refunded_at,
                }
                for refund in tx.refunds.all()
            ],
        }
        for tx in transactions
    ]
