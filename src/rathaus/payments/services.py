"""Writes of the payments module: start a payment, pull its status, reconcile, refund.

Network calls to the provider never run inside a database transaction; the state change that
follows runs in one, with the payable's transactions locked (``select_for_update``), so the
citizen's return and the reconciliation can race on the same payment safely.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.core import audit
from rathaus.core.models import Municipality
from rathaus.payments.fees import MAX_AMOUNT_CENTS, FeeQuote
from rathaus.payments.models import (
    PaymentStatus,
    PaymentStatusChange,
    PaymentTransaction,
    ProviderConfig,
    Refund,
)
from rathaus.payments.providers import (
    ErrorCode,
    PaymentItem,
    PaymentOrder,
    PaymentProvider,
    ProviderError,
    ProviderStatus,
    ProviderTransaction,
    provider_for,
)
from rathaus.payments.selectors import (
    PayableState,
    changeable_attempts,
    payable_state,
    transactions_for_payable,
    transactions_to_reconcile,
)
from rathaus.payments.signals import payment_confirmed, payment_duplicate, payment_failed

logger = logging.getLogger("rathaus.payments")
Source = PaymentStatusChange.Source

#: An open attempt that never got its payment page this long after it was created was lost
#: between the commit and the provider's answer (a process ended mid-request); it is closed
#: so that the citizen can pay. At least four times the provider timeout (connect, write,
#: read, pool), so that a call still running is never overtaken.
UNREGISTERED_ATTEMPT_AFTER = dt.timedelta(minutes=15)
_NEVER_REGISTERED = "creation abandoned: never registered at the provider"

#: Default of ``PAYMENTS_ATTEMPT_ABANDON_HOURS``: an attempt the provider still reports open
#: this long after it was started is given up (ABANDONED). A payment page session lasts minutes
#: (a 3-D Secure challenge, a bank's login), at most a few hours (a PayPal checkout: 3 hours);
#: two days also cover a provider that settles the previous day's payments in a nightly batch,
#: even after an outage of a day. docs/modules/payments.md explains the choice.
ABANDON_AFTER_HOURS = 48


def abandon_after() -> dt.timedelta:
    """How long an attempt may stay open at the provider before it is given up."""
    return dt.timedelta(
        hours=getattr(settings, "PAYMENTS_ATTEMPT_ABANDON_HOURS", ABANDON_AFTER_HOURS)
    )


class PaymentError(Exception):
    """A payment could not be started; ``citizen_message`` is safe to show."""

    def __init__(self, citizen_message: str, *, code: str = "") -> None:
        super().__init__(citizen_message)
        self.citizen_message = citizen_message
        self.code = code


class PayableHasPayment(Exception):
    """A payable cannot be deleted unpaid: one of its payments is confirmed (``paid``) or still
    open at the provider."""

    def __init__(self, *, paid: bool) -> None:
        super().__init__("payable is paid" if paid else "a payment of the payable is open")
        self.paid = paid


@dataclass(frozen=True)
class PaymentStart:
    """The outcome of :func:`start_payment`: where to send the citizen, or that it is paid."""

    transaction: PaymentTransaction
    redirect_url: str = ""
    already_paid: bool = False


@dataclass(frozen=True)
class ReturnOutcome:
    """What the citizen sees after coming back from the payment page."""

    transaction: PaymentTransaction
    message: str
    level: str  # "success", "info", "warning", "error"

    @property
    def matter_deleted(self) -> bool:
        """The matter paid for was deleted (its page is gone): the citizen is shown the
        payment's own status page instead of the ``return_url``."""
        return self.transaction.payable_deleted_at is not None


@dataclass
class ReconciliationResult:
    checked: int = 0
    changed: int = 0  # abandoned ones included
    failed: int = 0
    abandoned: int = 0
    errors: list[str] = field(default_factory=list)


_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe"})
_TRANSLITERATION.update(str.maketrans({"Ü": "Ue", "ß": "ss"}))


