"""The payment provider interface, its errors, and the registry that picks a provider."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from rathaus.payments.models import ProviderConfig


class ErrorCode(StrEnum):
    """XBezahldienste error codes, plus the transport failures a client can meet."""

    NO_VALID_ORIGINATOR_OR_ENDPOINT = "NO_VALID_ORIGINATOR_OR_ENDPOINT"
    PAYMENT_EXISTS = "PAYMENT_EXISTS"
    CALCULATION_ERROR = "CALCULATION_ERROR"
    BOOKING_DATA_MISSING = "BOOKING_DATA_MISSING"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    FORBIDDEN = "FORBIDDEN"
    # Not from the standard: what the client concludes itself.
    NOT_FOUND = "NOT_FOUND"
    TIMEOUT = "TIMEOUT"
    UNREACHABLE = "UNREACHABLE"
    INVALID_RESPONSE = "INVALID_RESPONSE"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    NOT_CONFIGURED = "NOT_CONFIGURED"


_CONFIG = _(
    "Online payment is not available at the moment. Nothing was charged. "
    "Please try again later or contact the authority."
)
_DATA = _(
    "The payment provider did not accept the fee data. Nothing was charged. "
    "The authority has been informed; please try again later."
)
_TRANSIENT = _(
    "The payment provider did not respond in time. Nothing was charged. "
    "Please try again in a few minutes."
)

CITIZEN_MESSAGES: dict[ErrorCode, Promise] = {
    ErrorCode.NO_VALID_ORIGINATOR_OR_ENDPOINT: _CONFIG,
    ErrorCode.FORBIDDEN: _CONFIG,
    ErrorCode.NOT_CONFIGURED: _CONFIG,
    ErrorCode.PAYMENT_EXISTS: _(
        "This payment was already started. Please check the status of your application "
        "before you pay again."
    ),
    ErrorCode.CALCULATION_ERROR: _DATA,
    ErrorCode.BOOKING_DATA_MISSING: _DATA,
    ErrorCode.VALIDATION_ERROR: _DATA,
    ErrorCode.NOT_FOUND: _(
        "The payment provider does not know this payment. Please contact the authority."
    ),
    ErrorCode.TIMEOUT: _TRANSIENT,
    ErrorCode.UNREACHABLE: _TRANSIENT,
    ErrorCode.INVALID_RESPONSE: _(
        "The payment provider sent an answer we could not read. Nothing was lost; "
        "we will check the payment again automatically."
    ),
    ErrorCode.PROVIDER_ERROR: _TRANSIENT,
}

# Failures after which asking again later may succeed.
TRANSIENT_CODES = frozenset(
    {ErrorCode.TIMEOUT, ErrorCode.UNREACHABLE, ErrorCode.INVALID_RESPONSE, ErrorCode.PROVIDER_ERROR}
)


class ProviderError(Exception):
    """The provider refused, failed or answered nonsense; ``reason`` is for the log."""

    def __init__(self, code: ErrorCode, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.http_status = http_status

    @property
    def citizen_message(self) -> str:
        return str(CITIZEN_MESSAGES[self.code])

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT_CODES


class ProviderStatus(StrEnum):
    INITIAL = "INITIAL"
    PAYED = "PAYED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


@dataclass(frozen=True)
class PaymentItem:
    id: str
    description: str
    quantity: int
    single_cents: int
    reference: str = ""

    @property
    def total_cents(self) -> int:
        return self.quantity * self.single_cents


@dataclass(frozen=True)
class PaymentOrder:
    """What the portal asks the provider to collect."""

    request_id: str
    requested_at: dt.datetime
    amount_cents: int
    purpose: str
    description: str
    redirect_url: str
    items: tuple[PaymentItem, ...]
    requestor_id: str = ""
    requestor_name: str = ""
    requestor_email: str = ""


@dataclass(frozen=True)
class ProviderTransaction:
    """The provider's view of a payment, validated."""

    transaction_id: str
    status: ProviderStatus
    payment_page_url: str = ""
    reference: str = ""
    status_detail: str = ""
    payment_method: str = ""
    request_id: str = ""
    amount_cents: int | None = None
    currency: str = ""
    raw: dict[str, object] = field(default_factory=dict, compare=False, repr=False)


class PaymentProvider(Protocol):
    """The small interface every provider plugin implements."""

    key: str

    def create_transaction(self, order: PaymentOrder) -> ProviderTransaction: ...

    def get_transaction(self, transaction_id: str) -> ProviderTransaction: ...


ProviderFactory = Callable[["ProviderConfig"], PaymentProvider]
_REGISTRY: dict[str, ProviderFactory] = {}


def register_provider(key: str, factory: ProviderFactory) -> None:
    _REGISTRY[key] = factory


def provider_for(config: ProviderConfig) -> PaymentProvider:
    """The provider plugin for a municipality's configuration."""
    if not config.enabled:
        raise ProviderError(ErrorCode.NOT_CONFIGURED, f"provider of {config.municipality} disabled")
    try:
        factory = _REGISTRY[config.provider]
    except KeyError:
        raise ProviderError(
            ErrorCode.NOT_CONFIGURED, f"no provider plugin {config.provider!r}"
        ) from None
    return factory(config)
