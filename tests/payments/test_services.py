"""Payments at the service level against the sandbox over HTTP: the rules peers get wrong."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone, translation

from rathaus.core.models import AuditEvent, Municipality
from rathaus.payments.models import PaymentStatus, PaymentTransaction, ProviderConfig
from rathaus.payments.providers import PaymentItem
from rathaus.payments.selectors import payable_state
from rathaus.payments.services import (
    PaymentError,
    PaymentStart,
    ReconciliationResult,
    ReturnOutcome,
    handle_return,
    make_purpose,
    reconcile_open_transactions,
    record_refund,
    start_payment,
)
from rathaus.payments.signals import payment_confirmed, payment_duplicate, payment_failed
from rathaus.payments.treasury import export_reconciliation_csv
from tests.payments.conftest import Sandbox

APPLICATION = "applications.application"


@pytest.fixture
def signals() -> Iterator[dict[str, list[dict[str, Any]]]]:
    received: dict[str, list[dict[str, Any]]] = {"confirmed": [], "duplicate": [], "failed": []}

    def receiver(name: str) -> Callable[..., None]:
        def handle(sender: Any, **kwargs: Any) -> None:
            received[name].append(kwargs)

        return handle

    handlers = {
        "confirmed": (payment_confirmed, receiver("confirmed")),
        "duplicate": (payment_duplicate, receiver("duplicate")),
        "failed": (payment_failed, receiver("failed")),
    }
    for signal, handler in handlers.values():
        signal.connect(handler)
    yield received
    for signal, handler in handlers.values():
        signal.disconnect(handler)


_capture: list[Any] = []


@pytest.fixture(autouse=True)
def run_on_commit(django_capture_on_commit_callbacks: Any) -> Iterator[None]:
    """Lets the helpers below run ``transaction.on_commit`` callbacks as a commit would."""
    _capture.append(django_capture_on_commit_callbacks)
    yield
    _capture.clear()


def committed(function: Callable[..., Any], **kwargs: Any) -> Any:
    with _capture[0](execute=True):
        return function(**kwargs)


def back(*, request_id: str) -> ReturnOutcome:
    """The citizen's browser comes back from the payment page."""
    return committed(handle_return, request_id=request_id)  # type: ignore[no-any-return]


def reconcile(**kwargs: Any) -> ReconciliationResult:
    return committed(reconcile_open_transactions, **kwargs)  # type: ignore[no-any-return]


def pay(
    municipality: Municipality, payable_id: str = "17", *, amount_cents: int = 3060
) -> PaymentStart:
    return committed(  # type: ignore[no-any-return]
        start_payment,
        municipality=municipality,
        payable_type=APPLICATION,
        payable_id=payable_id,
        amount_cents=amount_cents,
        items=[PaymentItem("permit", "Bewohnerparkausweis", 1, amount_cents)],
        purpose="Bewohnerparkausweis A-17",
        description="Bewohnerparkausweis Zone A",
        return_url=f"/antraege/{payable_id}/",
        case_reference=f"A-{payable_id}",
    )


def provider_id(start: PaymentStart) -> str:
    return start.transaction.provider_transaction_id


