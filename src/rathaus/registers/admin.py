from typing import Any

from django.contrib import admin, messages
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rathaus.core.admin_audit import AuditedAdmin
from rathaus.core.admin_lists import SafeDateHierarchy
from rathaus.registers.forms import ElectionAdminForm
from rathaus.registers.models import Election, LandlordConfirmation


@admin.register(Election)
class ElectionAdmin(SafeDateHierarchy, AuditedAdmin):
    """Elections and their postal vote deadlines decide whose applications are accepted:
    every change is audited. Moving the election day moves a default deadline with it
    (``ElectionAdminForm``)."""

    form = ElectionAdminForm
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

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        moved = getattr(form, "moved_deadline", None)
        if moved is not None:
            self.message_user(
                request,
                _("The application deadline moved with the election day to %(deadline)s.")
                % {
                    "deadline": formats.date_format(
                        timezone.localtime(moved), "SHORT_DATETIME_FORMAT"
                    )
                },
                messages.INFO,
            )


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
