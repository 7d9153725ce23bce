from django.contrib import admin
from django.http import HttpRequest

from rathaus.core.admin_audit import AuditedAdmin
from rathaus.core.admin_lists import SafeDateHierarchy
from rathaus.registers.models import Election, LandlordConfirmation


@admin.register(Election)
class ElectionAdmin(SafeDateHierarchy, AuditedAdmin):
    """Elections and their postal vote deadlines decide whose applications are accepted:
    every change is audited."""

    list_display = [
        "name",
        "municipality",
        "election_day",
        "vote_key",
        "minimum_age",
        "postal_vote_deadline",
    ]
    list_filter = ["municipality", "minimum_age"]
    search_fields = ["name", "vote_key"]
    date_hierarchy = "election_day"


@admin.register(LandlordConfirmation)
class LandlordConfirmationAdmin(SafeDateHierarchy, admin.ModelAdmin[LandlordConfirmation]):
    """Read-only: a confirmation is issued by the landlord and logged; it is never edited."""

    list_display = ["code", "street", "house_number", "place", "move_in_date", "revoked_at"]
    list_filter = ["authority"]
    search_fields = ["code", "street", "postal_code", "landlord_name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
