"""The XBezahldienste client against the sandbox, over real HTTP: shapes, error codes, timeouts."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from decimal import Decimal

import httpx
import pytest
from django.utils import translation

from rathaus.payments.providers import ErrorCode, PaymentItem, PaymentOrder, ProviderError
from rathaus.payments.xbezahldienste import XBezahldiensteClient, cents_from, validate_order
from tests.payments.conftest import Sandbox


def order(**changes: object) -> PaymentOrder:
    values: dict[str, object] = {
        "request_id": str(uuid.uuid4()),
        "requested_at": dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC),
        "amount_cents": 3560,
        "purpose": "Bewohnerparkausweis 2026",
        "description": "Bewohnerparkausweis Zone A",
        "redirect_url": "http://localhost:8000/zahlung/x/rueckkehr/",
        "items": (
            PaymentItem(id="permit", description="Ausweis", quantity=1, single_cents=3060),
            PaymentItem(id="copies", description="Kopie", quantity=1, single_cents=500),
        ),
    }
    values.update(changes)
    return PaymentOrder(**values)  # type: ignore[arg-type]


def client(sandbox: Sandbox, **changes: object) -> XBezahldiensteClient:
    options: dict[str, object] = {
        "base_url": sandbox.url,
        "originator_id": "orig-1",
        "endpoint_id": "05124000",
        "timeout": 2.0,
    }
    options.update(changes)
    return XBezahldiensteClient(**options)  # type: ignore[arg-type]


def test_created_transaction_has_payment_page_and_is_initial(sandbox: Sandbox) -> None:
    created = client(sandbox).create_transaction(order())
    assert created.status == "INITIAL"
    assert created.payment_page_url.startswith(sandbox.url + "/pay/")
    assert created.amount_cents == 3560
    assert sandbox.transactions()[0]["paymentRequest"]["grosAmount"] == 35.6


def test_status_is_pulled_after_payment_with_cash_reference(sandbox: Sandbox) -> None:
    c = client(sandbox)
    created = c.create_transaction(order())
    answer = sandbox.choose(created.payment_page_url, "pay")
    assert answer.status_code == 303
    assert answer.headers["location"] == "http://localhost:8000/zahlung/x/rueckkehr/"
    pulled = c.get_transaction(created.transaction_id)
    assert pulled.status == "PAYED"
    assert pulled.reference.startswith("SBX-")


def test_basic_credentials_are_sent(sandbox: Sandbox) -> None:
    sandbox.control(
        action="set_originators",
        originators=[
            {"originatorId": "orig-1", "endPointId": "05124000", "username": "u", "password": "p"}
        ],
    )
    assert client(sandbox, auth_scheme="basic", username="u", secret="p").create_transaction(
        order()
    )
    with pytest.raises(ProviderError) as error:
        client(sandbox, auth_scheme="basic", username="u", secret="wrong").create_transaction(
            order()
        )
    assert error.value.code == ErrorCode.FORBIDDEN


def test_unknown_originator_is_reported_with_its_code(sandbox: Sandbox) -> None:
    sandbox.control(
        action="set_originators", originators=[{"originatorId": "other", "endPointId": "1"}]
    )
    with pytest.raises(ProviderError) as error:
        client(sandbox).create_transaction(order())
    assert error.value.code == ErrorCode.NO_VALID_ORIGINATOR_OR_ENDPOINT
    with translation.override("en"):
        assert "Online payment is not available" in error.value.citizen_message
    assert "originator" not in error.value.citizen_message  # internals stay in the log


def test_same_request_id_twice_is_payment_exists(sandbox: Sandbox) -> None:
    first = order()
    client(sandbox).create_transaction(first)
    with pytest.raises(ProviderError) as error:
        client(sandbox).create_transaction(first)
    assert error.value.code == ErrorCode.PAYMENT_EXISTS
    assert len(sandbox.transactions()) == 1


def test_unknown_transaction_id_is_not_found(sandbox: Sandbox) -> None:
    with pytest.raises(ProviderError) as error:
        client(sandbox).get_transaction("does-not-exist")
    assert error.value.code == ErrorCode.NOT_FOUND


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"fault": "malformed"}, ErrorCode.INVALID_RESPONSE),
        ({"fault": "http500"}, ErrorCode.PROVIDER_ERROR),
        ({"fault": "wrong_amount"}, ErrorCode.INVALID_RESPONSE),
        ({"fault": "error", "errorCode": "VALIDATION_ERROR"}, ErrorCode.VALIDATION_ERROR),
        ({"fault": "error", "errorCode": "CALCULATION_ERROR"}, ErrorCode.CALCULATION_ERROR),
        ({"fault": "error", "errorCode": "BOOKING_DATA_MISSING"}, ErrorCode.BOOKING_DATA_MISSING),
    ],
)
def test_bad_answers_become_provider_errors_and_are_logged(
    sandbox: Sandbox, fault: dict, code: ErrorCode, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.control(action="fault", methods=["POST"], **fault)
    with (
        caplog.at_level(logging.WARNING, logger="rathaus.payments"),
        pytest.raises(ProviderError) as error,
    ):
        client(sandbox).create_transaction(order())
    assert error.value.code == code
    logged = [r for r in caplog.records if r.getMessage() == "payment provider call failed"]
    assert logged and logged[0].error_code == str(code)  # type: ignore[attr-defined]


def test_wrong_transaction_in_status_answer_is_rejected(sandbox: Sandbox) -> None:
    c = client(sandbox)
    created = c.create_transaction(order())
    sandbox.control(action="fault", fault="wrong_id", methods=["GET"])
    with pytest.raises(ProviderError) as error:
        c.get_transaction(created.transaction_id)
    assert error.value.code == ErrorCode.INVALID_RESPONSE


def test_provider_that_does_not_answer_in_time_is_a_timeout(sandbox: Sandbox) -> None:
    sandbox.control(action="fault", fault="timeout", seconds=1.0, methods=["POST"])
    with pytest.raises(ProviderError) as error:
        client(sandbox, timeout=0.3).create_transaction(order())
    assert error.value.code == ErrorCode.TIMEOUT
    assert error.value.transient


def test_unreachable_provider_is_reported() -> None:
    c = XBezahldiensteClient(
        base_url="http://127.0.0.1:9", originator_id="o", endpoint_id="e", timeout=1
    )
    with pytest.raises(ProviderError) as error:
        c.get_transaction("x")
    assert error.value.code in {ErrorCode.UNREACHABLE, ErrorCode.TIMEOUT}


@pytest.mark.parametrize(
    "changes",
    [
        {"purpose": "Gebühr für Parkausweis"},
        {"purpose": "x" * 28},
        {"amount_cents": 3561},
        {"request_id": "x" * 37},
        {"description": "x" * 251},
        {"items": ()},
    ],
)
def test_orders_that_break_the_standard_are_refused_before_sending(changes: dict) -> None:
    with pytest.raises(ValueError):
        validate_order(order(**changes))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"grosAmount": 99.99}, "CALCULATION_ERROR"),
        ({"purpose": "Gebühr"}, "VALIDATION_ERROR"),
        ({"currency": "USD"}, "VALIDATION_ERROR"),
        ({"items": []}, "VALIDATION_ERROR"),
        ({"requestId": "x" * 37}, "VALIDATION_ERROR"),
        ({"description": "x" * 251}, "VALIDATION_ERROR"),
    ],
)
def test_sandbox_validates_requests_like_the_standard(
    sandbox: Sandbox, change: dict, code: str
) -> None:
    body = {
        "requestId": str(uuid.uuid4()),
        "requestTimestamp": "2026-11-22T10:00:00Z",
        "currency": "EUR",
        "grosAmount": 30.6,
        "purpose": "Parkausweis",
        "description": "",
        "redirectUrl": "http://localhost:8000/",
        "items": [{"quantity": 1, "singleNetAmount": 30.6, "totalNetAmount": 30.6}],
        **change,
    }
    response = sandbox.http.post(f"{sandbox.url}/paymenttransaction/o/e", json=body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == code


def test_sandbox_payment_page_is_plain_accessible_html(sandbox: Sandbox) -> None:
    created = client(sandbox).create_transaction(order())
    page = sandbox.http.get(created.payment_page_url)
    assert "<html lang='de'>" in page.text
    assert "<script" not in page.text and "style=" not in page.text
    assert "<h1" in page.text and "<main" in page.text
    assert sandbox.http.get(f"{sandbox.url}/static/kern.min.css").status_code == 200


def test_sandbox_page_without_a_choice_explains_and_changes_nothing(sandbox: Sandbox) -> None:
    created = client(sandbox).create_transaction(order())
    answer = sandbox.http.post(created.payment_page_url, data={"choice": "steal"})
    assert answer.status_code == 400
    assert "Bitte wählen Sie" in answer.text
    assert sandbox.transactions()[0]["paymentInformation"]["status"] == "INITIAL"


@pytest.mark.parametrize(
    "amount",
    [
        "1e999999999",  # overflows the decimal context: was an uncaught decimal.Overflow
        "1e-999999999",  # underflows to 0 in the decimal context: was read as 0 cents
        "12345678901234567890123456.785",  # rounded to whole cents by 28-digit precision
        "35.605",
        "-1",
        "1e15",
    ],
)
def test_amounts_in_answers_are_read_exactly_or_refused(amount: str) -> None:
    body = (
        '{"paymentInformation": {"transactionId": "t-1", "status": "PAYED"}, '
        f'"paymentRequest": {{"grosAmount": {amount}}}}}'
    ).encode()
    c = XBezahldiensteClient(
        base_url="http://provider.invalid",
        originator_id="o",
        endpoint_id="e",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)),
    )
    with pytest.raises(ProviderError) as error:
        c.get_transaction("t-1")
    assert error.value.code == ErrorCode.INVALID_RESPONSE


@pytest.mark.parametrize(
    ("amount", "cents"), [("35.6", 3560), ("35.60", 3560), ("3560", 356000), ("1e2", 10000)]
)
def test_amounts_in_answers_become_whole_cents(amount: str, cents: int) -> None:
    assert cents_from(json.loads(amount, parse_float=Decimal), "grosAmount") == cents


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), float("-inf")])
def test_the_sandbox_refuses_an_amount_that_is_not_a_number(amount: float) -> None:
    """json.loads accepts NaN and Infinity: a validation error, not a crash of the sandbox."""
    from rathaus.payments.sandbox.server import ApiError, _amount

    with pytest.raises(ApiError) as refused:
        _amount(amount, "grosAmount")
    assert (refused.value.status, refused.value.code) == (400, "VALIDATION_ERROR")
