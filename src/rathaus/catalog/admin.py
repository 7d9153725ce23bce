"""Django admin for the catalog: service texts come from files, responsibilities are edited here.

Changes go into the audit trail (``rathaus.core.audit``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rathaus.catalog.models import LifeSituation, Responsibility, Service
from rathaus.core import audit
from rathaus.core.admin_audit import AuditedAdmin
from rathaus.core.admin_inlines import LabelledTabularInline
from rathaus.core.admin_lists import SafeAutocomplete

# Addresses typed without a scheme are taken as https:// (the Django 6 default).
HTTPS_URLS: dict[type, dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


def _responsibility_state(obj: Responsibility) -> dict[str, Any]:
    return {
        "service": obj.service.slug,
        "municipality": obj.municipality.slug,
        "authority": obj.authority_id,
        "local_fee": str(obj.local_fee) if obj.local_fee is not None else None,
    }


class ResponsibilityInline(SafeAutocomplete, LabelledTabularInline):
    model = Responsibility
    extra = 0
    fields = ["municipality", "authority", "local_fee", "local_fee_note_de", "local_fee_note_en"]
    autocomplete_fields = ["authority"]


@admin.register(LifeSituation)
class LifeSituationAdmin(AuditedAdmin):
    list_display = ["name_de", "name_en", "slug", "position"]
    readonly_fields = ["slug"]


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    """Every change to a service (trust level, online, fees …) goes into the audit trail
    (``AuditedAdmin``); its responsibilities are recorded by ``save_formset`` below."""

    formfield_overrides = HTTPS_URLS
    list_display = ["name_de", "slug", "leika_key", "trust_level", "online", "is_active"]
    list_filter = ["online", "trust_level", "fee_kind", "life_situations", "is_active"]
    search_fields = ["name_de", "name_en", "slug", "leika_key", "keywords"]
    readonly_fields = ["slug", "source_file", "updated_at"]
    filter_horizontal = ["life_situations"]
    inlines = [ResponsibilityInline]
    fieldsets = [
        (None, {"fields": ["slug", "leika_key", "name_de", "name_en", "is_active"]}),
        (
            _("Texts"),
            {
                "fields": [
                    "summary_de",
                    "summary_en",
                    "description_de",
                    "description_en",
                    "plain_language_de",
                    "keywords",
                ]
            },
        ),
        (
            _("Procedure"),
            {
                "fields": [
                    "trust_level",
                    "online",
                    "authority_kind",
                    "file_plan_key",
                    "processing_time_de",
                    "processing_time_en",
                    "legal_basis",
                    "documents",
                    "life_situations",
                ]
            },
        ),
        (_("Fees"), {"fields": ["fee_kind", "fees", "fee_note_de", "fee_note_en"]}),
        (
            _("External provider"),
            {"fields": ["external_provider_de", "external_provider_en", "external_url"]},
        ),
        (_("Source"), {"fields": ["source_file", "updated_at"]}),
    ]

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: Any, change: bool
    ) -> None:
        if formset.model is not Responsibility:
            super().save_formset(request, form, formset, change)
            return
        before = {
            obj.pk: _responsibility_state(obj)
            for obj in formset.get_queryset().select_related("service", "municipality")
        }
        instances = formset.save()
        for obj in instances:
            audit.record(
                actor=request.user,
                action="catalog.responsibility_saved",
                obj=obj,
                before=before.get(obj.pk),
                after=_responsibility_state(obj),
                municipality=obj.municipality,
            )
        for obj in formset.deleted_objects:
            audit.record(
                actor=request.user,
                action="catalog.responsibility_deleted",
                obj=obj,
                before=before.get(obj.pk),
                municipality=obj.municipality,
            )


@admin.register(Responsibility)
class ResponsibilityAdmin(SafeAutocomplete, admin.ModelAdmin):
    list_display = ["service", "municipality", "authority", "local_fee"]
    list_filter = ["municipality", "authority__municipality", "service__life_situations"]
    search_fields = ["service__name_de", "authority__name", "municipality__name"]
    list_select_related = ["service", "municipality", "authority__municipality"]
    autocomplete_fields = ["service", "authority"]

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        assert isinstance(obj, Responsibility)
        before = None
        if change and obj.pk:
            old = Responsibility.objects.select_related("service", "municipality").get(pk=obj.pk)
            before = _responsibility_state(old)
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="catalog.responsibility_saved",
            obj=obj,
            before=before,
            after=_responsibility_state(obj),
            municipality=obj.municipality,
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        assert isinstance(obj, Responsibility)
        audit.record(
            actor=request.user,
            action="catalog.responsibility_deleted",
            obj=obj,
            before=_responsibility_state(obj),
            municipality=obj.municipality,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Responsibility]) -> None:
        """ "Delete selected" in the list: audited like a single deletion."""
        with transaction.atomic():
            for responsibility in queryset.select_related("service", "municipality"):
                self.delete_model(request, responsibility)
