"""The return and the reconciliation updating one payment at once confirm it exactly once.

Runs on PostgreSQL (row locks); SQLite serialises writers anyway and is skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from rathaus.payments.models import PaymentStatus, PaymentTransaction, ProviderConfig
from rathaus.payments.providers import PaymentItem
from rathaus.payments.services import handle_return, reconcile_open_transactions, start_payment
from rathaus.payments.signals import payment_confirmed
from tests.payments.conftest import Sandbox


def _race(
    barrier: threading.Barrier,
    errors: list[BaseException],
    action: Callable[..., Any],
    kwargs: dict[str, Any],
) -> None:
    """Start ``action`` together with the other thread; collect failures for the test."""
    try:
        barrier.wait(timeout=10)
        action(**kwargs)
    except BaseException as exc:
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_return_and_reconciliation_racing_on_payed_confirm_exactly_once(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL (scripts/with-postgres)")
    confirmations: list[Any] = []

    def on_confirmed(sender: Any, **kwargs: Any) -> None:
        confirmations.append(kwargs["transaction"].pk)

    payment_confirmed.connect(on_confirmed)
    try:
        for round_number in range(5):
            start = start_payment(
                municipality=provider_config.municipality,
                payable_type="applications.application",
                payable_id=str(round_number),
                amount_cents=3060,
                items=[PaymentItem("permit", "Bewohnerparkausweis", 1, 3060)],
                purpose="Bewohnerparkausweis",
            )
            sandbox.choose(start.redirect_url, "pay")
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []
            threads = [
                threading.Thread(
                    target=_race,
                    args=(
                        barrier,
                        errors,
                        handle_return,
                        {"request_id": start.transaction.request_id},
                    ),
                ),
                threading.Thread(
                    target=_race, args=(barrier, errors, reconcile_open_transactions, {})
                ),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert errors == []
            tx = PaymentTransaction.objects.get(pk=start.transaction.pk)
            assert tx.status == PaymentStatus.PAYED
            assert tx.status_changes.filter(to_status=PaymentStatus.PAYED).count() == 1
        assert sorted(confirmations) == sorted(
            PaymentTransaction.objects.values_list("pk", flat=True)
        )
    finally:
        payment_confirmed.disconnect(on_confirmed)
