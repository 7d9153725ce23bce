"""Admin: provider settings per municipality (secret write-only) and read-only transactions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rathaus.core import audit
from rathaus.core.admin_inlines import LabelledTabularInline
from rathaus.payments.models import PaymentStatusChange, PaymentTransaction, ProviderConfig, Refund
from rathaus.payments.selectors import refunds_due
from rathaus.payments.services import record_refund


class ProviderConfigForm(forms.ModelForm):
    base_url = forms.URLField(label=_("base URL"), assume_scheme="https", max_length=200)
    secret = forms.CharField(
        label=_("password or token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored value."),
    )

    class Meta:
        model = ProviderConfig
        fields = [
            "municipality",
            "provider",
            "enabled",
            "base_url",
            "originator_id",
            "endpoint_id",
            "auth_scheme",
            "username",
            "secret",
            "timeout_seconds",
        ]

    def clean_secret(self) -> str:
        value: str = self.cleaned_data.get("secret", "")
        if not value and self.instance.pk:
            return self.instance.secret
        return value

    @property
    def secret_changed(self) -> bool:
        """Whether a new secret was entered: the field is always shown empty, so Django's
        ``changed_data`` names it on every save (empty posted, stored value as initial)."""
        entered = self.cleaned_data.get("secret", "")
        return bool(entered) and entered != (self.initial.get("secret") or "")


#: What the audit trail records of a provider's settings: everything but the secret.
AUDITED_PROVIDER_FIELDS = (
    "provider",
    "enabled",
    "base_url",
    "originator_id",
    "endpoint_id",
    "auth_scheme",
    "username",
    "timeout_seconds",
)


def _provider_settings(config: ProviderConfig) -> dict[str, Any]:
    """The audited settings of ``config``: never its secret, only whether one is stored."""
    return {
        "municipality": config.municipality_id,
        **{name: getattr(config, name) for name in AUDITED_PROVIDER_FIELDS},
        "effective_endpoint_id": config.effective_endpoint_id,
        "secret_set": bool(config.secret),
    }


@admin.register(ProviderConfig)
class ProviderConfigAdmin(admin.ModelAdmin):
    """The secret is write-only: the form shows it empty, and the page never shows its value,
    to nobody, not even read-only: whoever may only view sees "set" or "not set"."""

    form = ProviderConfigForm
    list_display = ["municipality", "provider", "originator_id", "endpoint_id", "enabled"]
    readonly_fields = ["secret_state"]

    @admin.display(description=_("password or token stored"))
    def secret_state(self, obj: ProviderConfig | None) -> str:
        stored = obj is not None and bool(obj.secret)
        return str(pgettext_lazy("secret", "set") if stored else pgettext_lazy("secret", "not set"))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            # read-only, Django would show every field's value as text: the secret's too
            fields = [name for name in fields if name != "secret"]
        return fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        stored = ProviderConfig.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="payment_provider.changed" if change else "payment_provider.created",
            obj=obj,
            before=_provider_settings(stored) if stored is not None else None,
            after={**_provider_settings(obj), "secret_changed": form.secret_changed},
            municipality=obj.municipality,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            self._record_deletion(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._record_deletion(request, obj)
            super().delete_queryset(request, queryset)

    @staticmethod
    def _record_deletion(request: HttpRequest, obj: Any) -> None:
        """Without its provider a municipality takes no online payments: audited too."""
        audit.record(
            actor=request.user,
            action="payment_provider.deleted",
            obj=obj,
            before=_provider_settings(obj),
            municipality=obj.municipality,
        )


class StatusChangeInline(LabelledTabularInline):
    model = PaymentStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_status", "to_status", "source", "detail"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundInline(LabelledTabularInline):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = ["refunded_at", "amount_cents", "reason", "reference", "created_by"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundDueFilter(admin.SimpleListFilter):
    """Payments no matter takes (paid twice, or paid for a matter deleted unpaid) whose refunds
    do not yet add up to the amount: the operator's to-do list."""

    title = _("refund outstanding")
    parameter_name = "refund_outstanding"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("yes"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(pk__in=refunds_due().values("pk"))
        return queryset


@admin.register(PaymentTransaction)
class PaymentTransactionAdmin(admin.ModelAdmin):
    list_display = [
        "request_id",
        "municipality",
        "case_reference",
        "amount_cents",
        "status",
        "cash_reference",
        "duplicate",
        "refund_outstanding",
        "created_at",
    ]
    list_filter = [RefundDueFilter, "status", "duplicate", "municipality"]
    search_fields = ["request_id", "provider_transaction_id", "cash_reference", "case_reference"]
    inlines = [StatusChangeInline, RefundInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in PaymentTransaction._meta.fields]

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            super()
            .get_queryset(request)
            .annotate(refunded_total=Coalesce(Sum("refunds__amount_cents"), 0))
        )

    @admin.display(boolean=True, description=_("refund outstanding"))
    def refund_outstanding(self, obj: PaymentTransaction) -> bool:
        """Paid for no matter (twice, or for one deleted unpaid) and not yet fully refunded."""
        return obj.refund_due and getattr(obj, "refunded_total", 0) < obj.amount_cents

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundForm(forms.ModelForm):
    class Meta:
        model = Refund
        fields = ["transaction", "amount_cents", "reason", "reference"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        tx, amount = data.get("transaction"), data.get("amount_cents")
        if tx is not None and amount is not None:
            if tx.status != "PAYED":
                self.add_error("transaction", _("Only a paid transaction can be refunded."))
            elif tx.refunded_cents + amount > tx.amount_cents:
                self.add_error("amount_cents", _("The refunds would exceed the amount paid."))
        return data


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    """Record a refund; it goes through the service (lock, limit, audit), never edited later."""

    form = RefundForm
    list_display = ["transaction", "amount_cents", "reason", "refunded_at", "created_by"]
    raw_id_fields = ["transaction"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Refund._meta.fields] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        try:
            refund = record_refund(
                transaction=obj.transaction,
                amount_cents=obj.amount_cents,
                reason=obj.reason,
                reference=obj.reference,
                actor=request.user,
            )
        except ValueError as exc:  # another refund recorded since the form was checked
            raise PermissionDenied(str(exc)) from exc
        obj.pk = refund.pk
        obj.refunded_at = refund.refunded_at
