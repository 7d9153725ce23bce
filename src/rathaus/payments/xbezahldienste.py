"""Client for the FITKO XBezahldienste REST interface (ePayBL, pmPayment and others).

``POST {base}/paymenttransaction/{originatorId}/{endPointId}`` creates a payment transaction and
returns the payment page URL; ``GET {base}/paymenttransaction/{originatorId}/{endPointId}/{id}``
pulls its status. Every answer is validated strictly: a wrong shape is a
:class:`ProviderError` with ``INVALID_RESPONSE`` and a reason for the log, never a crash.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import ssl
import time
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from rathaus.payments.models import ProviderConfig
from rathaus.payments.providers import (
    ErrorCode,
    PaymentOrder,
    ProviderError,
    ProviderStatus,
    ProviderTransaction,
    register_provider,
)

logger = logging.getLogger("rathaus.payments")

# XBezahldienste field rules (REFERENCE.md). \w as in the standard's (ASCII) regex flavour.
PURPOSE_PATTERN = re.compile(r"^[\w\d\s-]+$", re.ASCII)
MAX_REQUEST_ID = 36
MAX_PURPOSE = 27
MAX_DESCRIPTION = 250
MAX_ITEMS = 99
# Amounts in answers: at most 15 digits of euros (far beyond any fee), to whole cents.
MAX_EURO_DIGITS = 15
CENT = Decimal("0.01")
STANDARD_ERROR_CODES = {
    ErrorCode.NO_VALID_ORIGINATOR_OR_ENDPOINT,
    ErrorCode.PAYMENT_EXISTS,
    ErrorCode.CALCULATION_ERROR,
    ErrorCode.BOOKING_DATA_MISSING,
    ErrorCode.VALIDATION_ERROR,
    ErrorCode.FORBIDDEN,
}


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Loading the CA store costs ~100 ms; do it once per process, not per call."""
    return ssl.create_default_context()


def euros(cents: int) -> float:
    """Cents as the JSON number the standard expects; exact for every two-decimal amount."""
    return float(Decimal(cents) / 100)


def cents_from(value: Any, where: str) -> int:
    """A JSON amount (parsed as Decimal) as integer cents; reject fractions of a cent.

    Exact for any input: the magnitude is bounded before any arithmetic, so neither the
    context's precision (28 digits, which would round ``…9.995`` to whole cents) nor its
    exponent range (``1e999999999`` overflows) decides the result.
    """
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ProviderError(ErrorCode.INVALID_RESPONSE, f"{where} is not a number: {value!r}")
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0 or amount.adjusted() >= MAX_EURO_DIGITS:
        raise ProviderError(
            ErrorCode.INVALID_RESPONSE, f"{where} is not an amount: {str(value)[:40]}"
        )
    try:
        whole_cents = amount.quantize(CENT)
    except InvalidOperation as exc:
        raise ProviderError(ErrorCode.INVALID_RESPONSE, f"{where} is not a number") from exc
    if whole_cents != amount:
        raise ProviderError(
            ErrorCode.INVALID_RESPONSE, f"{where} is not an amount: {str(value)[:40]}"
        )
    return int(whole_cents.scaleb(2))


def validate_order(order: PaymentOrder) -> None:
    """Check an order against the standard before sending it; ``ValueError`` names the field."""
    if not 0 < len(order.request_id) <= MAX_REQUEST_ID:
        raise ValueError("requestId must have 1 to 36 characters")
    if len(order.purpose) > MAX_PURPOSE or not PURPOSE_PATTERN.match(order.purpose):
        raise ValueError("purpose must have at most 27 letters, digits, spaces or hyphens")
    if len(order.description) > MAX_DESCRIPTION:
        raise ValueError("description must have at most 250 characters")
    if not 1 <= len(order.items) <= MAX_ITEMS:
        raise ValueError("a payment needs 1 to 99 items")
    if any(item.quantity < 1 or item.single_cents < 0 for item in order.items):
        raise ValueError("items need a positive quantity and a non-negative amount")
    if sum(item.total_cents for item in order.items) != order.amount_cents:
        raise ValueError("grosAmount must equal the sum of the items")
    if order.amount_cents <= 0:
        raise ValueError("the amount must be positive")


