from django.contrib import admin

from rathaus.core.admin_lists import SafeDateHierarchy
from rathaus.portal.models import AccessibilityFeedback


@admin.register(AccessibilityFeedback)
class AccessibilityFeedbackAdmin(SafeDateHierarchy, admin.ModelAdmin[AccessibilityFeedback]):
    list_display = ["created_at", "page_url", "name", "email", "answered_at"]
    list_filter = ["answered_at"]
    search_fields = ["message", "page_url", "name", "email"]
    readonly_fields = ["created_at", "name", "email", "message", "page_url", "language", "user"]
    date_hierarchy = "created_at"
