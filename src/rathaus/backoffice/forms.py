"""The forms of the case page and the queue's bulk assignment: parse input, nothing else."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import User
from rathaus.casework.models import Case, Notice
from rathaus.casework.services import MAX_CASES_PER_ASSIGNMENT
from rathaus.core.models import OrgUnit
from rathaus.core.uploads import UploadPolicy, check_upload


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _user_label(user: User) -> str:
    name = user.get_full_name()
    return f"{name} ({user.email})" if name else user.email


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _user_label(obj)


#: Said when a hidden value of the page is missing or damaged (a person never types one).
_DAMAGED_FORM = _("This form is incomplete or damaged. Please reload the page and try again.")


class ShownField(forms.IntegerField):
    """A hidden number from the page the person read (a notice's version, the id of the clerk
    or unit shown; 0 for none). The casework service compares it with the current value, so
    that an old page cannot act on what changed since."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 2**63 - 1)
        kwargs.setdefault(
            "error_messages",
            dict.fromkeys(("required", "invalid", "min_value", "max_value"), _DAMAGED_FORM),
        )
        super().__init__(**kwargs)


class AssignForm(forms.Form):
    """Assign a case to a clerk and/or an org unit; clerks may only take a case themselves.

    The clerk "Nobody" together with another unit moves the case there unassigned
    (``cleaned_data["unassign"]``); "Nobody" alone changes nothing and is refused.
    """

    assignee = StaffChoiceField(
        label=_("Clerk"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
        help_text=_("A case moved to another unit with “Nobody” is no longer assigned to anyone."),
    )
    org_unit = forms.ModelChoiceField(
        label=_("Org unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("Keep the current unit"),
    )

    def __init__(
        self,
        *args: Any,
        staff: QuerySet[User],
        units: QuerySet[OrgUnit],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff  # type: ignore[attr-defined]
        self.fields["org_unit"].queryset = units  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("assignee") and not data.get("org_unit"):
            raise forms.ValidationError(_("Choose a clerk or an org unit."))
        data["unassign"] = not data.get("assignee") and bool(data.get("org_unit"))
        return data


class CaseAssignForm(AssignForm):
    """The case page's assignment: also the clerk and unit the page showed (0: none), so that
    a form read before a colleague assigned the case cannot undo that assignment."""

    shown_assignee = ShownField()
    shown_unit = ShownField()

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "assignee": case.assigned_to_id,
            "shown_assignee": case.assigned_to_id or 0,
            "shown_unit": case.org_unit_id or 0,
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)


class TakeOverForm(forms.Form):
    """ "Take over the case": only the clerk and unit the page showed (0: none), so that a page
    read before a colleague took the case (or was given it) cannot take it from them."""

    shown_assignee = ShownField()
    shown_unit = ShownField()

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "shown_assignee": case.assigned_to_id or 0,
            "shown_unit": case.org_unit_id or 0,
        }
        super().__init__(*args, **kwargs)


#: The range of a database id (bigint); larger numbers cannot be one and overflow the driver.
_ID_RANGE = range(-(2**63), 2**63)


class CaseChoiceField(forms.ModelMultipleChoiceField):
    """Cases by id, each once, at most ``limit`` of them. An id outside the database's range is
    an invalid choice like any other unknown id, not a query the database driver refuses with
    an overflow; an id sent twice counts once."""

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def clean(self, value: Any) -> QuerySet[Any]:
        if isinstance(value, list | tuple):
            value = list(dict.fromkeys(value))
            if len(value) > self.limit:
                raise forms.ValidationError(
                    _(
                        "At most %(limit)d cases can be assigned at once; you selected "
                        "%(count)d. Assign them in several steps."
                    ),
                    code="too_many",
                    params={"limit": self.limit, "count": len(value)},
                )
        for pk in value if isinstance(value, list) else ():
            try:
                number = int(pk)
            except (TypeError, ValueError):
                continue  # not a number at all: Django reports it as an invalid value
            if number not in _ID_RANGE:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super().clean(value)


def shown_in_queue(assigned_to_id: int | None, org_unit_id: int | None) -> str:
    """The value of a queue row's ``bulk-shown-<id>``: the clerk and unit it showed (0: none)."""
    return f"{assigned_to_id or 0},{org_unit_id or 0}"


class BulkAssignForm(AssignForm):
    """Assign the cases selected in the queue. Each row of the queue also carries the clerk and
    unit it showed (``bulk-shown-<id>``, :func:`shown_in_queue`): ``cleaned_data["shown"]``
    maps each selected case's id to them, so that the casework service can refuse to undo an
    assignment a colleague made after the queue was read."""

    cases = CaseChoiceField(
        label=_("Cases"),
        queryset=Case.objects.none(),
        limit=MAX_CASES_PER_ASSIGNMENT,
        error_messages={
            "required": _("Select at least one case in the list."),
            # Not Django's message, which names the case by its database id. A case the user
            # cannot see is not named at all: its number would tell them of it.
            "invalid_choice": _(
                "At least one of the selected cases is no longer in your org units (a colleague "
                "may have moved it). None of the selected cases has been assigned; the list "
                "shows the cases as they are now."
            ),
        },
    )

    def __init__(self, *args: Any, visible: QuerySet[Case], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cases"].queryset = visible  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        cases = data.get("cases")
        if cases is not None:
            data["shown"] = {case.pk: self._shown(case.pk) for case in cases}
        return data

    def refuse(self, cases: list[Case]) -> None:
        """Refuse the selected ``cases`` the user may see but not assign (one moved to another
        unit of the authority since the queue was read, or their own application), by their
        numbers; the queue shown again no longer offers them."""
        self.add_error(
            "cases",
            forms.ValidationError(
                _(
                    "You may not assign these selected cases (for example because they now lie "
                    "in another org unit, or you applied for them yourself): %(cases)s. They are "
                    "no longer selected; none of the selected cases has been assigned."
                ),
                code="not_assignable",
                params={"cases": ", ".join(sorted(case.number for case in cases))},
            ),
        )

    def _shown(self, pk: int) -> tuple[int, int]:
        """(clerk id, unit id) the row of case ``pk`` showed; a missing, damaged or ambiguous
        value is a damaged form (a browser sends back exactly what the page held)."""
        name = self.add_prefix(f"shown-{pk}")
        getlist = getattr(self.data, "getlist", None)
        values = set(getlist(name) if getlist else [self.data.get(name)])
        if len(values) != 1:
            raise forms.ValidationError(_DAMAGED_FORM, code="damaged")
        assignee, _comma, unit = str(values.pop()).partition(",")
        number = ShownField()
        return number.clean(assignee), number.clean(unit)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Internal; the citizen never sees notes."),
    )


class InternalDocumentForm(forms.Form):
    """An internal document for the case's file: checked like every upload (type, size, virus)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    file = forms.FileField(
        label=_("File"), help_text=_("PDF, JPEG or PNG; it is checked for viruses.")
    )

    def clean_file(self) -> tuple[str, str, bytes]:
        upload = self.cleaned_data["file"]
        limit = UploadPolicy().max_file_bytes
        if upload.size is not None and upload.size > limit:
            # Refused before it is read into memory.
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB.") % {"limit": limit // 1_000_000}
            )
        data = upload.read()
        verdict = check_upload(name=upload.name or "", data=data)
        if not verdict.accepted:
            raise forms.ValidationError(verdict.message)
        return (verdict.name, verdict.content_type, verdict.data)


class TransitionForm(forms.Form):
    note = forms.CharField(label=_("Remark"), max_length=2000, required=False)


class DocumentRequestForm(forms.Form):
    description = forms.CharField(
        label=_("Which documents are needed?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The citizen sees this text exactly as written."),
    )
    due_on = forms.DateField(label=_("Deadline"), widget=DateInput())

    def clean_due_on(self) -> datetime.date:
        due_on: datetime.date = self.cleaned_data["due_on"]
        if due_on <= timezone.localdate():
            raise forms.ValidationError(_("The deadline must lie in the future."))
        return due_on


class DueDateForm(forms.Form):
    """The case's due date; whether the day is acceptable is the casework service's decision."""

    due_on = forms.DateField(label=_("Due on"), widget=DateInput())


class DraftNoticeForm(forms.Form):
    template_key = forms.ChoiceField(label=_("Template"))

    def __init__(self, *args: Any, templates: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template_key"].choices = templates  # type: ignore[attr-defined]


class NoticeStepForm(forms.Form):
    """A step of a notice (submit, approve, return, issue): the version the page showed."""

    version = ShownField(max_value=2**31 - 1)


class NoticeForm(forms.ModelForm):
    """The editable parts of a notice draft, and the version the page showed."""

    version = ShownField(max_value=2**31 - 1)

    class Meta:
        model = Notice
        fields = ["title", "outcome", "body", "legal_basis", "remedy", "version"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 12}),
            "legal_basis": forms.Textarea(attrs={"rows": 3}),
            "remedy": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        outcome = self.fields["outcome"]
        assert isinstance(outcome, forms.ChoiceField)
        outcome.choices = [c for c in Case.Outcome.choices if c[0]]


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the revocation"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    kind = forms.ChoiceField(
        label=_("Kind of revocation"),
        choices=[
            ("withdrawn", _("Widerruf: the notice was lawful (§ 49 VwVfG)")),
            ("annulled", _("Rücknahme: the notice was unlawful (§ 48 VwVfG)")),
        ],
        initial="withdrawn",
        widget=forms.RadioSelect,
    )
    legal_basis = forms.CharField(
        label=_("Legal basis of the revocation"),
        help_text=_(
            "Printed in the revocation letter, e.g. “§ 48 VwVfG NRW (Rücknahme)” or "
            "“§ 49 VwVfG NRW (Widerruf)”."
        ),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RevocationRequestForm(RevokeForm):
    """A revocation under the four-eyes rule: requested here, confirmed by a second clerk; the
    version of the notice the page showed."""

    version = ShownField(max_value=2**31 - 1)


class RevocationRejectForm(forms.Form):
    """A requested revocation is not carried out: why (optional), and the version shown."""

    reason = forms.CharField(
        label=_("Why not (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = ShownField(max_value=2**31 - 1)


class PostalSentForm(forms.Form):
    sent_on = forms.DateField(label=_("Posted on"), widget=DateInput())

    def clean_sent_on(self) -> datetime.date:
        sent_on: datetime.date = self.cleaned_data["sent_on"]
        if sent_on > timezone.localdate():
            raise forms.ValidationError(_("The posting date cannot lie in the future."))
        return sent_on