def order_payload(order: PaymentOrder) -> dict[str, Any]:
    requestor: dict[str, Any] = {}
    if order.requestor_id:
        requestor["id"] = order.requestor_id
    if order.requestor_name:
        requestor["name"] = order.requestor_name
    if order.requestor_email:
        requestor["email"] = order.requestor_email
    payload: dict[str, Any] = {
        "requestId": order.request_id,
        "requestTimestamp": order.requested_at.isoformat(timespec="seconds"),
        "currency": "EUR",
        "grosAmount": euros(order.amount_cents),
        "purpose": order.purpose,
        "description": order.description,
        "redirectUrl": order.redirect_url,
        "items": [
            {
                "id": item.id,
                "reference": item.reference,
                "description": item.description,
                "quantity": item.quantity,
                "taxRate": 0,
                "singleNetAmount": euros(item.single_cents),
                "singleTaxAmount": 0,
                "totalNetAmount": euros(item.total_cents),
                "totalTaxAmount": 0,
            }
            for item in order.items
        ],
    }
    if requestor:
        payload["requestor"] = requestor
    return payload


def _text(data: dict[str, Any], key: str, where: str, *, required: bool, limit: int = 2000) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise ProviderError(ErrorCode.INVALID_RESPONSE, f"{where}.{key} is missing")
        return ""
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise ProviderError(ErrorCode.INVALID_RESPONSE, f"{where}.{key} is not a valid text")
    return value


def parse_transaction(body: Any, *, need_page: bool) -> ProviderTransaction:
    """Validate a PaymentTransaction document (``paymentInformation`` + ``paymentRequest``)."""
    if not isinstance(body, dict):
        raise ProviderError(ErrorCode.INVALID_RESPONSE, "answer is not a JSON object")
    info = body.get("paymentInformation")
    if not isinstance(info, dict):
        raise ProviderError(ErrorCode.INVALID_RESPONSE, "paymentInformation is missing")
    where = "paymentInformation"
    transaction_id = _text(info, "transactionId", where, required=True, limit=128)
    raw_status = info.get("status")
    try:
        status = ProviderStatus(str(raw_status))
    except ValueError:
        raise ProviderError(
            ErrorCode.INVALID_RESPONSE, f"{where}.status {raw_status!r} is not a known state"
        ) from None
    page = _text(info, "transactionUrl", where, required=need_page)
    if page and urlsplit(page).scheme not in {"http", "https"}:
        raise ProviderError(ErrorCode.INVALID_RESPONSE, f"{where}.transactionUrl is not a URL")
    request = body.get("paymentRequest")
    request_id, amount, currency = "", None, ""
    if request is not None:
        if not isinstance(request, dict):
            raise ProviderError(ErrorCode.INVALID_RESPONSE, "paymentRequest is not an object")
        request_id = _text(request, "requestId", "paymentRequest", required=False, limit=36)
        if "grosAmount" in request:
            amount = cents_from(request["grosAmount"], "paymentRequest.grosAmount")
        currency = _text(request, "currency", "paymentRequest", required=False, limit=3)
        if currency and currency != "EUR":
            # XBezahldienste pays in euros only; any other currency is not this payment
            raise ProviderError(
                ErrorCode.INVALID_RESPONSE, f"paymentRequest.currency {currency!r} is not EUR"
            )
    return ProviderTransaction(
        transaction_id=transaction_id,
        status=status,
        payment_page_url=page,
        reference=_text(info, "transactionReference", where, required=False, limit=64),
        status_detail=_text(info, "statusDetail", where, required=False, limit=250),
        payment_method=_text(info, "paymentMethod", where, required=False, limit=32),
        request_id=request_id,
        amount_cents=amount,
        currency=currency,
        raw=body,
    )


