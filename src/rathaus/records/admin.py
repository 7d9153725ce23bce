"""Django admin for the E-Akte: file plans are edited (or imported from CSV) here; files,
documents and versions are read-only, their changes go through :mod:`rathaus.records.services`.

Every change made here goes into the audit trail (``rathaus.core.audit``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Model, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rathaus.core import audit
from rathaus.core.admin_inlines import LabelledTabularInline
from rathaus.core.admin_lists import SafeAutocomplete, SafeDateHierarchy
from rathaus.core.models import Authority
from rathaus.records import file_plan, preservation, selectors
from rathaus.records.disposal import place_hold, release_hold
from rathaus.records.disposal_admin import DisposalStepsAdmin
from rathaus.records.errors import PlanImportError, RecordsError
from rathaus.records.models import (
    ArchiveTimestamp,
    DisposalItem,
    DisposalRecord,
    DisposalRun,
    DocumentVersion,
    File,
    FilePlan,
    LegalHold,
    PendingContentDeletion,
    PlanEntry,
    RecordDocument,
)
from rathaus.records.services import import_file_plan

MAX_CSV_BYTES = 5 * 1024 * 1024


def _entry_state(entry: PlanEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "title": entry.title,
        "retention_years": entry.retention_years,
        "retention_permanent": entry.retention_permanent,
        "retention_trigger": entry.retention_trigger,
        "disposal_action": entry.disposal_action,
        "is_active": entry.is_active,
    }


def _plan_state(plan: FilePlan) -> dict[str, Any]:
    return {
        "authority": plan.authority_id,
        "name": plan.name,
        "reference_format": plan.reference_format,
        "unit_reference_format": plan.unit_reference_format,
    }


class PlanEntryFormSet(forms.BaseInlineFormSet):
    """Checks the plan as a whole: every entry's group exists (saved or added in the same
    submission) and keys stay fixed once files may use them. Entries with files or with
    entries below them are protected from deletion by the admin itself (``on_delete=PROTECT``)."""

    def clean(self) -> None:
        super().clean()
        plan = self.instance
        stored = set(plan.entries.values_list("key", flat=True)) if plan.pk else set()
        should_delete = self._should_delete_form  # type: ignore[attr-defined]
        forms_alive = [f for f in self.forms if f.is_valid() and not should_delete(f)]
        deleted = [f for f in self.forms if f.instance.pk and should_delete(f)]
        deleted_keys = {f.instance.key for f in deleted}
        keys = (stored - deleted_keys) | {
            f.cleaned_data["key"] for f in forms_alive if f.cleaned_data.get("key")
        }
        seen: set[str] = set()
        for form in forms_alive:
            key = form.cleaned_data.get("key")
            if not key:
                continue
            if key in seen:
                form.add_error("key", _("This key appears twice."))
            seen.add(key)
            if form.instance.pk and "key" in form.changed_data:
                form.add_error(
                    "key",
                    _(
                        "The key of an existing entry cannot be changed; add a new entry and "
                        "deactivate this one."
                    ),
                )
                continue
            above = file_plan.parent_key(key)
            if above is not None and above not in keys:
                form.add_error(
                    "key",
                    _("The group %(parent)s above %(key)s does not exist in this plan.")
                    % {"parent": above, "key": key},
                )


class PlanEntryInline(LabelledTabularInline):
    model = PlanEntry
    formset = PlanEntryFormSet
    extra = 1
    fields = [
        "key",
        "title",
        "retention_years",
        "retention_permanent",
        "retention_trigger",
        "disposal_action",
        "is_active",
    ]


class ImportForm(forms.Form):
    authority = forms.ModelChoiceField(
        label=_("Authority"),
        queryset=Authority.objects.select_related("municipality"),
    )
    name = forms.CharField(
        label=_("Name of the plan"),
        max_length=200,
        required=False,
        help_text=_("Empty: keep the current name."),
    )
    csv_file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns key, title, retention_years, retention_trigger, disposal, description; "
            "UTF-8, separated by commas or semicolons."
        ),
    )

    def clean_csv_file(self) -> str:
        upload = self.cleaned_data["csv_file"]
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(_("The file is larger than 5 MB."))
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise ValidationError(_("The file is not UTF-8 text.")) from exc


@admin.register(FilePlan)
class FilePlanAdmin(SafeAutocomplete, admin.ModelAdmin):
    list_display = ["name", "authority", "entry_count"]
    list_filter = ["authority__municipality"]
    search_fields = ["name", "authority__name", "authority__municipality__name"]
    list_select_related = ["authority__municipality"]
    autocomplete_fields = ["authority"]
    inlines = [PlanEntryInline]
    change_list_template = "admin/records/fileplan/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[FilePlan]:
        return super().get_queryset(request).annotate(_entries=Count("entries"))

    @admin.display(description=_("entries"), ordering="_entries")
    def entry_count(self, obj: FilePlan) -> int:
        return int(getattr(obj, "_entries", 0))

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return ["authority"] if obj is not None else []

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="records_fileplan_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                plan = import_file_plan(
                    authority=form.cleaned_data["authority"],
                    csv_text=form.cleaned_data["csv_file"],
                    name=form.cleaned_data["name"],
                    actor=request.user,
                )
            except PlanImportError as exc:
                for row, reason in exc.problems:
                    form.add_error(
                        "csv_file",
                        gettext("Row %(row)s: %(reason)s") % {"row": row, "reason": reason},
                    )
            except RecordsError as exc:
                form.add_error("csv_file", str(exc))
            else:
                self.message_user(
                    request,
                    gettext("The file plan “%(plan)s” now has %(count)d entries.")
                    % {"plan": plan.name, "count": plan.entries.count()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:records_fileplan_change", args=[plan.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import a file plan from CSV"),
            "form": form,
        }
        return TemplateResponse(request, "admin/records/fileplan/import.html", context)

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        assert isinstance(obj, FilePlan)
        before = _plan_state(FilePlan.objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="records.file_plan_saved",
            obj=obj,
            before=before,
            after=_plan_state(obj),
            municipality=obj.authority.municipality,
        )

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: Any, change: bool
    ) -> None:
        if formset.model is not PlanEntry:
            super().save_formset(request, form, formset, change)
            return
        plan = form.instance
        before = {e.pk: _entry_state(e) for e in formset.get_queryset()}
        instances = formset.save(commit=False)
        for entry in formset.deleted_objects:
            audit.record(
                actor=request.user,
                action="records.plan_entry_deleted",
                obj=entry,
                before=before.get(entry.pk),
                municipality=plan.authority.municipality,
            )
        # Deepest first, so nothing is deleted while entries below it still exist.
        for entry in sorted(
            formset.deleted_objects, key=lambda e: file_plan.sort_key(e.key), reverse=True
        ):
            entry.delete()
        # Groups before the entries below them, so each finds its group.
        for entry in sorted(instances, key=lambda e: file_plan.sort_key(e.key)):
            entry.plan = plan
            entry.save()
            audit.record(
                actor=request.user,
                action="records.plan_entry_saved",
                obj=entry,
                before=before.get(entry.pk),
                after=_entry_state(entry),
                municipality=plan.authority.municipality,
            )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        assert isinstance(obj, FilePlan)
        audit.record(
            actor=request.user,
            action="records.file_plan_deleted",
            obj=obj,
            before=_plan_state(obj),
            municipality=obj.authority.municipality,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FilePlan]) -> None:
        """ "Delete selected" in the list: audited like a single deletion."""
        with transaction.atomic():
            for plan in queryset.select_related("authority__municipality"):
                self.delete_model(request, plan)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Files and documents change only through the services (and are audited there)."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class RecordDocumentInline(LabelledTabularInline):
    model = RecordDocument
    fields = ["title", "kind", "created_at", "created_by"]
    readonly_fields = ["title", "kind", "created_at", "created_by"]
    extra = 0
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class OnHoldFilter(admin.SimpleListFilter):
    title = _("legal hold")
    parameter_name = "on_hold"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("on hold")), ("no", _("not on hold"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        held = selectors.held()
        if self.value() == "yes":
            return queryset.filter(held)
        if self.value() == "no":
            return queryset.exclude(held)
        return queryset


class LegalHoldInline(LabelledTabularInline):
    model = LegalHold
    fk_name = "file"
    fields = readonly_fields = (
        "reason",
        "note",
        "placed_at",
        "placed_by",
        "released_at",
        "released_by",
    )
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(File)
class FileAdmin(SafeDateHierarchy, ReadOnlyAdmin):
    list_display = [
        "reference",
        "title",
        "authority",
        "opened_at",
        "closed_on",
        "disposal_due_on",
        "disposed_on",
    ]
    list_filter = [
        "authority__municipality",
        OnHoldFilter,
        "disposal_outcome",
        "closed_on",
        "disposal_due_on",
    ]
    search_fields = ["reference", "title"]
    list_select_related = ["authority__municipality"]
    date_hierarchy = "opened_at"
    inlines = [LegalHoldInline, RecordDocumentInline]


class LegalHoldForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ["file", "reason", "note"]


@admin.register(LegalHold)
class LegalHoldAdmin(SafeAutocomplete, admin.ModelAdmin):
    """Placing a hold is adding one here; releasing is the list action. Both go through
    :mod:`rathaus.records.disposal` and are audited there; a hold is never edited or deleted."""

    form = LegalHoldForm
    list_display = ["file", "reason", "note", "placed_at", "placed_by", "released_at"]
    list_filter = ["reason", ("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["file__reference", "note"]
    list_select_related = ["file", "placed_by"]
    autocomplete_fields = ["file"]
    actions = ["release"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        if obj is None:
            return []
        return ["file", "reason", "note", "placed_at", "placed_by", "released_at", "released_by"]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        assert isinstance(obj, LegalHold)
        if change:  # every field is read-only once placed
            return
        try:
            hold = place_hold(file=obj.file, reason=obj.reason, note=obj.note, actor=request.user)
        except RecordsError as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = hold.pk
        obj.placed_at = hold.placed_at

    @admin.action(description=_("Release the selected legal holds"), permissions=["change"])
    def release(self, request: HttpRequest, queryset: QuerySet[LegalHold]) -> None:
        released = 0
        for hold in queryset.filter(released_at__isnull=True):
            try:
                release_hold(hold=hold, actor=request.user)
            except RecordsError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                released += 1
        self.message_user(
            request,
            gettext("%d legal holds released.") % released,
            messages.SUCCESS,
        )


class DisposalItemInline(LabelledTabularInline):
    model = DisposalItem
    fields = readonly_fields = (
        "file",
        "active",
        "offered",
        "decision",
        "transferred",
        "archive_signature",
        "confirmed_at",
        "disposed_at",
        "note",
    )
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(DisposalRun)
class DisposalRunAdmin(DisposalStepsAdmin, ReadOnlyAdmin):
    """Runs are read here and driven by the buttons of their steps (``disposal_admin``) or the
    ``disposal_*`` commands (docs/records.md); their fields are never edited."""

    list_display = ["pk", "authority", "state", "started_at", "approved_by_label", "completed_at"]
    list_filter = ["state", "authority__municipality"]
    search_fields = ["process_id", "items__file__reference"]
    list_select_related = ["authority__municipality"]
    inlines = [DisposalItemInline]
    readonly_fields = ["progress"]

    @admin.display(description=_("progress"))
    def progress(self, run: DisposalRun) -> str:
        """How far the disposal got: the page the records office reloads while the job runs."""
        counts = run.items.filter(active=True).aggregate(
            total=Count("pk"),
            disposed=Count("pk", filter=Q(disposed_at__isnull=False)),
            kept=Count("pk", filter=Q(disposed_at__isnull=True) & ~Q(note="")),
        )
        counts["pending"] = PendingContentDeletion.objects.filter(item__run=run).count()
        return (
            gettext(
                "%(disposed)d of %(total)d files disposed of, %(kept)d kept (see their notes), "
                "%(pending)d stored contents still to be deleted."
            )
            % counts
        )


@admin.register(DisposalRecord)
class DisposalRecordAdmin(ReadOnlyAdmin):
    """Aussonderungsnachweise: proofs, never changed."""

    list_display = [
        "reference",
        "authority",
        "plan_key",
        "outcome",
        "archive_signature",
        "disposed_at",
        "approved_by_label",
    ]
    list_filter = ["outcome", "authority__municipality"]
    search_fields = ["reference", "archive_signature", "plan_key"]
    list_select_related = ["authority__municipality"]


@admin.register(PendingContentDeletion)
class PendingContentDeletionAdmin(ReadOnlyAdmin):
    """Contents of disposed files whose deletion from the storage is still to be retried."""

    list_display = ["storage_name", "item", "attempts", "last_error"]


@admin.register(ArchiveTimestamp)
class ArchiveTimestampAdmin(ReadOnlyAdmin):
    """The archive time stamps of sealed PDF versions and their renewal (records/preservation.py);
    a failing renewal shows its problem here (filter by the failed attempt)."""

    list_display = [
        "version",
        "expires_at",
        "imprint_algorithm",
        "signature_algorithm",
        "signature_key",
        "due_because",
        "renewed_by",
        "problem_at",
        "problem",
    ]
    list_filter = [
        "problem_at",
        "expires_at",
        "imprint_algorithm",
        "signature_algorithm",
        "signature_mechanism",
        "key_algorithm",
    ]
    list_select_related = ["version__document__file", "renewed_by__document__file"]
    search_fields = ["version__document__file__reference"]

    @admin.display(description=_("time-stamp signature"))
    def signature_key(self, obj: ArchiveTimestamp) -> str:
        """The TSA's scheme with its key length, e.g. RSA-3072."""
        return preservation.algorithms_of(obj).key_label()

    @admin.display(description=_("renewal due because"))
    def due_because(self, obj: ArchiveTimestamp) -> str:
        """Why the daily job renews the stamp (or tried to): its TSA certificate expires soon,
        a hash it uses, its TSA's signature scheme or key length is weak. Empty when none, or
        when it was renewed."""
        if obj.renewed_by_id is not None or obj.expires_at is None:
            return ""
        reasons = []
        if obj.expires_at <= timezone.now() + preservation.renew_within():
            reasons.append(gettext("certificate expires soon"))
        try:
            weakness = preservation.renewal_weakness()
        except ImproperlyConfigured:
            reasons.append(gettext("algorithm settings invalid (manage.py check --deploy)"))
        else:
            if weak := preservation.weak_algorithms_of(obj, weakness):
                reasons.append(gettext("weak hash: %(names)s") % {"names": ", ".join(weak)})
            if weak := preservation.weak_signature_of(obj, weakness):
                reasons.append(gettext("weak signature: %(names)s") % {"names": ", ".join(weak)})
        return "; ".join(reasons)


class DocumentVersionInline(LabelledTabularInline):
    model = DocumentVersion
    fields = ["number", "original_name", "content_type", "size", "sha256", "author_label"]
    readonly_fields = ["number", "original_name", "content_type", "size", "sha256", "author_label"]
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(RecordDocument)
class RecordDocumentAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "file", "created_at"]
    list_filter = ["kind"]
    search_fields = ["title", "file__reference"]
    list_select_related = ["file"]
    inlines = [DocumentVersionInline]
