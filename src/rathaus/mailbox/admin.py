"""Administrators see deliveries, failed notifications and the retrieval log (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rathaus.core.admin_inlines import LabelledTabularInline
from rathaus.core.admin_lists import SafeDateHierarchy
from rathaus.mailbox.models import Message, MessageAttachment, PendingFileDeletion, RetrievalLog


class NotificationFilter(admin.SimpleListFilter):
    title = _("e-mail notification")
    parameter_name = "notification"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("sent", _("sent")), ("pending", _("pending")), ("failing", _("failing"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> QuerySet[Message]:
        if self.value() == "sent":
            return queryset.filter(notified_at__isnull=False)
        if self.value() == "pending":
            return queryset.filter(notified_at__isnull=True, from_citizen=False)
        if self.value() == "failing":
            return queryset.filter(notified_at__isnull=True).exclude(notification_error="")
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AttachmentInline(LabelledTabularInline):
    model = MessageAttachment
    fields = ["name", "content_type", "size", "sha256", "created_at"]
    readonly_fields = ["name", "content_type", "size", "sha256", "created_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(SafeDateHierarchy, ReadOnlyAdmin):
    list_display = [
        "subject",
        "kind",
        "case_number",
        "provided_at",
        "notified_at",
        "notification_attempts",
        "first_retrieved_at",
        "announced_on",
    ]
    list_filter = ["kind", NotificationFilter, "legal_effect"]
    search_fields = ["case_number", "owner__email", "=public_id"]
    readonly_fields = [f.name for f in Message._meta.fields]
    inlines = [AttachmentInline]
    date_hierarchy = "provided_at"


@admin.register(RetrievalLog)
class RetrievalLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "message", "user", "sha256", "ip_address"]
    list_filter = ["action"]
    search_fields = ["message__case_number", "=message__public_id", "user__email"]
    readonly_fields = [f.name for f in RetrievalLog._meta.fields]


@admin.register(PendingFileDeletion)
class PendingFileDeletionAdmin(ReadOnlyAdmin):
    """Stored files of deleted messages (account deletion) that the storage refused to delete;
    the periodic ``mailbox.tasks.queue_stranded_notifications`` tries them again."""

    list_display = ["storage_name", "attempts", "last_error", "created_at"]
