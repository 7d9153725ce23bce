"""Django admin: staff memberships and routing are configuration (audited: they decide who
sees which cases); cases are read-only here (clerks work in the back office, where every change
goes through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rathaus.casework import memberships
from rathaus.casework.models import (
    Case,
    CaseEvent,
    Notice,
    PostalDeliveryTask,
    ServiceRouting,
    StaffMembership,
)
from rathaus.casework.selectors import cases_visible_to
from rathaus.core.admin_audit import AuditedAdmin
from rathaus.core.admin_inlines import LabelledTabularInline
from rathaus.core.admin_lists import SafeAutocomplete


@admin.register(StaffMembership)
class StaffMembershipAdmin(SafeAutocomplete, AuditedAdmin):
    list_display = ["user", "org_unit"]
    list_filter = ["org_unit__authority__municipality", "org_unit__authority"]
    search_fields = ["user__email", "org_unit__code", "org_unit__name"]
    list_select_related = ["user", "org_unit__authority"]
    autocomplete_fields = ["org_unit"]
    raw_id_fields = ["user"]

    # A membership that ends unassigns the cases that rested on it (casework.memberships),
    # audited with the administrator who ended it.
    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        with memberships.changed_by(request.user):
            super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with memberships.changed_by(request.user):
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with memberships.changed_by(request.user):
            super().delete_queryset(request, queryset)


@admin.register(ServiceRouting)
class ServiceRoutingAdmin(SafeAutocomplete, AuditedAdmin):
    list_display = ["service", "authority", "org_unit"]
    list_filter = ["authority__municipality", "authority"]
    search_fields = ["service__name_de", "authority__name", "org_unit__code"]
    list_select_related = ["service", "authority", "org_unit"]
    autocomplete_fields = ["authority", "org_unit"]


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseEventInline(LabelledTabularInline):
    model = CaseEvent
    fields = ("at", "kind", "from_status", "to_status", "actor_label", "citizen_visible", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(_ReadOnly):
    list_display = ["number", "service", "authority", "org_unit", "status", "due_on"]
    list_filter = ["status", "authority__municipality", "service"]
    search_fields = ["number"]
    list_select_related = ["service", "authority", "org_unit"]
    exclude = ["particulars"]
    inlines = [CaseEventInline]


#: Set on the notice the admin shows: whether its viewer sees the case in the back office.
_VIEWER_SEES_CASE = "_admin_viewer_sees_case"


@admin.register(Notice)
class NoticeAdmin(_ReadOnly):
    list_display = ["title", "case", "status", "outcome", "issued_at", "ledger_code"]
    list_filter = ["status", "outcome"]
    search_fields = ["case__number", "ledger_code"]
    list_select_related = ["case"]
    # The stored file has no address of its own (/media/ serves no notices), so not its
    # FileField, whose read-only display links there.
    exclude = ["pdf"]
    readonly_fields = ["pdf_download"]

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Notice | None:
        notice = super().get_object(request, object_id, from_field)
        if notice is not None:
            sees = cases_visible_to(request.user).filter(pk=notice.case_id).exists()
            setattr(notice, _VIEWER_SEES_CASE, sees)
        return notice

    @admin.display(description=gettext_lazy("PDF"))
    def pdf_download(self, notice: Notice) -> SafeString | str | None:
        """A link to the back office, which hands the PDF out checked against the SHA-256 it
        was sealed with, for a viewer who sees the case there; no link for anyone else (it
        would only be refused)."""
        if not notice.pdf:
            return None
        if getattr(notice, _VIEWER_SEES_CASE, False):
            url = reverse("backoffice:notice_pdf", args=[notice.case_id, notice.pk])
            return format_html('<a href="{}">{}</a>', url, _("Download in the back office"))
        return _("Only staff who work on the case download it, in the back office.")


@admin.register(PostalDeliveryTask)
class PostalDeliveryTaskAdmin(_ReadOnly):
    list_display = ["case", "kind", "authority", "status", "created_at", "sent_on"]
    list_filter = ["kind", "status", "authority"]
    list_select_related = ["case", "authority"]
