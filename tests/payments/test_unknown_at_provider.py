"""An attempt no provider will ever report on again (the platform purged it or restarted, or the
municipality's provider was deleted or disabled) is given up like one the provider keeps open:
after ``PAYMENTS_ATTEMPT_ABANDON_HOURS``, so that its matter can be paid again, withdrawn or
expire. A younger one stays open (a platform may lag), and a capture reported later still counts.
"""

from __future__ import annotations

from typing import Any

import pytest

from rathaus.core.models import AuditEvent
from rathaus.payments.models import PaymentStatus, PaymentTransaction, ProviderConfig
from rathaus.payments.services import PayableHasPayment, current_state
from tests.payments.conftest import Sandbox
from tests.payments.test_abandoned_attempts import MATTER, close, pay, started_ago
from tests.payments.test_services import (  # noqa: F401
    back,
    provider_id,
    reconcile,
    run_on_commit,
    signals,
)

A_MONTH = 24 * 30


@pytest.mark.django_db
def test_an_attempt_the_provider_no_longer_knows_is_given_up_after_the_limit(
    provider_config: ProviderConfig,
    sandbox: Sandbox,
    signals: dict[str, list[Any]],  # noqa: F811
) -> None:
    start = pay(provider_config.municipality)
    started_ago(start, hours=A_MONTH)
    sandbox.control(action="reset")  # the platform purged its unpaid transactions

    result = reconcile()

    tx = PaymentTransaction.objects.get(pk=start.transaction.pk)
    assert tx.status == PaymentStatus.ABANDONED
    assert (result.checked, result.changed, result.abandoned, result.failed) == (1, 1, 1, 0)
    [change] = tx.status_changes.filter(to_status=PaymentStatus.ABANDONED)
    assert change.from_status == PaymentStatus.INITIAL
    assert change.detail.startswith("unknown at the provider (NOT_FOUND) 48 hours after")
    event = AuditEvent.objects.get(action="payment.abandoned", object_id=str(tx.pk))
    assert (event.before["status"], event.after["status"]) == ("INITIAL", "ABANDONED")
    assert len(signals["failed"]) == 1
    assert current_state(payable_type=MATTER, payable_id="17").open_transaction is None


@pytest.mark.django_db
def test_the_citizen_gets_a_new_payment_page_instead_of_the_dead_one(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    first = pay(provider_config.municipality)
    started_ago(first, hours=A_MONTH)
    sandbox.control(action="reset")

    again = pay(provider_config.municipality)

    assert again.transaction.pk != first.transaction.pk
    assert again.redirect_url and again.redirect_url != first.redirect_url
    first.transaction.refresh_from_db()
    assert first.transaction.status == PaymentStatus.ABANDONED
    assert [t["paymentInformation"]["transactionId"] for t in sandbox.transactions()] == [
        provider_id(again)
    ]


@pytest.mark.django_db
def test_the_matter_of_an_attempt_the_provider_forgot_can_be_withdrawn_or_expire(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    started_ago(start, hours=A_MONTH)
    sandbox.control(action="reset")

    # what applications.discard_unpaid does: current_state, then close_payable
    assert current_state(payable_type=MATTER, payable_id="17").open_transaction is None
    close()

    tx = PaymentTransaction.objects.get(pk=start.transaction.pk)
    assert tx.payable_deleted_at is not None


@pytest.mark.django_db
def test_a_young_attempt_the_provider_does_not_know_stays_open(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    started_ago(start, hours=47)  # within the limit: the platform may lag behind
    sandbox.control(action="reset")

    result = reconcile()

    assert (result.checked, result.failed, result.abandoned) == (1, 1, 0)
    assert "NOT_FOUND" in result.errors[0]
    state = current_state(payable_type=MATTER, payable_id="17")
    assert state.open_transaction is not None and state.open_transaction.pk == start.transaction.pk
    with pytest.raises(PayableHasPayment):
        close()


@pytest.mark.django_db
def test_a_capture_reported_after_the_provider_knows_the_attempt_again_still_counts(
    provider_config: ProviderConfig,
    sandbox: Sandbox,
    signals: dict[str, list[Any]],  # noqa: F811
) -> None:
    start = pay(provider_config.municipality)
    started_ago(start, hours=A_MONTH)
    provider_config.originator_id = "neue-kennung"  # a wrong setting: every status is a 404
    provider_config.save()
    reconcile()
    assert PaymentTransaction.objects.get(pk=start.transaction.pk).status == "ABANDONED"

    # unknown, the given-up attempt is asked about again, without counting as a failure
    assert (reconcile().checked, reconcile().failed) == (1, 0)

    provider_config.originator_id = "rathaus-wuppertal"  # put right within the recheck window
    provider_config.save()
    sandbox.control(action="set_status", transactionId=provider_id(start), status="PAYED")
    reconcile()

    tx = PaymentTransaction.objects.get(pk=start.transaction.pk)
    assert tx.status == PaymentStatus.PAYED
    assert "after ABANDONED" in tx.status_detail
    assert len(signals["confirmed"]) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["deleted", "disabled"])
def test_an_attempt_whose_provider_was_removed_is_given_up_after_the_limit(
    provider_config: ProviderConfig, sandbox: Sandbox, change: str
) -> None:
    old = started_ago(pay(provider_config.municipality, "17"), hours=49)
    young = started_ago(pay(provider_config.municipality, "18"), hours=1)
    if change == "deleted":
        provider_config.delete()
    else:
        provider_config.enabled = False
        provider_config.save()

    result = reconcile()

    old.refresh_from_db()
    young.refresh_from_db()
    assert old.status == PaymentStatus.ABANDONED
    assert old.status_detail.startswith("no payment provider configured or enabled 48 hours")
    assert young.status == PaymentStatus.INITIAL  # may be switched on again
    assert (result.abandoned, result.failed) == (1, 1)
    close("17")  # its matter can go


@pytest.mark.django_db
def test_a_provider_plugin_failing_on_an_old_attempt_gives_nothing_up(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    """A plugin's bug is reported as NOT_CONFIGURED too, but its provider is still there."""
    start = pay(provider_config.municipality)
    started_ago(start, hours=A_MONTH)
    provider_config.auth_scheme = ProviderConfig.AuthScheme.BEARER
    provider_config.secret = "geheim€"  # the HTTP client cannot send it
    provider_config.save()

    result = reconcile()

    assert (result.failed, result.abandoned) == (1, 0)
    assert PaymentTransaction.objects.get(pk=start.transaction.pk).status == "INITIAL"
