"""Reads of the payments module."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from rathaus.core.models import Municipality
from rathaus.payments.models import PaymentStatus, PaymentTransaction, ProviderConfig


@dataclass(frozen=True)
class PayableState:
    """The payment situation of one payable (e.g. an application)."""

    paid: bool
    paid_transaction: PaymentTransaction | None
    open_transaction: PaymentTransaction | None
    last_attempt: PaymentTransaction | None

    @property
    def can_start_payment(self) -> bool:
        """Whether to offer a (new) payment: not paid and no attempt pending."""
        return not self.paid


def transactions_for_payable(*, payable_type: str, payable_id: str) -> QuerySet[PaymentTransaction]:
    return PaymentTransaction.objects.filter(
        payable_type=payable_type, payable_id=str(payable_id)
    ).order_by("-created_at", "-pk")


def payable_state(*, payable_type: str, payable_id: str) -> PayableState:
    attempts = list(transactions_for_payable(payable_type=payable_type, payable_id=payable_id))
    paid = [t for t in attempts if t.status == PaymentStatus.PAYED and not t.duplicate]
    open_attempts = [t for t in attempts if t.status == PaymentStatus.INITIAL]
    return PayableState(
        paid=bool(paid),
        paid_transaction=paid[-1] if paid else None,
        open_transaction=open_attempts[0] if open_attempts else None,
        last_attempt=attempts[0] if attempts else None,
    )


#: Final states of an unpaid attempt that a provider may still turn into PAYED (a late capture).
RECHECKED_FINAL_STATES = (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.ABANDONED)


def _changeable(*, recheck_final_since: dt.datetime) -> Q:
    return Q(status=PaymentStatus.INITIAL) | Q(
        status__in=RECHECKED_FINAL_STATES, status_changed_at__gte=recheck_final_since
    )


def _awaiting_cash_reference(*, paid_since: dt.datetime) -> Q:
    """Paid since ``paid_since`` without a Kassenzeichen: XBezahldienste's
    ``transactionReference`` is optional, and a platform may assign it after "paid"."""
    return Q(status=PaymentStatus.PAYED, cash_reference="", paid_at__gte=paid_since)


def changeable_attempts(*, recheck_final_since: dt.datetime) -> QuerySet[PaymentTransaction]:
    """Attempts whose status the provider may still change: the open ones, and the failed,
    cancelled or abandoned ones since ``recheck_final_since`` (a provider may still confirm
    them)."""
    return PaymentTransaction.objects.exclude(provider_transaction_id="").filter(
        _changeable(recheck_final_since=recheck_final_since)
    )


def transactions_to_reconcile(*, recheck_final_since: dt.datetime) -> QuerySet[PaymentTransaction]:
    """:func:`changeable_attempts`, and the attempts paid since ``recheck_final_since`` that
    still have no Kassenzeichen (asked again until it comes, for that bounded time only; their
    status and amount never change by it); oldest check first."""
    return (
        PaymentTransaction.objects.exclude(provider_transaction_id="")
        .filter(
            _changeable(recheck_final_since=recheck_final_since)
            | _awaiting_cash_reference(paid_since=recheck_final_since)
        )
        .select_related("municipality")
        .order_by(F("last_checked_at").asc(nulls_first=True), "pk")
    )


def refunds_due() -> QuerySet[PaymentTransaction]:
    """Confirmed payments that no matter takes (a second payment of a paid matter, or one of a
    matter deleted unpaid) and whose refunds do not yet add up to the amount paid."""
    return (
        PaymentTransaction.objects.filter(status=PaymentStatus.PAYED)
        .filter(Q(duplicate=True) | Q(payable_deleted_at__isnull=False))
        .annotate(refunded=Coalesce(Sum("refunds__amount_cents"), 0))
        .filter(refunded__lt=F("amount_cents"))
    )


#: An origin as it may stand in a CSP source list: scheme, host name or [IPv6], port. Anything
#: else (a space or ";" in a provider's answer would add a directive) is left out.
_ORIGIN = re.compile(r"^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")

#: How many of the municipality's latest payment pages name the page origins (a platform serves
#: its pages from one host or a few, often not the API's).
PAGE_ORIGINS_FROM_LATEST = 20


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin if _ORIGIN.match(origin) else None


def payment_origins(*, municipality: Municipality) -> list[str]:
    """Origins of the municipality's payment provider, for the portal's CSP ``form-action``
    (the pay button's POST is answered with a redirect to the payment page): the API's base
    URL and the payment pages (``transactionUrl``) of its latest attempts, which a platform may
    serve from another host."""
    config = ProviderConfig.objects.filter(municipality=municipality).first()
    if config is None or not config.base_url:
        return []
    pages = (
        PaymentTransaction.objects.filter(municipality=municipality)
        .exclude(payment_page_url="")
        .order_by("-pk")
        .values_list("payment_page_url", flat=True)[:PAGE_ORIGINS_FROM_LATEST]
    )
    origins: list[str] = []
    for url in [config.base_url, *pages]:
        origin = _origin(url)
        if origin is not None and origin not in origins:
            origins.append(origin)
    return origins