@pytest.mark.django_db
def test_payment_is_created_at_the_provider_and_the_citizen_is_sent_to_its_page(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    tx = start.transaction
    assert start.redirect_url == tx.payment_page_url
    assert start.redirect_url.startswith(f"{sandbox.url}/pay/")
    assert tx.status == PaymentStatus.INITIAL
    assert len(tx.request_id) == 36
    [remote] = sandbox.transactions()
    assert remote["paymentRequest"]["requestId"] == tx.request_id
    assert remote["paymentRequest"]["redirectUrl"].endswith(f"/zahlung/{tx.request_id}/rueckkehr/")
    assert AuditEvent.objects.filter(action="payment.created", object_id=str(tx.pk)).exists()


@pytest.mark.django_db
def test_citizen_pays_returns_and_the_status_is_pulled_once_confirmed(
    provider_config: ProviderConfig, sandbox: Sandbox, signals: dict
) -> None:
    start = pay(provider_config.municipality)
    answer = sandbox.choose(start.redirect_url, "pay")
    assert answer.status_code == 303  # back to the portal, without any status in the URL
    assert "PAYED" not in answer.headers["location"]

    outcome = back(request_id=start.transaction.request_id)

    tx = outcome.transaction
    assert outcome.level == "success"
    assert tx.status == PaymentStatus.PAYED
    assert tx.cash_reference.startswith("SBX-")
    assert tx.paid_at is not None
    assert [s["payable_id"] for s in signals["confirmed"]] == ["17"]
    assert [c.to_status for c in tx.status_changes.all()] == ["INITIAL", "PAYED"]
    assert payable_state(payable_type=APPLICATION, payable_id="17").paid


@pytest.mark.django_db
def test_browser_never_returns_and_reconciliation_confirms_the_payment(
    provider_config: ProviderConfig, sandbox: Sandbox, signals: dict
) -> None:
    start = pay(provider_config.municipality)
    sandbox.choose(start.redirect_url, "pay")  # the citizen closes the tab here

    result = reconcile()

    assert (result.checked, result.changed, result.failed) == (1, 1, 0)
    start.transaction.refresh_from_db()
    assert start.transaction.status == PaymentStatus.PAYED
    assert len(signals["confirmed"]) == 1
    assert reconcile().checked == 0  # final: no longer pulled


@pytest.mark.django_db
def test_payed_reported_twice_confirms_once(
    provider_config: ProviderConfig, sandbox: Sandbox, signals: dict
) -> None:
    start = pay(provider_config.municipality)
    sandbox.control(action="script", transactionId=provider_id(start), statuses=["PAYED", "PAYED"])

    back(request_id=start.transaction.request_id)
    back(request_id=start.transaction.request_id)  # browser reloads the return page

    assert len(signals["confirmed"]) == 1
    assert start.transaction.status_changes.filter(to_status="PAYED").count() == 1


@pytest.mark.django_db
def test_failed_after_payed_does_not_undo_the_payment(
    provider_config: ProviderConfig, sandbox: Sandbox, signals: dict, caplog: Any
) -> None:
    start = pay(provider_config.municipality)
    sandbox.choose(start.redirect_url, "pay")
    back(request_id=start.transaction.request_id)
    sandbox.control(
        action="script", transactionId=provider_id(start), statuses=["FAILED", "INITIAL"]
    )

    with caplog.at_level(logging.WARNING, logger="rathaus.payments"):
        first = back(request_id=start.transaction.request_id)
        second = back(request_id=start.transaction.request_id)

    assert first.transaction.status == second.transaction.status == PaymentStatus.PAYED
    assert signals["failed"] == []
    assert any("out-of-order" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_payed_after_failed_wins_and_the_citizen_is_not_asked_to_pay_again(
    provider_config: ProviderConfig, sandbox: Sandbox, signals: dict
) -> None:
    start = pay(provider_config.municipality)
    sandbox.choose(start.redirect_url, "fail")
    outcome = back(request_id=start.transaction.request_id)
    assert outcome.transaction.status == PaymentStatus.FAILED
    assert outcome.level == "error"
    assert len(signals["failed"]) == 1

    # The provider confirms the money after all (the bug peers had: the late capture was lost).
    sandbox.control(action="set_status", transactionId=provider_id(start), status="PAYED")
    reconcile()

    start.transaction.refresh_from_db()
    assert start.transaction.status == PaymentStatus.PAYED
    assert "after FAILED" in start.transaction.status_detail
    assert len(signals["confirmed"]) == 1
    again = pay(provider_config.municipality)
    assert again.already_paid
    assert again.redirect_url == ""
    assert len(sandbox.transactions()) == 1


@pytest.mark.django_db
def test_citizen_retries_a_failed_payment_with_a_new_transaction(
    provider_config: ProviderConfig, sandbox: Sandbox, signals: dict
) -> None:
    first = pay(provider_config.municipality)
    sandbox.choose(first.redirect_url, "fail")
    back(request_id=first.transaction.request_id)

    second = pay(provider_config.municipality)
    assert second.transaction.pk != first.transaction.pk
    assert second.transaction.request_id != first.transaction.request_id
    sandbox.choose(second.redirect_url, "pay")
    back(request_id=second.transaction.request_id)

    state = payable_state(payable_type=APPLICATION, payable_id="17")
    assert state.paid
    assert state.paid_transaction == second.transaction
    assert len(signals["confirmed"]) == 1


@pytest.mark.django_db
def test_cancelled_payment_can_be_paid_again(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    first = pay(provider_config.municipality)
    sandbox.choose(first.redirect_url, "cancel")
    with translation.override("en"):
        outcome = back(request_id=first.transaction.request_id)
    assert outcome.transaction.status == PaymentStatus.CANCELED
    assert "cancelled" in outcome.message
    assert pay(provider_config.municipality).redirect_url


@pytest.mark.django_db
def test_second_click_reuses_the_open_payment_instead_of_charging_twice(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    first = pay(provider_config.municipality)
    second = pay(provider_config.municipality)
    assert second.transaction.pk == first.transaction.pk
    assert second.redirect_url == first.redirect_url
    assert len(sandbox.transactions()) == 1


@pytest.mark.django_db
def test_late_payment_of_an_abandoned_attempt_is_flagged_as_duplicate_for_refund(
    provider_config: ProviderConfig, sandbox: Sandbox, signals: dict
) -> None:
    first = pay(provider_config.municipality)
    sandbox.choose(first.redirect_url, "fail")
    back(request_id=first.transaction.request_id)
    second = pay(provider_config.municipality)
    sandbox.choose(second.redirect_url, "pay")
    back(request_id=second.transaction.request_id)
    sandbox.control(action="set_status", transactionId=provider_id(first), status="PAYED")

    reconcile()

    first.transaction.refresh_from_db()
    assert first.transaction.status == PaymentStatus.PAYED
    assert first.transaction.duplicate
    assert len(signals["confirmed"]) == 1
    assert len(signals["duplicate"]) == 1
    csv_text = export_reconciliation_csv(timezone.localdate())
    assert "Doppelzahlung: Erstattung faellig" in csv_text


@pytest.mark.django_db
def test_provider_timeout_on_creation_loses_nothing_and_tells_the_citizen(
    provider_config: ProviderConfig, sandbox: Sandbox, caplog: Any
) -> None:
    provider_config.timeout_seconds = 1
    provider_config.save()
    sandbox.control(action="fault", fault="timeout", seconds=1.5, methods=["POST"])

    with (
        translation.override("en"),
        caplog.at_level(logging.WARNING, logger="rathaus.payments"),
        pytest.raises(PaymentError) as error,
    ):
        pay(provider_config.municipality)

    assert "did not respond in time" in error.value.citizen_message
    tx = PaymentTransaction.objects.get()
    assert tx.status == PaymentStatus.FAILED
    assert tx.status_detail.startswith("creation failed: TIMEOUT")
    assert any(getattr(r, "error_code", "") == "TIMEOUT" for r in caplog.records)
    assert pay(provider_config.municipality).redirect_url  # a retry works


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("NO_VALID_ORIGINATOR_OR_ENDPOINT", "not available"),
        ("FORBIDDEN", "not available"),
        ("PAYMENT_EXISTS", "already started"),
        ("VALIDATION_ERROR", "did not accept the fee data"),
        ("CALCULATION_ERROR", "did not accept the fee data"),
        ("BOOKING_DATA_MISSING", "did not accept the fee data"),
    ],
)
def test_provider_error_codes_give_the_citizen_a_clear_message(
    provider_config: ProviderConfig, sandbox: Sandbox, code: str, message: str
) -> None:
    sandbox.control(action="fault", fault="error", errorCode=code, methods=["POST"])
    with translation.override("en"), pytest.raises(PaymentError) as error:
        pay(provider_config.municipality)
    assert message in error.value.citizen_message
    assert error.value.code == code
    assert PaymentTransaction.objects.get().status_detail.startswith(f"creation failed: {code}")


@pytest.mark.django_db
def test_messages_to_the_citizen_are_german_by_default(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    sandbox.control(action="fault", fault="error", errorCode="FORBIDDEN", methods=["POST"])
    with translation.override("de"), pytest.raises(PaymentError) as error:
        pay(provider_config.municipality)
    assert "Es wurde nichts abgebucht" in error.value.citizen_message


@pytest.mark.django_db
def test_municipality_without_provider_gets_a_clear_message(municipality: Municipality) -> None:
    with translation.override("en"), pytest.raises(PaymentError) as error:
        pay(municipality)
    assert "not available" in error.value.citizen_message


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -5, 100_000_000, 2**31])
def test_wrong_amounts_are_refused(provider_config: ProviderConfig, amount: int) -> None:
    with pytest.raises(ValueError):
        start_payment(
            municipality=provider_config.municipality,
            payable_type=APPLICATION,
            payable_id="1",
            amount_cents=amount,
            items=[PaymentItem("x", "x", 1, amount)],
            purpose="x",
        )
    with pytest.raises(ValueError):
        start_payment(
            municipality=provider_config.municipality,
            payable_type=APPLICATION,
            payable_id="1",
            amount_cents=3060,
            items=[PaymentItem("x", "x", 1, 3000)],
            purpose="x",
        )
    assert not PaymentTransaction.objects.exists()


@pytest.mark.django_db
def test_status_with_a_different_amount_is_not_accepted_as_paid(
    provider_config: ProviderConfig, sandbox: Sandbox, signals: dict
) -> None:
    start = pay(provider_config.municipality)
    sandbox.choose(start.redirect_url, "pay")
    sandbox.control(action="fault", fault="wrong_amount", methods=["GET"])

    outcome = back(request_id=start.transaction.request_id)

    assert outcome.transaction.status == PaymentStatus.INITIAL
    assert outcome.level == "warning"
    assert signals["confirmed"] == []
    reconcile()  # the next honest answer confirms it
    assert len(signals["confirmed"]) == 1


@pytest.mark.django_db
def test_provider_down_on_return_asks_not_to_pay_again_and_reconciliation_catches_up(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    sandbox.choose(start.redirect_url, "pay")
    sandbox.control(action="fault", fault="http500", methods=["GET"])

    with translation.override("en"):
        outcome = back(request_id=start.transaction.request_id)

    assert outcome.level == "warning"
    assert "do not pay again" in outcome.message
    result = reconcile()
    assert result.changed == 1


@pytest.mark.django_db
def test_reconciliation_reports_malformed_answers_and_keeps_going(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    first = pay(provider_config.municipality, "1")
    second = pay(provider_config.municipality, "2")
    sandbox.choose(second.redirect_url, "pay")
    sandbox.control(action="fault", fault="malformed", methods=["GET"], count=1)

    result = reconcile()

    assert (result.checked, result.failed, result.changed) == (2, 1, 1)
    assert "INVALID_RESPONSE" in result.errors[0]
    first.transaction.refresh_from_db()
    assert first.transaction.status == PaymentStatus.INITIAL


@pytest.mark.django_db
def test_failed_attempts_are_rechecked_only_for_a_while(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    sandbox.choose(start.redirect_url, "fail")
    back(request_id=start.transaction.request_id)
    assert reconcile().checked == 1
    later = timezone.now() + dt.timedelta(hours=73)
    assert reconcile(now=later).checked == 0


@pytest.mark.django_db
def test_refunds_are_recorded_and_never_exceed_the_payment(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality)
    with pytest.raises(ValueError):
        record_refund(transaction=start.transaction, amount_cents=100, reason="x", actor=None)
    sandbox.choose(start.redirect_url, "pay")
    tx = back(request_id=start.transaction.request_id).transaction

    record_refund(transaction=tx, amount_cents=1000, reason="Antrag zurückgenommen", actor=None)
    with pytest.raises(ValueError):
        record_refund(transaction=tx, amount_cents=2061, reason="zu viel", actor=None)
    with pytest.raises(ValueError):
        record_refund(transaction=tx, amount_cents=0, reason="null", actor=None)

    assert tx.refunded_cents == 1000
    assert AuditEvent.objects.filter(action="payment.refunded").count() == 1


@pytest.mark.django_db
def test_treasury_export_lists_payments_and_refunds_of_the_day(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config.municipality, amount_cents=123456)
    sandbox.choose(start.redirect_url, "pay")
    tx = back(request_id=start.transaction.request_id).transaction
    record_refund(transaction=tx, amount_cents=6, reason="=HYPERLINK(evil)", actor=None)
    pay(provider_config.municipality, "99")  # open: not in the export

    lines = export_reconciliation_csv(timezone.localdate()).splitlines()

    assert lines[0].startswith("Buchungstag;Art;Kassenzeichen;Betrag")
    assert len(lines) == 3
    payment, refund = (line.split(";") for line in lines[1:])
    assert payment[1:4] == ["Zahlung", tx.cash_reference, "1234,56"]
    assert payment[6] == "A-17"
    assert refund[1:4] == ["Erstattung", tx.cash_reference, "-0,06"]
    assert refund[-1] == "'=HYPERLINK(evil)"
    # what the provider sent is neutralised too
    PaymentTransaction.objects.filter(pk=tx.pk).update(
        cash_reference="=1+1", provider_transaction_id="@SUM(A1)"
    )
    payment = export_reconciliation_csv(timezone.localdate()).splitlines()[1].split(";")
    assert payment[2] == "'=1+1" and "'@SUM(A1)" in payment
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert len(export_reconciliation_csv(yesterday).splitlines()) == 1


def test_purpose_is_made_to_fit_the_standard() -> None:
    assert make_purpose("Gebühr: Bewohnerparkausweis Zone Ä/17") == "Gebuehr Bewohnerparkausweis"
    assert len(make_purpose("x" * 40)) == 27
    assert make_purpose("!!!") == "Gebuehr"


@pytest.mark.django_db
def test_a_failing_provider_plugin_closes_the_attempt_and_a_retry_works(
    provider_config: ProviderConfig, caplog: Any
) -> None:
    # A token the HTTP client cannot send (not ASCII) made the plugin raise UnicodeEncodeError:
    # a 500, and the open attempt blocked every later payment of the application.
    provider_config.auth_scheme = ProviderConfig.AuthScheme.BEARER
    provider_config.secret = "geheim€"
    provider_config.save()

    with (
        translation.override("en"),
        caplog.at_level(logging.ERROR, logger="rathaus.payments"),
        pytest.raises(PaymentError) as error,
    ):
        pay(provider_config.municipality)

    assert "not available" in error.value.citizen_message
    tx = PaymentTransaction.objects.get()
    assert tx.status == PaymentStatus.FAILED
    assert tx.status_detail.startswith("creation failed: NOT_CONFIGURED: UnicodeEncodeError")
    assert any(r.getMessage() == "payment provider plugin failed" for r in caplog.records)
    provider_config.auth_scheme = ProviderConfig.AuthScheme.NONE
    provider_config.save()
    assert pay(provider_config.municipality).redirect_url


@pytest.mark.django_db
def test_an_attempt_lost_before_the_provider_answered_is_closed_after_a_while(
    provider_config: ProviderConfig,
) -> None:
    # The process ended between creating the attempt and storing the provider's answer.
    lost = PaymentTransaction.objects.create(
        municipality=provider_config.municipality,
        payable_type=APPLICATION,
        payable_id="17",
        amount_cents=3060,
        purpose="Bewohnerparkausweis A-17",
        provider="xbezahldienste",
    )
    with pytest.raises(PaymentError) as error:
        pay(provider_config.municipality)
    assert error.value.code == "IN_PROGRESS"  # it may still be running

    PaymentTransaction.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=16)
    )
    start = pay(provider_config.municipality)

    assert start.redirect_url and start.transaction.pk != lost.pk
    lost.refresh_from_db()
    assert lost.status == PaymentStatus.FAILED
    assert AuditEvent.objects.filter(action="payment.failed", object_id=str(lost.pk)).exists()


@pytest.mark.django_db
def test_a_failing_provider_plugin_on_return_asks_not_to_pay_again(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    first = pay(provider_config.municipality, "1")
    second = pay(provider_config.municipality, "2")
    provider_config.auth_scheme = ProviderConfig.AuthScheme.BEARER
    provider_config.secret = "geheim€"
    provider_config.save()

    with translation.override("en"):
        outcome = back(request_id=first.transaction.request_id)
    result = reconcile()

    assert outcome.level == "warning" and "do not pay again" in outcome.message
    assert (result.checked, result.failed) == (2, 2)
    assert "NOT_CONFIGURED: UnicodeEncodeError" in result.errors[0]
    second.transaction.refresh_from_db()
    assert second.transaction.last_checked_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["other currency", "no amount", "no payment request"])
def test_paid_without_amount_or_in_another_currency_is_not_accepted(
    provider_config: ProviderConfig,
    sandbox: Sandbox,
    signals: dict,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
) -> None:
    from rathaus.payments import xbezahldienste

    start = pay(provider_config.municipality)
    sandbox.choose(start.redirect_url, "pay")
    honest = xbezahldienste.XBezahldiensteClient._call

    def altered(self: Any, method: str, url: str, **kwargs: Any) -> Any:
        body = honest(self, method, url, **kwargs)
        if method == "GET" and isinstance(body, dict):
            request = dict(body.get("paymentRequest") or {})
            if answer == "other currency":
                body["paymentRequest"] = {**request, "currency": "USD"}
            elif answer == "no amount":
                request.pop("grosAmount", None)
                body["paymentRequest"] = request
            else:
                body.pop("paymentRequest", None)
        return body

    monkeypatch.setattr(xbezahldienste.XBezahldiensteClient, "_call", altered)
    outcome = back(request_id=start.transaction.request_id)
    assert outcome.transaction.status == PaymentStatus.INITIAL
    assert signals["confirmed"] == []
    monkeypatch.undo()
    reconcile()  # the next honest answer confirms it
    assert len(signals["confirmed"]) == 1


@pytest.mark.django_db
def test_a_transaction_id_the_provider_gave_twice_fails_the_attempt_instead_of_a_500(
    provider_config: ProviderConfig, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rathaus.payments import xbezahldienste

    first = pay(provider_config.municipality, payable_id="41")
    honest = xbezahldienste.XBezahldiensteClient.create_transaction

    def reused(self: Any, order: Any) -> Any:
        created = honest(self, order)
        return dataclasses.replace(
            created, transaction_id=first.transaction.provider_transaction_id
        )

    monkeypatch.setattr(xbezahldienste.XBezahldiensteClient, "create_transaction", reused)
    with translation.override("en"), pytest.raises(PaymentError):
        pay(provider_config.municipality, payable_id="42")
    second = PaymentTransaction.objects.get(payable_id="42")
    assert second.status == PaymentStatus.FAILED
    assert "already used by another payment" in second.status_detail
    monkeypatch.undo()
    assert pay(provider_config.municipality, payable_id="42").redirect_url  # a retry works


@pytest.mark.django_db
def test_a_failed_attempt_confirmed_late_is_found_before_a_new_payment_starts(
    provider_config: ProviderConfig, sandbox: Sandbox, signals: dict[str, list[dict[str, Any]]]
) -> None:
    """A provider may still capture a payment it reported as failed (REFERENCE.md): the
    citizen who pays again before the next reconciliation run must not be charged twice."""
    first = pay(provider_config.municipality)
    sandbox.choose(first.redirect_url, "fail")
    assert back(request_id=first.transaction.request_id).transaction.status == PaymentStatus.FAILED
    sandbox.control(action="set_status", transactionId=provider_id(first), status="PAYED")

    again = pay(provider_config.municipality)

    assert again.already_paid
    assert PaymentTransaction.objects.count() == 1
    assert PaymentTransaction.objects.get().status == PaymentStatus.PAYED


@pytest.mark.django_db
def test_a_creation_answered_paid_without_its_amount_is_a_message_not_a_crash(
    municipality: Municipality,
) -> None:
    from rathaus.payments import providers
    from rathaus.payments.providers import ProviderStatus, ProviderTransaction
    from rathaus.payments.services import PaymentError

    class PaidAtOnce:
        key = "paid-at-once"

        def create_transaction(self, order: Any) -> ProviderTransaction:
            return ProviderTransaction(
                transaction_id="T-1",
                status=ProviderStatus.PAYED,
                payment_page_url="https://pay.example/T-1",
            )

        def get_transaction(self, transaction_id: str) -> ProviderTransaction:
            raise AssertionError("not asked")

    providers.register_provider("paid-at-once", lambda config: PaidAtOnce())
    try:
        ProviderConfig.objects.create(
            municipality=municipality,
            provider="paid-at-once",
            base_url="https://pay.example",
            originator_id="o",
            auth_scheme=ProviderConfig.AuthScheme.NONE,
        )
        with pytest.raises(PaymentError):
            pay(municipality)
    finally:
        providers._REGISTRY.pop("paid-at-once", None)
    tx = PaymentTransaction.objects.get()
    assert tx.status == PaymentStatus.INITIAL  # reconciliation asks the provider again


@pytest.mark.django_db
def test_a_cash_reference_the_provider_sends_after_the_confirmation_is_audited(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    """The treasury books by the Kassenzeichen: when it arrives later than "paid", the change
    of the paid transaction is in the audit trail."""
    from rathaus.payments.providers import ProviderStatus, ProviderTransaction
    from rathaus.payments.services import apply_provider_status

    start = pay(provider_config.municipality)
    tx = start.transaction
    paid = ProviderTransaction(
        transaction_id=tx.provider_transaction_id,
        status=ProviderStatus.PAYED,
        amount_cents=tx.amount_cents,
        currency="EUR",
    )
    committed(apply_provider_status, transaction=tx, observed=paid, source="reconciliation")
    tx.refresh_from_db()
    assert tx.status == PaymentStatus.PAYED and tx.cash_reference == ""

    later = dataclasses.replace(paid, reference="KZ-2026-0042")
    committed(apply_provider_status, transaction=tx, observed=later, source="reconciliation")
    tx.refresh_from_db()
    assert tx.cash_reference == "KZ-2026-0042"
    event = AuditEvent.objects.get(action="payment.cash_reference_received")
    assert event.after["cash_reference"] == "KZ-2026-0042"


@pytest.mark.django_db
def test_a_kassenzeichen_sent_after_the_confirmation_reaches_the_treasury(
    municipality: Municipality,
) -> None:
    """docs/modules/payments.md: a Kassenzeichen that arrives only after PAYED is stored then;
    so reconciliation asks about a paid attempt still without one."""
    from rathaus.payments import providers
    from rathaus.payments.providers import ProviderStatus, ProviderTransaction

    class ReferenceLater:
        key, gets = "reference-later", 0

        def create_transaction(self, order: Any) -> ProviderTransaction:
            return ProviderTransaction(
                transaction_id="T-1",
                status=ProviderStatus.INITIAL,
                payment_page_url="https://pay.example/T-1",
            )

        def get_transaction(self, transaction_id: str) -> ProviderTransaction:
            self.gets += 1
            return ProviderTransaction(
                transaction_id="T-1",
                status=ProviderStatus.PAYED,
                amount_cents=3060,
                currency="EUR",
                reference="" if self.gets == 1 else "KZ-2026-0042",
            )

    plugin = ReferenceLater()
    providers.register_provider("reference-later", lambda config: plugin)
    try:
        ProviderConfig.objects.create(
            municipality=municipality,
            provider="reference-later",
            base_url="https://pay.example",
            originator_id="o",
            auth_scheme=ProviderConfig.AuthScheme.NONE,
        )
        pay(municipality)
        reconcile()
        tx = PaymentTransaction.objects.get()
        assert tx.status == PaymentStatus.PAYED and tx.cash_reference == ""
        for _ in range(3):
            reconcile()
    finally:
        providers._REGISTRY.pop("reference-later", None)
    tx.refresh_from_db()
    assert tx.cash_reference == "KZ-2026-0042"
    assert plugin.gets == 2  # once it is there, nobody asks again
    assert "KZ-2026-0042" in export_reconciliation_csv(timezone.localdate())
    event = AuditEvent.objects.get(action="payment.cash_reference_received")
    assert event.after == {"cash_reference": "KZ-2026-0042", "source": "reconciliation"}


class ScriptedProvider:
    """A provider plugin that answers the status queries with ``answers`` in turn (the last one
    again and again), counting them."""

    key = "scripted"

    def __init__(self) -> None:
        self.answers: list[Any] = []
        self.gets = 0

    def create_transaction(self, order: Any) -> Any:
        from rathaus.payments.providers import ProviderStatus, ProviderTransaction

        return ProviderTransaction(
            transaction_id="T-1",
            status=ProviderStatus.INITIAL,
            payment_page_url="https://pay.example/T-1",
        )

    def get_transaction(self, transaction_id: str) -> Any:
        answer = self.answers[min(self.gets, len(self.answers) - 1)]
        self.gets += 1
        return answer


@pytest.fixture
def scripted(municipality: Municipality) -> Iterator[ScriptedProvider]:
    from rathaus.payments import providers

    plugin = ScriptedProvider()
    providers.register_provider("scripted", lambda config: plugin)
    ProviderConfig.objects.create(
        municipality=municipality,
        provider="scripted",
        base_url="https://pay.example",
        originator_id="o",
        auth_scheme=ProviderConfig.AuthScheme.NONE,
    )
    yield plugin
    providers._REGISTRY.pop("scripted", None)


def _answer(status: str, *, amount_cents: int | None = 3060, reference: str = "") -> Any:
    from rathaus.payments.providers import ProviderStatus, ProviderTransaction

    return ProviderTransaction(
        transaction_id="T-1",
        status=ProviderStatus(status),
        amount_cents=amount_cents,
        currency="EUR" if amount_cents is not None else "",
        reference=reference,
    )


@pytest.mark.django_db
def test_a_paid_attempt_without_kassenzeichen_is_asked_about_only_within_the_recheck_window(
    scripted: ScriptedProvider, municipality: Municipality, settings: Any
) -> None:
    """A platform that never sends a Kassenzeichen is not asked about a payment for ever:
    ``PAYMENTS_RECHECK_FINAL_HOURS`` after it was paid, nobody asks again."""
    settings.PAYMENTS_RECHECK_FINAL_HOURS = 72
    scripted.answers = [_answer("PAYED")]
    pay(municipality)
    assert reconcile().changed == 1
    paid_at = PaymentTransaction.objects.get().paid_at
    assert paid_at is not None

    assert reconcile(now=paid_at + dt.timedelta(hours=71)).checked == 1
    assert reconcile(now=paid_at + dt.timedelta(hours=73)).checked == 0
    assert scripted.gets == 2
    tx = PaymentTransaction.objects.get()
    assert (tx.status, tx.cash_reference, tx.check_count) == (PaymentStatus.PAYED, "", 2)


@pytest.mark.django_db
def test_asking_again_about_a_paid_attempt_never_undoes_or_changes_it(
    scripted: ScriptedProvider,
    municipality: Municipality,
    signals: dict[str, list[dict[str, Any]]],
) -> None:
    scripted.answers = [
        _answer("PAYED"),
        _answer("FAILED"),
        _answer("INITIAL"),
        _answer("PAYED", amount_cents=1),
        _answer("PAYED", amount_cents=None),
        _answer("CANCELED"),
        _answer("PAYED", reference="KZ-7"),
    ]
    pay(municipality)
    assert reconcile().changed == 1
    results = [reconcile() for _ in range(6)]

    assert [(r.checked, r.changed, r.failed) for r in results] == [
        (1, 0, 0),  # FAILED: ignored
        (1, 0, 0),  # INITIAL: ignored
        (1, 0, 1),  # another amount: refused
        (1, 0, 1),  # paid without an amount: refused
        (1, 0, 0),  # CANCELED: ignored
        (1, 0, 0),  # paid, now with its Kassenzeichen: kept
    ]
    tx = PaymentTransaction.objects.get()
    assert (tx.status, tx.amount_cents, tx.cash_reference) == (PaymentStatus.PAYED, 3060, "KZ-7")
    assert list(tx.status_changes.values_list("to_status", flat=True)) == ["INITIAL", "PAYED"]
    assert len(signals["confirmed"]) == 1
    assert not signals["failed"] and not signals["duplicate"]
    assert reconcile().checked == 0  # with its Kassenzeichen, it is not asked about again