class XBezahldiensteClient:
    """One municipality's connection to an XBezahldienste platform."""

    key = "xbezahldienste"

    def __init__(
        self,
        *,
        base_url: str,
        originator_id: str,
        endpoint_id: str,
        auth_scheme: str = "none",
        username: str = "",
        secret: str = "",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.originator_id = originator_id
        self.endpoint_id = endpoint_id
        headers = {"Accept": "application/json"}
        auth: httpx.Auth | None = None
        if auth_scheme == "basic":
            auth = httpx.BasicAuth(username, secret)
        elif auth_scheme == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        self._client_options: dict[str, Any] = {
            "headers": headers,
            "auth": auth,
            "timeout": httpx.Timeout(timeout),
            "transport": transport,
            "follow_redirects": False,
            "verify": _tls_context(),
        }

    @classmethod
    def from_config(cls, config: ProviderConfig) -> XBezahldiensteClient:
        return cls(
            base_url=config.base_url,
            originator_id=config.originator_id,
            endpoint_id=config.effective_endpoint_id,
            auth_scheme=config.auth_scheme,
            username=config.username,
            secret=config.secret,
            timeout=float(config.timeout_seconds),
        )

    def _collection_url(self) -> str:
        return (
            f"{self.base_url}/paymenttransaction/"
            f"{quote(self.originator_id, safe='')}/{quote(self.endpoint_id, safe='')}"
        )

    def create_transaction(self, order: PaymentOrder) -> ProviderTransaction:
        validate_order(order)
        body = json.dumps(order_payload(order), ensure_ascii=False).encode()
        answer = self._call(
            "POST",
            self._collection_url(),
            content=body,
            log={"request_id": order.request_id, "amount_cents": order.amount_cents},
        )
        with self._logged({"request_id": order.request_id, "method": "POST"}):
            result = parse_transaction(answer, need_page=True)
            if result.request_id and result.request_id != order.request_id:
                raise ProviderError(
                    ErrorCode.INVALID_RESPONSE,
                    f"answer belongs to requestId {result.request_id}, not {order.request_id}",
                )
            if result.amount_cents is not None and result.amount_cents != order.amount_cents:
                raise ProviderError(
                    ErrorCode.INVALID_RESPONSE,
                    f"provider confirmed {result.amount_cents} cents, we asked for "
                    f"{order.amount_cents}",
                )
        return result

    def get_transaction(self, transaction_id: str) -> ProviderTransaction:
        url = f"{self._collection_url()}/{quote(transaction_id, safe='')}"
        answer = self._call("GET", url, log={"transaction_id": transaction_id})
        with self._logged({"transaction_id": transaction_id, "method": "GET"}):
            result = parse_transaction(answer, need_page=False)
            if result.transaction_id != transaction_id:
                raise ProviderError(
                    ErrorCode.INVALID_RESPONSE,
                    f"asked for transaction {transaction_id}, got {result.transaction_id}",
                )
        return result

    @contextlib.contextmanager
    def _logged(self, extra: dict[str, Any]) -> Iterator[None]:
        """Log a rejected answer with the same fields as a failed call."""
        started = time.monotonic()
        try:
            yield
        except ProviderError as error:
            self._log_failure(
                error,
                {
                    "provider": self.key,
                    "originator_id": self.originator_id,
                    "endpoint_id": self.endpoint_id,
                    **extra,
                },
                started,
            )
            raise

    def _call(self, method: str, url: str, *, log: dict[str, Any], content: bytes = b"") -> Any:
        extra = {
            "provider": self.key,
            "originator_id": self.originator_id,
            "endpoint_id": self.endpoint_id,
            "method": method,
            **log,
        }
        started = time.monotonic()
        try:
            with httpx.Client(**self._client_options) as client:
                response = client.request(
                    method,
                    url,
                    content=content or None,
                    headers={"Content-Type": "application/json"} if content else None,
                )
        except httpx.TimeoutException as exc:
            error = ProviderError(ErrorCode.TIMEOUT, f"no answer within the timeout ({exc})")
            self._log_failure(error, extra, started)
            raise error from exc
        except httpx.HTTPError as exc:
            error = ProviderError(ErrorCode.UNREACHABLE, f"{type(exc).__name__}: {exc}")
            self._log_failure(error, extra, started)
            raise error from exc
        extra["http_status"] = response.status_code
        try:
            body = json.loads(response.content, parse_float=Decimal) if response.content else None
        except ValueError:
            body = None
        if response.is_success:
            if body is None:
                error = ProviderError(
                    ErrorCode.INVALID_RESPONSE,
                    "answer is not JSON",
                    http_status=response.status_code,
                )
                self._log_failure(error, extra, started)
                raise error
            logger.info(
                "payment provider answered",
                extra={**extra, "duration_ms": round((time.monotonic() - started) * 1000)},
            )
            return body
        error = self._error_from(response.status_code, body)
        self._log_failure(error, extra, started)
        raise error

    @staticmethod
    def _error_from(http_status: int, body: Any) -> ProviderError:
        code_text = message = ""
        if isinstance(body, dict):
            code_text = str(body.get("errorCode") or body.get("code") or "")
            message = str(body.get("errorMessage") or body.get("message") or "")[:500]
        if code_text in STANDARD_ERROR_CODES:
            code = ErrorCode(code_text)
        elif http_status == 404:
            code = ErrorCode.NOT_FOUND
        elif http_status in {401, 403}:
            code = ErrorCode.FORBIDDEN
        elif http_status in {400, 422}:
            code = ErrorCode.VALIDATION_ERROR
        else:
            code = ErrorCode.PROVIDER_ERROR
        reason = f"HTTP {http_status}" + (f" {code_text}" if code_text else "")
        if message:
            reason += f": {message}"
        return ProviderError(code, reason, http_status=http_status)

    @staticmethod
    def _log_failure(error: ProviderError, extra: dict[str, Any], started: float) -> None:
        level = logging.WARNING if error.transient else logging.ERROR
        logger.log(
            level,
            "payment provider call failed",
            extra={
                **extra,
                "error_code": str(error.code),
                "reason": error.reason,
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )


register_provider(ProviderConfig.Provider.XBEZAHLDIENSTE, XBezahldiensteClient.from_config)