def make_purpose(text: str) -> str:
    """A purpose the standard accepts: ≤ 27 ASCII letters, digits, spaces and hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
    ascii_text = ascii_text.encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_\s-]+", " ", ascii_text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()[:27].strip()
    return cleaned or "Gebuehr"


def items_from_quote(quote: FeeQuote) -> list[PaymentItem]:
    return [
        PaymentItem(
            id=line.id[:36],
            description=line.label[:250],
            quantity=line.quantity,
            single_cents=line.unit_cents,
            reference=line.booking_reference,
        )
        for line in quote.lines
    ]


def _provider(municipality: Municipality) -> PaymentProvider:
    try:
        config = ProviderConfig.objects.select_related("municipality").get(
            municipality=municipality
        )
    except ProviderConfig.DoesNotExist:
        raise ProviderError(
            ErrorCode.NOT_CONFIGURED, f"no payment provider configured for {municipality}"
        ) from None
    return provider_for(config)


def _return_url(request_id: str) -> str:
    base = settings.PAYMENTS_RETURN_BASE_URL or settings.SITE_URL
    return base.rstrip("/") + reverse("payments:return", args=[request_id])


def _log_extra(tx: PaymentTransaction, **more: Any) -> dict[str, Any]:
    return {
        "request_id": tx.request_id,
        "transaction_id": tx.provider_transaction_id,
        "payable": f"{tx.payable_type}:{tx.payable_id}",
        "municipality": tx.municipality_id,
        **more,
    }


def _change_status(
    tx: PaymentTransaction,
    new: str,
    *,
    source: str,
    detail: str,
    actor: Any,
    before: dict[str, Any] | None = None,
) -> None:
    """Set a new status with its history row and audit event; call inside the transaction.

    ``before``: the audit's state before, when the caller changed ``tx`` already (taken before
    any change, so that it never shows the new values)."""
    before = tx.snapshot() if before is None else before
    old = tx.status
    tx.status = new
    tx.status_detail = detail[:250]
    tx.status_changed_at = timezone.now()
    if new == PaymentStatus.PAYED and tx.paid_at is None:
        tx.paid_at = tx.status_changed_at
    tx.save()
    PaymentStatusChange.objects.create(
        transaction=tx, from_status=old, to_status=new, source=source, detail=detail[:250]
    )
    audit.record(
        actor=actor,
        action=f"payment.{new.lower()}",
        obj=tx,
        before=before,
        after=tx.snapshot(),
        municipality=tx.municipality,
    )


def _lost_before_registration(tx: PaymentTransaction) -> bool:
    """An open attempt whose creation at the provider ended without an answer being kept."""
    if tx.provider_transaction_id or tx.payment_page_url:
        return False
    timeout = (
        ProviderConfig.objects.filter(municipality_id=tx.municipality_id)
        .values_list("timeout_seconds", flat=True)
        .first()
        or 0
    )
    wait = max(UNREGISTERED_ATTEMPT_AFTER, 4 * dt.timedelta(seconds=timeout))
    return tx.created_at < timezone.now() - wait


def _creation_failed(tx: PaymentTransaction, error: ProviderError, *, actor: Any) -> PaymentError:
    """Close an attempt whose registration at the provider failed (left open, it would block
    every later payment of its payable); returns the error for the citizen."""
    with transaction.atomic():
        locked = PaymentTransaction.objects.select_for_update().get(pk=tx.pk)
        _change_status(
            locked,
            PaymentStatus.FAILED,
            source=Source.CREATION,
            detail=f"creation failed: {error.code}: {error.reason}"[:250],
            actor=actor,
        )
    return PaymentError(error.citizen_message, code=str(error.code))


def start_payment(
    *,
    municipality: Municipality,
    payable_type: str,
    payable_id: str,
    amount_cents: int,
    items: Sequence[PaymentItem],
    purpose: str,
    description: str = "",
    return_url: str = "",
    case_reference: str = "",
    actor: Any = None,
    requestor_name: str = "",
    requestor_email: str = "",
) -> PaymentStart:
    """Start (or resume) the online payment of one payable; never charges a payable twice.

    If the payable is paid already, nothing is created (``already_paid``). If an attempt is still
    open at the provider, the citizen is sent back to its payment page. Otherwise a new
    transaction is created at the provider. Raises :class:`PaymentError` with a message for the
    citizen when the provider cannot be reached or refuses; the attempt stays recorded.
    """
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise ValueError(f"amount_cents must be positive and at most {MAX_AMOUNT_CENTS}")
    if sum(item.total_cents for item in items) != amount_cents:
        raise ValueError("amount_cents must equal the sum of the items")
    purpose = make_purpose(purpose)
    description = description[:250]

    # Bring older attempts up to date first: a late PAYED must win before we offer a new one.
    # A failure is logged by the client; the open attempt is then reused below.
    current_state(payable_type=payable_type, payable_id=str(payable_id))

    try:
        with transaction.atomic():
            siblings = list(
                PaymentTransaction.objects.select_for_update()
                .filter(payable_type=payable_type, payable_id=payable_id)
                .order_by("pk")
            )
            paid = next((t for t in siblings if t.status == PaymentStatus.PAYED), None)
            if paid is not None:
                return PaymentStart(transaction=paid, already_paid=True)
            open_tx = next((t for t in siblings if t.status == PaymentStatus.INITIAL), None)
            if open_tx is not None and _lost_before_registration(open_tx):
                _change_status(
                    open_tx,
                    PaymentStatus.FAILED,
                    source=Source.CREATION,
                    detail=_NEVER_REGISTERED,
                    actor=None,
                )
                open_tx = None
            if open_tx is not None:
                if not open_tx.payment_page_url:
                    raise PaymentError(
                        _("Your payment is being prepared. Please wait a moment and try again."),
                        code="IN_PROGRESS",
                    )
                return PaymentStart(transaction=open_tx, redirect_url=open_tx.payment_page_url)
            provider_key = (
                ProviderConfig.objects.filter(municipality=municipality)
                .values_list("provider", flat=True)
                .first()
                or ProviderConfig.Provider.XBEZAHLDIENSTE
            )
            tx = PaymentTransaction.objects.create(
                municipality=municipality,
                payable_type=payable_type,
                payable_id=str(payable_id),
                case_reference=case_reference,
                amount_cents=amount_cents,
                purpose=purpose,
                description=description,
                items=[
                    {
                        "id": item.id,
                        "description": item.description,
                        "quantity": item.quantity,
                        "single_cents": item.single_cents,
                        "reference": item.reference,
                    }
                    for item in items
                ],
                provider=provider_key,
                return_url=return_url,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                status_changed_at=timezone.now(),
            )
            PaymentStatusChange.objects.create(
                transaction=tx, to_status=PaymentStatus.INITIAL, source=Source.CREATION
            )
            audit.record(
                actor=actor,
                action="payment.created",
                obj=tx,
                after={"amount_cents": amount_cents, "purpose": purpose, **tx.snapshot()},
                municipality=municipality,
            )
    except IntegrityError:
        # A concurrent click created the open attempt a moment ago.
        raise PaymentError(
            _("Your payment is being prepared. Please wait a moment and try again."),
            code="IN_PROGRESS",
        ) from None

    order = PaymentOrder(
        request_id=tx.request_id,
        requested_at=tx.created_at,
        amount_cents=amount_cents,
        purpose=purpose,
        description=description,
        redirect_url=_return_url(tx.request_id),
        items=tuple(items),
        requestor_id=str(actor.pk) if getattr(actor, "is_authenticated", False) else "",
        requestor_name=requestor_name,
        requestor_email=requestor_email,
    )
    try:
        created = _provider(municipality).create_transaction(order)
    except Exception as exc:
        # Whatever a provider plugin raises (ProviderError, or a bug or unusable settings such
        # as a token it cannot send), the attempt is closed: left open, it would block every
        # later payment of this payable.
        if isinstance(exc, ProviderError):
            error = exc
        else:
            logger.exception("payment provider plugin failed", extra=_log_extra(tx))
            error = ProviderError(ErrorCode.NOT_CONFIGURED, f"{type(exc).__name__}: {exc}")
        logger.warning(
            "payment could not be created",
            extra=_log_extra(tx, error_code=str(error.code), reason=error.reason),
        )
        raise _creation_failed(tx, error, actor=actor) from exc

    try:
        with transaction.atomic():
            locked = PaymentTransaction.objects.select_for_update().get(pk=tx.pk)
            before = locked.snapshot()
            locked.provider_transaction_id = created.transaction_id
            locked.payment_page_url = created.payment_page_url
            locked.save(update_fields=["provider_transaction_id", "payment_page_url", "updated_at"])
            audit.record(
                actor=actor,
                action="payment.registered",
                obj=locked,
                before=before,
                after=locked.snapshot(),
                municipality=municipality,
            )
    except IntegrityError as exc:
        # The provider named a transaction another attempt already has: this answer cannot be
        # trusted, and the attempt must not stay open (it would block later payments).
        error = ProviderError(
            ErrorCode.INVALID_RESPONSE,
            f"transaction id {created.transaction_id!r} is already used by another payment",
        )
        logger.error("payment provider reused a transaction id", extra=_log_extra(tx))
        raise _creation_failed(tx, error, actor=actor) from exc
    if locked.status != PaymentStatus.INITIAL:
        # Given up as lost meanwhile (see UNREGISTERED_ATTEMPT_AFTER); reconciliation still
        # follows it, but the citizen is not sent to pay an attempt a newer one may replace.
        raise PaymentError(
            _("Your payment is being prepared. Please wait a moment and try again."),
            code="IN_PROGRESS",
        )
    logger.info("payment created", extra=_log_extra(locked, amount_cents=amount_cents))
    if created.status != PaymentStatus.INITIAL:
        try:
            apply_provider_status(transaction=locked, observed=created, source=Source.CREATION)
        except ProviderError as error:  # e.g. "paid" without its amount: reconciliation asks
            logger.error(
                "payment creation answered an unusable status",
                extra=_log_extra(locked, error_code=str(error.code), reason=error.reason[:200]),
            )
            raise PaymentError(error.citizen_message, code=str(error.code)) from error
        locked.refresh_from_db()
        if locked.status == PaymentStatus.PAYED:
            return PaymentStart(transaction=locked, already_paid=True)
        if locked.status != PaymentStatus.INITIAL:  # failed or cancelled at once
            raise PaymentError(
                _("The payment failed. Nothing was charged. You can try again."),
                code=str(locked.status),
            )
    return PaymentStart(transaction=locked, redirect_url=created.payment_page_url)


def start_payment_for_quote(
    *,
    municipality: Municipality,
    payable_type: str,
    payable_id: str,
    quote: FeeQuote,
    purpose: str,
    description: str = "",
    return_url: str = "",
    case_reference: str = "",
    actor: Any = None,
) -> PaymentStart:
    """:func:`start_payment` with the line items of a :class:`FeeQuote`."""
    if not quote.payable_online:
        raise ValueError("this fee is not paid online before submission")
    return start_payment(
        municipality=municipality,
        payable_type=payable_type,
        payable_id=payable_id,
        amount_cents=quote.total_cents,
        items=items_from_quote(quote),
        purpose=purpose,
        description=description,
        return_url=return_url,
        case_reference=case_reference,
        actor=actor,
    )


def refresh_status(*, transaction: PaymentTransaction, source: str) -> PaymentTransaction:
    """Pull the status from the provider and apply it; raises :class:`ProviderError`."""
    if not transaction.provider_transaction_id:
        return transaction
    try:
        observed = _provider(transaction.municipality).get_transaction(
            transaction.provider_transaction_id
        )
    except Exception as exc:
        PaymentTransaction.objects.filter(pk=transaction.pk).update(last_checked_at=timezone.now())
        if isinstance(exc, ProviderError):
            raise
        # A plugin's bug or unusable settings: the citizen's return and the reconciliation of
        # the other payments go on as for any provider failure.
        logger.exception("payment provider plugin failed", extra=_log_extra(transaction))
        raise ProviderError(ErrorCode.NOT_CONFIGURED, f"{type(exc).__name__}: {exc}") from exc
    return apply_provider_status(transaction=transaction, observed=observed, source=source)


def apply_provider_status(
    *, transaction: PaymentTransaction, observed: ProviderTransaction, source: str
) -> PaymentTransaction:
    """Apply a status the provider reported, whatever order it comes in.

    Rules: a provider-confirmed PAYED wins over FAILED or CANCELED recorded before; nothing
    replaces PAYED; INITIAL never replaces a final state; the first final state of an unpaid
    attempt stays. The transition to PAYED happens once, under a row lock, so the confirmation
    signal is sent exactly once even when the return and the reconciliation race.
    """
    return _apply(transaction.pk, observed, source)


def _lock_siblings(*, payable_type: str, payable_id: str) -> list[PaymentTransaction]:
    """Lock all attempts of one payable (ordered by pk, so two lockers never deadlock); call
    inside a transaction."""
    return list(
        PaymentTransaction.objects.select_for_update()
        .filter(payable_type=payable_type, payable_id=payable_id)
        .select_related("municipality")
        .order_by("pk")
    )


def _lock_with_siblings(pk: int) -> tuple[PaymentTransaction, list[PaymentTransaction]]:
    head = PaymentTransaction.objects.only("payable_type", "payable_id").get(pk=pk)
    siblings = _lock_siblings(payable_type=head.payable_type, payable_id=head.payable_id)
    return next(t for t in siblings if t.pk == pk), siblings


def _apply(pk: int, observed: ProviderTransaction, source: str) -> PaymentTransaction:
    signal_to_send: tuple[Any, PaymentTransaction] | None = None
    with transaction.atomic():
        tx, siblings = _lock_with_siblings(pk)
        tx.last_checked_at = timezone.now()
        tx.check_count += 1
        if observed.transaction_id != tx.provider_transaction_id:
            tx.save(update_fields=["last_checked_at", "check_count"])
            raise ProviderError(
                ErrorCode.INVALID_RESPONSE,
                f"status for {observed.transaction_id} applied to {tx.provider_transaction_id}",
            )
        if observed.status == ProviderStatus.PAYED and (
            observed.amount_cents is None or observed.currency != "EUR"
        ):
            # "Paid" counts only with the amount and currency it was paid in
            tx.save(update_fields=["last_checked_at", "check_count"])
            logger.error(
                "provider reports a payment without amount or currency; status not applied",
                extra=_log_extra(tx, currency=observed.currency, status=str(observed.status)),
            )
            raise ProviderError(
                ErrorCode.INVALID_RESPONSE,
                "provider reports the payment as paid without its amount and currency (EUR)",
            )
        if observed.amount_cents is not None and observed.amount_cents != tx.amount_cents:
            tx.save(update_fields=["last_checked_at", "check_count"])
            logger.error(
                "provider reports a different amount; status not applied",
                extra=_log_extra(
                    tx, observed_cents=observed.amount_cents, status=str(observed.status)
                ),
            )
            raise ProviderError(
                ErrorCode.INVALID_RESPONSE,
                f"provider reports {observed.amount_cents} cents for a payment of "
                f"{tx.amount_cents}",
            )
        new, old = str(observed.status), tx.status
        if (
            new == old
            or old == PaymentStatus.PAYED
            or new == PaymentStatus.INITIAL
            or (old != PaymentStatus.INITIAL and new != PaymentStatus.PAYED)
        ):
            if new != old:
                # an abandoned attempt is still open (or unpaid) at the provider: expected
                logger.log(
                    logging.DEBUG if old == PaymentStatus.ABANDONED else logging.WARNING,
                    "late or out-of-order payment status ignored",
                    extra=_log_extra(tx, current=old, reported=new, source=source),
                )
            if old == PaymentStatus.PAYED and not tx.cash_reference and observed.reference:
                # the Kassenzeichen came after the confirmation: the treasury books by it
                tx.cash_reference = observed.reference
                audit.record(
                    actor=None,
                    action="payment.cash_reference_received",
                    obj=tx,
                    after={"cash_reference": tx.cash_reference, "source": source},
                    municipality=tx.municipality,
                )
            tx.save()
            return tx
        if new == PaymentStatus.PAYED:
            before = tx.snapshot()  # before the confirmation's own fields change
            tx.cash_reference = observed.reference or tx.cash_reference
            tx.payment_method = observed.payment_method
            tx.duplicate = any(t.status == PaymentStatus.PAYED for t in siblings if t.pk != tx.pk)
            detail = observed.status_detail
            if old != PaymentStatus.INITIAL:
                detail = f"provider confirmed payment after {old}. {detail}".strip()
            _change_status(tx, new, source=source, detail=detail, actor=None, before=before)
            if tx.payable_deleted_at is not None and not tx.duplicate:
                # Captured after its matter was deleted unpaid: nothing to hand over, the money
                # is kept for a refund (admin: "refund outstanding"; treasury export: Hinweis).
                _record_refund_due(tx, reason="payable_deleted", source=source)
            else:
                signal_to_send = (payment_duplicate if tx.duplicate else payment_confirmed, tx)
                logger.log(
                    logging.WARNING if tx.duplicate else logging.INFO,
                    "duplicate payment confirmed: refund due"
                    if tx.duplicate
                    else "payment confirmed",
                    extra=_log_extra(tx, previous=old, source=source),
                )
        else:
            _change_status(tx, new, source=source, detail=observed.status_detail, actor=None)
            signal_to_send = (payment_failed, tx)
            logger.info("payment not completed", extra=_log_extra(tx, status=new, source=source))
        if signal_to_send is not None:
            signal, sent_tx = signal_to_send
            transaction.on_commit(lambda: _announce(signal, sent_tx))
    return tx


def _record_refund_due(tx: PaymentTransaction, *, reason: str, source: str) -> None:
    """A confirmed payment that no matter takes: audited and logged for the treasury."""
    audit.record(
        actor=None,
        action="payment.refund_due",
        obj=tx,
        after={
            "reason": reason,
            "amount_cents": tx.amount_cents,
            "cash_reference": tx.cash_reference,
            "payable_deleted_at": tx.payable_deleted_at.isoformat()
            if tx.payable_deleted_at
            else None,
            "source": source,
        },
        municipality=tx.municipality,
    )
    logger.error(
        "payment confirmed for a deleted matter: refund due",
        extra=_log_extra(tx, reason=reason, source=source),
    )


def _abandon(pk: int, *, why: str = "still open at the provider") -> PaymentTransaction:
    """Give up an attempt that is still open past :func:`abandon_after`: the provider has just
    reported it open, or no longer knows it (``why``). XBezahldienste has no call to cancel a
    transaction, so it may stay open at the provider: it is re-checked like a failed one
    (``PAYMENTS_RECHECK_FINAL_HOURS``) and a capture reported meanwhile still wins."""
    with transaction.atomic():
        tx, _siblings = _lock_with_siblings(pk)
        if tx.status != PaymentStatus.INITIAL:
            return tx  # confirmed or closed meanwhile (the citizen's return)
        hours = round(abandon_after().total_seconds() / 3600, 1)
        _change_status(
            tx,
            PaymentStatus.ABANDONED,
            source=Source.RECONCILIATION,
            detail=f"{why} {hours:g} hours after it was started; given up",
            actor=None,
        )
        transaction.on_commit(lambda: _announce(payment_failed, tx))
    logger.warning("open payment attempt abandoned", extra=_log_extra(tx, reason=why))
    return tx


def _gone_at_provider(tx: PaymentTransaction, error: ProviderError) -> str:
    """Why ``error`` means that no provider will ever report on ``tx`` again ("" if it may):
    the provider answered that it does not know the transaction (NOT_FOUND: the platform
    purged unpaid transactions, or the sandbox restarted), or the municipality's provider was
    deleted or disabled (NOT_CONFIGURED; a plugin's bug, reported with the same code, is not
    this: its provider is still configured and enabled)."""
    if error.code == ErrorCode.NOT_FOUND:
        return "unknown at the provider (NOT_FOUND)"
    if (
        error.code == ErrorCode.NOT_CONFIGURED
        and not ProviderConfig.objects.filter(
            municipality_id=tx.municipality_id, enabled=True
        ).exists()
    ):
        return "no payment provider configured or enabled"
    return ""


def _check(tx: PaymentTransaction, *, now: dt.datetime) -> PaymentTransaction:
    """Pull the status; an attempt still open :func:`abandon_after` after it was started is
    given up, this answer being the final one asked for: if the provider still reports it
    open, and as well if it no longer knows it or the municipality's provider was deleted or
    disabled (:func:`_gone_at_provider`; a "not paid" for good: nothing can be paid there). A
    younger attempt the provider does not know stays open (a platform may lag behind its own
    answer to the creation). Otherwise an attempt the provider cannot tell about now
    (:class:`ProviderError`) stays as it is; one given up or closed already that the provider
    no longer knows is left as it is, without an error (nothing more can come of it)."""
    try:
        after = refresh_status(transaction=tx, source=Source.RECONCILIATION)
    except ProviderError as error:
        why = _gone_at_provider(tx, error)
        if not why:
            raise
        current = PaymentTransaction.objects.get(pk=tx.pk)
        if current.status != PaymentStatus.INITIAL:
            return current
        if current.created_at > now - abandon_after():
            raise
        return _abandon(current.pk, why=why)
    if after.status == PaymentStatus.INITIAL and after.created_at <= now - abandon_after():
        return _abandon(after.pk)
    return after


def _close_lost_attempts(*, payable_type: str, payable_id: str) -> None:
    """Close the payable's attempts that never got their payment page (see
    ``UNREGISTERED_ATTEMPT_AFTER``): no provider knows them, no reconciliation asks about
    them, and open they would keep the payable waiting."""
    unregistered = transactions_for_payable(
        payable_type=payable_type, payable_id=payable_id
    ).filter(status=PaymentStatus.INITIAL, provider_transaction_id="", payment_page_url="")
    for lost in unregistered:
        if not _lost_before_registration(lost):
            continue
        with transaction.atomic():
            tx, _siblings = _lock_with_siblings(lost.pk)
            if tx.status == PaymentStatus.INITIAL and _lost_before_registration(tx):
                _change_status(
                    tx,
                    PaymentStatus.FAILED,
                    source=Source.CREATION,
                    detail=_NEVER_REGISTERED,
                    actor=None,
                )


def _announce(signal: Any, tx: PaymentTransaction) -> None:
    """Tell the modules that own the payable, after the status is committed. A receiver that
    fails does not undo the payment nor stop the citizen's return or the reconciliation: it is
    logged, and the receiving module catches up by itself (applications hands a paid
    application over in its periodic job ``hand_over_paid_job``)."""
    for receiver, answer in signal.send_robust(
        sender=PaymentTransaction,
        transaction=tx,
        payable_type=tx.payable_type,
        payable_id=tx.payable_id,
    ):
        if isinstance(answer, Exception):
            logger.error(
                "payment signal receiver failed",
                exc_info=answer,
                extra=_log_extra(tx, receiver=getattr(receiver, "__qualname__", str(receiver))),
            )


def handle_return(*, request_id: str) -> ReturnOutcome:
    """The citizen came back from the payment page: pull the status (the return carries none).

    A payment confirmed but taken by no matter (its matter deleted meanwhile, or paid already
    by another attempt) is never announced as received: the citizen is told it will be refunded.
    """
    tx = PaymentTransaction.objects.select_related("municipality").get(request_id=request_id)
    unconfirmed = False
    try:
        refresh_status(transaction=tx, source=Source.RETURN)
    except ProviderError as error:
        logger.warning(
            "status could not be pulled on return",
            extra=_log_extra(tx, error_code=str(error.code), reason=error.reason),
        )
        unconfirmed = True
    # Read again after the confirmation's receivers ran: the owner of the payable may have
    # found it gone (record_missing_payable) and marked the payment for a refund.
    tx.refresh_from_db()
    if unconfirmed and tx.status != PaymentStatus.PAYED and tx.payable_deleted_at is None:
        return ReturnOutcome(
            transaction=tx,
            level="warning",
            message=_(
                "We could not yet confirm your payment with the payment provider. "
                "Please do not pay again: we check the payment automatically and "
                "will update your application."
            ),
        )
    if tx.status == PaymentStatus.PAYED and tx.payable_deleted_at is not None:
        return ReturnOutcome(
            transaction=tx,
            level="warning",
            message=_(
                "Your payment was received, but the application it was for no longer exists "
                "(it was withdrawn or has expired). The amount will be refunded to you."
            ),
        )
    if tx.status == PaymentStatus.PAYED and tx.duplicate:
        return ReturnOutcome(
            transaction=tx,
            level="warning",
            message=_(
                "Your payment was received, but this application had already been paid. "
                "This second payment will be refunded to you."
            ),
        )
    if tx.status == PaymentStatus.PAYED:
        return ReturnOutcome(
            transaction=tx, level="success", message=_("Thank you, your payment was received.")
        )
    if tx.payable_deleted_at is not None:
        return ReturnOutcome(
            transaction=tx,
            level="warning",
            message=_(
                "The application this payment was for no longer exists (it was withdrawn or "
                "has expired) and can no longer be paid. Should the payment provider still "
                "confirm a payment, the amount will be refunded to you."
            ),
        )
    if tx.status == PaymentStatus.INITIAL:
        return ReturnOutcome(
            transaction=tx,
            level="info",
            message=_(
                "Your payment has not been completed yet. If you have paid, it will be "
                "confirmed automatically; otherwise you can continue the payment."
            ),
        )
    if tx.status == PaymentStatus.ABANDONED:
        return ReturnOutcome(
            transaction=tx,
            level="warning",
            message=_(
                "This payment was not completed in time. If you have paid, it will be "
                "confirmed automatically; otherwise you can pay again."
            ),
        )
    if tx.status == PaymentStatus.CANCELED:
        return ReturnOutcome(
            transaction=tx,
            level="warning",
            message=_("You cancelled the payment. Nothing was charged. You can pay again."),
        )
    return ReturnOutcome(
        transaction=tx,
        level="error",
        message=_("The payment failed. Nothing was charged. You can try again."),
    )


def _recheck_since(now: dt.datetime) -> dt.datetime:
    """Failed or cancelled attempts since then may still be confirmed by the provider."""
    return now - dt.timedelta(hours=settings.PAYMENTS_RECHECK_FINAL_HOURS)


def current_state(
    *, payable_type: str, payable_id: str, now: dt.datetime | None = None
) -> PayableState:
    """The payable's payments after asking the provider about every attempt it may still
    confirm (a late PAYED must count): the open ones, and the failed, cancelled or abandoned
    ones of the last ``PAYMENTS_RECHECK_FINAL_HOURS`` (as reconciliation does). An attempt still
    open past :func:`abandon_after` is given up, and one that never reached the provider is
    closed after ``UNREGISTERED_ATTEMPT_AFTER``, so neither keeps the payable waiting for ever;
    so is one past :func:`abandon_after` that the provider no longer knows, or whose provider
    was deleted or disabled. An attempt the provider cannot tell about now keeps its status."""
    now = now or timezone.now()
    _close_lost_attempts(payable_type=payable_type, payable_id=str(payable_id))
    for previous in changeable_attempts(recheck_final_since=_recheck_since(now)).filter(
        payable_type=payable_type, payable_id=payable_id
    ):
        with contextlib.suppress(ProviderError):  # logged by the client
            _check(previous, now=now)
    return payable_state(payable_type=payable_type, payable_id=payable_id)


def reconcile_open_transactions(*, now: dt.datetime | None = None) -> ReconciliationResult:
    """Pull the status of every open attempt until it is final.

    Open means INITIAL at the provider, plus FAILED, CANCELED or ABANDONED attempts whose status
    changed within ``PAYMENTS_RECHECK_FINAL_HOURS`` (default 72): a provider may still confirm
    them. An attempt still INITIAL ``PAYMENTS_ATTEMPT_ABANDON_HOURS`` (default 48) after it was
    started is given up after this final answer (ABANDONED), and so is one the provider no
    longer knows (NOT_FOUND) or whose provider is gone (see :func:`_check`). A PAYED attempt
    paid within the same window that has no Kassenzeichen yet is read again too, so that one
    the provider assigns later is stored (:func:`apply_provider_status` never changes its
    status or amount).
    """
    result = ReconciliationResult()
    now = now or timezone.now()
    recheck_since = _recheck_since(now)
    for tx in transactions_to_reconcile(recheck_final_since=recheck_since):
        result.checked += 1
        before = tx.status
        try:
            after = _check(tx, now=now)
        except ProviderError as error:
            result.failed += 1
            result.errors.append(f"{tx.request_id}: {error.code}: {error.reason}")
            continue
        except Exception as error:  # one broken attempt must not stop the others' checks
            logger.exception("reconciliation of one payment failed", extra=_log_extra(tx))
            result.failed += 1
            result.errors.append(f"{tx.request_id}: {type(error).__name__}")
            continue
        if after.status != before:
            result.changed += 1
            result.abandoned += after.status == PaymentStatus.ABANDONED
    logger.info(
        "payment reconciliation finished",
        extra={
            "checked": result.checked,
            "changed": result.changed,
            "failed": result.failed,
            "abandoned": result.abandoned,
        },
    )
    return result


def close_payable(*, payable_type: str, payable_id: str, actor: Any) -> None:
    """The module that owns a payable deletes it unpaid (an application withdrawn or expired):
    call inside the transaction that deletes it, after the last :func:`current_state`.

    Raises :class:`PayableHasPayment` if, under the payable's lock, one of its payments is
    confirmed or open (a confirmation may have come in since ``current_state``). Otherwise its
    attempts are marked ``payable_deleted_at`` (audited ``payment.payable_deleted``): a capture
    the provider reports later is then kept for a refund instead of being announced as paid.
    """
    payable_id = str(payable_id)
    siblings = _lock_siblings(payable_type=payable_type, payable_id=payable_id)
    if any(t.status == PaymentStatus.PAYED and not t.duplicate for t in siblings):
        raise PayableHasPayment(paid=True)
    if any(t.status == PaymentStatus.INITIAL for t in siblings):
        raise PayableHasPayment(paid=False)
    _mark_payable_deleted(siblings, actor=actor)


def record_missing_payable(*, payable_type: str, payable_id: str) -> None:
    """The module that owns a confirmed payment's payable cannot find it (deleted without
    :func:`close_payable`, e.g. before it existed): its paid attempts are kept for a refund,
    audited (``payment.payable_deleted``, ``payment.refund_due``) and listed in the admin."""
    with transaction.atomic():
        siblings = _lock_siblings(payable_type=payable_type, payable_id=str(payable_id))
        for tx in _mark_payable_deleted(siblings, actor=None):
            if tx.status == PaymentStatus.PAYED:
                _record_refund_due(tx, reason="payable_missing", source="payable_owner")


def _mark_payable_deleted(
    siblings: Sequence[PaymentTransaction], *, actor: Any
) -> list[PaymentTransaction]:
    """Mark locked attempts as belonging to a deleted matter; returns the newly marked ones."""
    now = timezone.now()
    marked = []
    for tx in siblings:
        if tx.payable_deleted_at is not None:
            continue
        tx.payable_deleted_at = now
        tx.save(update_fields=["payable_deleted_at", "updated_at"])
        audit.record(
            actor=actor,
            action="payment.payable_deleted",
            obj=tx,
            before={"payable_deleted_at": None},
            after={"payable_deleted_at": now.isoformat(), "status": tx.status},
            municipality=tx.municipality,
        )
        marked.append(tx)
    return marked


def record_refund(
    *,
    transaction: PaymentTransaction,
    amount_cents: int,
    reason: str,
    actor: Any,
    reference: str = "",
) -> Refund:
    """Record money paid back on a paid transaction; the total never exceeds what was paid."""
    from django.db import transaction as db_transaction

    if amount_cents <= 0:
        raise ValueError(_("The refund must be a positive amount."))
    if not reason.strip():
        raise ValueError(_("Please give a reason for the refund."))
    with db_transaction.atomic():
        tx = PaymentTransaction.objects.select_for_update().get(pk=transaction.pk)
        if tx.status != PaymentStatus.PAYED:
            raise ValueError(_("Only a paid transaction can be refunded."))
        if tx.refunded_cents + amount_cents > tx.amount_cents:
            raise ValueError(_("The refunds would exceed the amount paid."))
        refund = Refund.objects.create(
            transaction=tx,
            amount_cents=amount_cents,
            reason=reason.strip()[:250],
            reference=reference,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.record(
            actor=actor,
            action="payment.refunded",
            obj=tx,
            after={"refund_id": refund.pk, "amount_cents": amount_cents, "reason": refund.reason},
            municipality=tx.municipality,
        )
    logger.info("payment refund recorded", extra=_log_extra(tx, refund_cents=amount_cents))
    return refund
