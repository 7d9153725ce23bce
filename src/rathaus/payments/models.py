"""Payment transactions, their append-only status history, refunds, and provider settings."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rathaus.core.models import AppendOnlyModel, Municipality

# XBezahldienste: purpose ≤ 27 characters of letters, digits, spaces and hyphens.
purpose_validator = RegexValidator(
    r"^[A-Za-z0-9_\s-]{1,27}$",
    _("At most 27 letters (without umlauts), digits, spaces or hyphens."),
)


class ProviderConfig(models.Model):
    """How one municipality reaches its ePayment platform (XBezahldienste)."""

    class Provider(models.TextChoices):
        XBEZAHLDIENSTE = "xbezahldienste", "XBezahldienste"

    class AuthScheme(models.TextChoices):
        NONE = "none", _("none")
        BASIC = "basic", _("HTTP Basic (user name and password)")
        BEARER = "bearer", _("Bearer token")

    municipality = models.OneToOneField(
        Municipality,
        on_delete=models.PROTECT,
        related_name="payment_provider",
        verbose_name=_("municipality"),
    )
    provider = models.CharField(
        _("provider"), max_length=32, choices=Provider.choices, default=Provider.XBEZAHLDIENSTE
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    base_url = models.URLField(
        _("base URL"), help_text=_("e.g. https://epay.example.de/xbezahldienste/api/v1")
    )
    originator_id = models.CharField(
        _("originator id"), max_length=64, help_text=_("Issued by the payment platform.")
    )
    endpoint_id = models.CharField(
        _("endpoint id"),
        max_length=64,
        blank=True,
        help_text=_("Identifies the authority; the municipality's AGS when left empty."),
    )
    auth_scheme = models.CharField(
        _("authentication"), max_length=16, choices=AuthScheme.choices, default=AuthScheme.BASIC
    )
    username = models.CharField(_("user name"), max_length=128, blank=True)
    secret = models.CharField(
        _("password or token"),
        max_length=512,
        blank=True,
        help_text=_("Stored for the connection; never shown again after saving."),
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        _("timeout (seconds)"), default=10, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("payment provider")
        verbose_name_plural = _("payment providers")

    def __str__(self) -> str:
        return f"{self.get_provider_display()} ({self.municipality})"

    @property
    def effective_endpoint_id(self) -> str:
        return self.endpoint_id or self.municipality.ags


class PaymentStatus(models.TextChoices):
    """The four states of XBezahldienste, and ABANDONED: an attempt the provider still reported
    open ``PAYMENTS_ATTEMPT_ABANDON_HOURS`` after it was started, given up by the portal (the
    standard has no call to cancel it; a later PAYED from the provider still wins)."""

    INITIAL = "INITIAL", _("open")
    PAYED = "PAYED", _("paid")
    FAILED = "FAILED", pgettext_lazy("payment", "failed")
    CANCELED = "CANCELED", _("cancelled")
    ABANDONED = "ABANDONED", pgettext_lazy("payment", "expired")


def new_request_id() -> str:
    return str(uuid.uuid4())


class PaymentTransaction(models.Model):
    """One payment attempt; ``request_id`` is the idempotency key sent to the provider."""

    request_id = models.CharField(
        _("request id"), max_length=36, unique=True, default=new_request_id, editable=False
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="payment_transactions",
        verbose_name=_("municipality"),
    )
    # What is paid for, without payments importing the higher module: "applications.application"
    # and its primary key, or any stable string reference.
    payable_type = models.CharField(_("payable type"), max_length=100)
    payable_id = models.CharField(_("payable id"), max_length=64)
    case_reference = models.CharField(
        _("case reference"),
        max_length=64,
        blank=True,
        help_text=_("Application number or file reference shown to the treasury."),
    )
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    purpose = models.CharField(_("purpose"), max_length=27, validators=[purpose_validator])
    description = models.CharField(_("description"), max_length=250, blank=True)
    items = models.JSONField(_("line items"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.INITIAL
    )
    status_detail = models.CharField(_("status detail"), max_length=250, blank=True)
    provider = models.CharField(_("provider"), max_length=32)
    provider_transaction_id = models.CharField(
        _("provider transaction id"), max_length=128, blank=True
    )
    payment_page_url = models.URLField(_("payment page"), max_length=2000, blank=True)
    return_url = models.CharField(
        _("return address"),
        max_length=500,
        blank=True,
        help_text=_("Where the citizen is sent after returning from the payment page."),
    )
    cash_reference = models.CharField(
        _("payment reference (Kassenzeichen)"), max_length=64, blank=True
    )
    payment_method = models.CharField(_("payment method"), max_length=32, blank=True)
    duplicate = models.BooleanField(
        _("duplicate payment"),
        default=False,
        help_text=_("Paid although another payment for the same matter was already paid: refund."),
    )
    payable_deleted_at = models.DateTimeField(
        _("matter deleted"),
        null=True,
        blank=True,
        help_text=_(
            "The matter paid for was deleted unpaid (e.g. an application withdrawn or expired); "
            "a payment confirmed after that is to be refunded."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    check_count = models.PositiveIntegerField(_("status checks"), default=0)

    class Meta:
        verbose_name = _("payment transaction")
        verbose_name_plural = _("payment transactions")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["payable_type", "payable_id"], name="payment_payable_idx"),
            models.Index(fields=["status", "last_checked_at"], name="payment_open_idx"),
            models.Index(fields=["paid_at"], name="payment_paid_at_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "municipality", "provider_transaction_id"],
                condition=~models.Q(provider_transaction_id=""),
                name="payment_provider_transaction_unique",
            ),
            # One open attempt per matter: a second click reuses it instead of charging twice.
            models.UniqueConstraint(
                fields=["payable_type", "payable_id"],
                condition=models.Q(status="INITIAL"),
                name="payment_one_open_per_payable",
            ),
            models.CheckConstraint(condition=models.Q(currency="EUR"), name="payment_currency_eur"),
            models.CheckConstraint(
                condition=~models.Q(status="PAYED") | models.Q(paid_at__isnull=False),
                name="payment_paid_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.status} {self.amount_cents / 100:.2f} EUR"

    @property
    def is_final(self) -> bool:
        return self.status != PaymentStatus.INITIAL

    @property
    def refund_due(self) -> bool:
        """Paid, but no matter takes the payment (a second payment of a paid matter, or one of a
        matter deleted unpaid): it is to be refunded, whatever was refunded already."""
        return self.status == PaymentStatus.PAYED and (
            self.duplicate or self.payable_deleted_at is not None
        )

    @property
    def refunded_cents(self) -> int:
        return sum(refund.amount_cents for refund in self.refunds.all())

    def snapshot(self) -> dict[str, Any]:
        """What the audit trail records of a change (before and after)."""
        return {
            "status": self.status,
            "status_detail": self.status_detail,
            "provider_transaction_id": self.provider_transaction_id,
            "cash_reference": self.cash_reference,
            "payment_method": self.payment_method,
            "paid_at": self.paid_at.isoformat() if self.paid_at else None,
            "duplicate": self.duplicate,
        }


class PaymentStatusChange(AppendOnlyModel):
    """One change of a transaction's status, with where the news came from."""

    class Source(models.TextChoices):
        CREATION = "creation", _("creation")
        RETURN = "return", _("citizen returned")
        RECONCILIATION = "reconciliation", _("reconciliation")
        STAFF = "staff", _("staff")

    transaction = models.ForeignKey(
        PaymentTransaction,
        on_delete=models.PROTECT,
        related_name="status_changes",
        verbose_name=_("payment transaction"),
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    from_status = models.CharField(_("from"), max_length=10, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=PaymentStatus.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    detail = models.CharField(_("detail"), max_length=250, blank=True)

    class Meta:
        verbose_name = _("payment status change")
        verbose_name_plural = _("payment status changes")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status} ({self.source})"


class Refund(AppendOnlyModel):
    """Money paid back on a transaction, recorded for the treasury export."""

    transaction = models.ForeignKey(
        PaymentTransaction,
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("payment transaction"),
    )
    amount_cents = models.PositiveIntegerField(
        _("amount (cents)"), validators=[MinValueValidator(1)]
    )
    reason = models.CharField(_("reason"), max_length=250)
    reference = models.CharField(_("booking reference"), max_length=64, blank=True)
    refunded_at = models.DateTimeField(_("refunded"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["refunded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="refund_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents / 100:.2f} EUR ({self.reason})"
