"""Django admin for tenancy (audited) and the (read-only) audit trail."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rathaus.core.admin_audit import AuditedAdmin
from rathaus.core.admin_inlines import LabelledTabularInline
from rathaus.core.admin_lists import SafeDateHierarchy
from rathaus.core.models import AuditEvent, Authority, Municipality, OrgUnit

# Addresses typed without a scheme are taken as https:// (the Django 6 default).
HTTPS_URLS: dict[type, dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


class AuthorityForm(forms.ModelForm):
    """An authority's municipality and kind are fixed once anything refers to the authority
    (its org units, cases, applications, files, responsibilities, messages, GovChain entries):
    moved, it would take one municipality's cases into another's back office and file plan;
    another kind would make every document it issued fail verification. (The admin adds the
    model and fields, with its URL field overrides; the municipality's inline uses it too.)"""

    def clean_kind(self) -> str:
        """The kind is fixed once anything refers to the authority: documents it issued record
        it in the GovChain log, and the verification compares it with the current kind."""
        kind: str = self.cleaned_data.get("kind", "")
        authority = self.instance
        if authority.pk is not None and kind != authority.kind and _referred_to(authority):
            raise ValidationError(
                _(
                    "The kind of this authority cannot change: documents and records already "
                    "refer to it, and the verification of its documents would fail. Create a "
                    "new authority instead."
                ),
                code="authority_kind_in_use",
            )
        return kind

    def clean_municipality(self) -> Municipality | None:
        municipality: Municipality | None = self.cleaned_data.get("municipality")
        authority = self.instance
        if (
            authority.pk is not None
            and municipality is not None
            and municipality.pk != authority.municipality_id
            and _referred_to(authority)
        ):
            raise ValidationError(
                _(
                    "This authority cannot move to another municipality: cases, files or "
                    "other records already refer to it. Create a new authority in the other "
                    "municipality instead."
                ),
                code="authority_in_use",
            )
        return municipality


class AuthorityInline(LabelledTabularInline):
    formfield_overrides = HTTPS_URLS
    model = Authority
    form = AuthorityForm
    fields = ["kind", "name", "address"]
    extra = 0
    show_change_link = True


class OrgUnitInline(LabelledTabularInline):
    model = OrgUnit
    extra = 0


class MunicipalityForm(forms.ModelForm):
    """A municipality's AGS is fixed once anything refers to one of its authorities: every
    document they issued records it in the GovChain log, and the verification compares it with
    the municipality's current AGS, so a changed AGS would make them all fail verification (a
    territorial reform makes a new municipality)."""

    def clean_ags(self) -> str:
        ags: str = self.cleaned_data.get("ags", "")
        municipality = self.instance
        if (
            municipality.pk is not None
            and ags != municipality.ags
            and any(_referred_to(authority) for authority in municipality.authorities.all())
        ):
            raise ValidationError(
                _(
                    "The official municipality key cannot change: documents and records of "
                    "this municipality's authorities already carry it, and their verification "
                    "would fail."
                ),
                code="ags_in_use",
            )
        return ags


@admin.register(Municipality)
class MunicipalityAdmin(AuditedAdmin):
    form = MunicipalityForm
    list_display = ["name", "ags", "state", "slug"]
    search_fields = ["name", "ags"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AuthorityInline]


@admin.register(Authority)
class AuthorityAdmin(AuditedAdmin):
    form = AuthorityForm
    formfield_overrides = HTTPS_URLS
    list_display = ["name", "kind", "municipality"]
    list_filter = ["municipality", "kind"]
    search_fields = ["name", "address"]
    list_select_related = ["municipality"]
    inlines = [OrgUnitInline]


@admin.register(OrgUnit)
class OrgUnitAdmin(AuditedAdmin):
    """A unit's authority is fixed once anything refers to the unit (its cases, files, staff
    memberships, routings): moved, it would take the old authority's work with it."""

    list_display = ["code", "name", "authority"]
    list_filter = ["authority__municipality"]
    search_fields = ["code", "name", "authority__name"]
    list_select_related = ["authority__municipality"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk is not None and _referred_to(obj):
            fields.append("authority")
        return fields


def _referred_to(obj: models.Model) -> bool:
    """Whether any row of any module points to ``obj`` (found through the model registry, so
    the kernel needs to know none of the modules above it), also through a foreign key without
    a reverse name (``related_name="+"``)."""
    for relation in obj._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete or relation.many_to_many:
            continue
        model = relation.related_model
        if model is None or isinstance(model, str):  # pragma: no cover - resolved once loaded
            continue
        field = relation.field  # type: ignore[union-attr]
        if model._base_manager.filter(**{field.name: obj}).exists():
            return True
    return False


@admin.register(AuditEvent)
class AuditEventAdmin(SafeDateHierarchy, admin.ModelAdmin):
    """The audit trail is append-only: it can be read here, never added, changed or deleted."""

    list_display = ["at", "action", "object_type", "object_id", "actor_label", "municipality"]
    list_filter = ["action", "object_type", "municipality"]
    search_fields = ["object_id", "actor_label", "action"]
    date_hierarchy = "at"
    list_select_related = ["municipality"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
