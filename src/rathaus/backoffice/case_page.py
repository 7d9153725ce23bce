"""The case page: what it shows, which actions it offers, and how each action is carried out.

Each action parses its form and calls exactly one casework service. Whether the action is
allowed is the service's decision (it raises ``CaseworkError`` with a message for the clerk);
the offer here only hides buttons that the status or the role make pointless. The forms that
act on a notice or an assignment carry what the page showed (the notice's version, the clerk
and unit): the service refuses them once a colleague changed that (``ChangedMeanwhileError``),
and the page comes back with the current state and whatever the clerk typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK, TEAM_LEAD
from rathaus.applications.selectors import applied_for
from rathaus.backoffice import access
from rathaus.backoffice.forms import (
    BulkAssignForm,
    CaseAssignForm,
    DocumentRequestForm,
    DraftNoticeForm,
    DueDateForm,
    InternalDocumentForm,
    NoteForm,
    NoticeForm,
    NoticeStepForm,
    PostalSentForm,
    RevocationRejectForm,
    RevocationRequestForm,
    RevokeForm,
    TakeOverForm,
    TransitionForm,
)
from rathaus.casework import permissions
from rathaus.casework import services as casework
from rathaus.casework.errors import (
    CaseworkError,
    ChangedMeanwhileError,
    FieldError,
    TransitionError,
)
from rathaus.casework.models import Case, DocumentRequest, Notice, PostalDeliveryTask
from rathaus.casework.notice_templates import templates_for
from rathaus.casework.permissions import staff_scope
from rathaus.casework.selectors import cases_visible_to
from rathaus.catalog.form_schemas import form_schema_for_version
from rathaus.core.models import OrgUnit
from rathaus.forms.display import describe_answers
from rathaus.mailbox.selectors import case_deliveries
from rathaus.records.errors import RecordsError
from rathaus.records.models import DocumentVersion
from rathaus.records.selectors import documents_of
from rathaus.registers.selectors import ConfirmationCheck, check_landlord_confirmation

# -- who can be chosen --------------------------------------------------------------------------


def units_of(user: User) -> QuerySet[OrgUnit]:
    """The org units of the authorities the user works for: where a team lead may route to."""
    scope = staff_scope(user)
    return (
        OrgUnit.objects.filter(authority_id__in=scope.authority_ids)
        .select_related("authority")
        .order_by("authority__name", "code")
    )


def colleagues_of(user: User) -> QuerySet[User]:
    """Clerks and team leads of the user's authorities: the people a team lead may assign to."""
    scope = staff_scope(user)
    return (
        User.objects.filter(
            is_active=True,
            staff_memberships__org_unit__authority_id__in=scope.authority_ids,
            groups__name__in=(CLERK, TEAM_LEAD),
        )
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


def bulk_assign_form(*, user: User, data: Any = None) -> BulkAssignForm:
    # Any case the user sees: one closed since the queue was read is refused by the service,
    # by its number, rather than as an unknown id.
    return BulkAssignForm(
        data,
        prefix="bulk",
        staff=colleagues_of(user),
        units=units_of(user),
        visible=cases_visible_to(user),
    )


# -- actions ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What an action did: ``done`` with a success message, or refused with a form/message."""

    done: bool
    message: str = ""
    form: forms.BaseForm | None = None
    status: int = 200


def _refused(form: forms.BaseForm | None, message: str) -> Outcome:
    return Outcome(False, message, form, status=409)


def _invalid(form: forms.BaseForm) -> Outcome:
    return Outcome(False, "", form, status=400)


Handler = Callable[..., Outcome]


def _notice(case: Case, target: int | None) -> Notice:
    notice = case.notices.filter(pk=target).first() if target is not None else None
    if notice is None:
        raise CaseworkError(_("This notice does not belong to the case."))
    return notice


def _run(form: forms.BaseForm | None, call: Callable[[], Any], success: object) -> Outcome:
    """Call the service; a refusal is said beside the form (409), a value the service refuses
    (``FieldError``) beside its field (400), the typed input kept either way."""
    try:
        call()
    except FieldError as exc:
        if form is not None and exc.field in form.fields:
            form.add_error(exc.field, str(exc))
            return _invalid(form)
        return _refused(form, str(exc))
    except (CaseworkError, RecordsError) as exc:
        return _refused(form, str(exc))
    return Outcome(True, str(success))


def _with_current(data: Any, prefix: str, current: dict[str, int]) -> Any:
    """``data`` with the hidden "what the page showed" values replaced by the current ones:
    after a refusal the page shows the current state, and the clerk's input with it."""
    fresh = data.copy()
    for name, value in current.items():
        fresh[f"{prefix}-{name}"] = str(value)
    return fresh


def _assign_form(case: Case, user: User, data: Any = None) -> CaseAssignForm:
    if access.is_team_lead(user):
        # § 20 Abs. 1 Nr. 1 VwVfG: the applicant is nobody to give the case to.
        staff, units = colleagues_of(user).exclude(pk=case.applicant_id or 0), units_of(user)
    else:
        staff, units = User.objects.filter(pk=user.pk), OrgUnit.objects.none()
    # The form shows the current clerk: leaving it is "no change", "Nobody" removes them.
    return CaseAssignForm(data, prefix="assign", staff=staff, units=units, case=case)


def _assignment(assignee: int, unit: int) -> casework.Assignment:
    """The clerk and unit a page showed, from its hidden values (0 for none)."""
    return casework.Assignment(assigned_to_id=assignee or None, org_unit_id=unit or None)


def _shown_assignment(form: CaseAssignForm | TakeOverForm) -> casework.Assignment:
    """The clerk and unit the page showed (its hidden fields; 0 for none)."""
    return _assignment(form.cleaned_data["shown_assignee"], form.cleaned_data["shown_unit"])


def assign(*, case: Case, user: User, data: Any, **_kw: Any) -> Outcome:
    form = _assign_form(case, user, data)
    if not form.is_valid():
        return _invalid(form)
    seen = _shown_assignment(form)
    try:
        casework.assign(
            cases=[case],
            user=form.cleaned_data["assignee"],
            org_unit=form.cleaned_data["org_unit"],
            unassign=form.cleaned_data["unassign"],
            actor=user,
            seen={case.pk: seen},
        )
    except ChangedMeanwhileError as exc:
        case.refresh_from_db()
        current = {"shown_assignee": case.assigned_to_id or 0, "shown_unit": case.org_unit_id or 0}
        return _refused(_assign_form(case, user, _with_current(data, "assign", current)), str(exc))
    except CaseworkError as exc:
        return _refused(form, str(exc))
    return Outcome(True, _("The case has been assigned."))


def take_over(*, case: Case, user: User, data: Any, **_kw: Any) -> Outcome:
    form = TakeOverForm(data, prefix="uebernehmen", case=case)
    if not form.is_valid():
        return _invalid(form)
    seen = _shown_assignment(form)
    try:
        casework.assign(cases=[case], user=user, actor=user, seen={case.pk: seen})
    except ChangedMeanwhileError as exc:
        case.refresh_from_db()
        return _refused(TakeOverForm(prefix="uebernehmen", case=case), str(exc))
    except CaseworkError as exc:
        return _refused(form, str(exc))
    return Outcome(True, _("You are now working on this case."))


def bulk_assign(*, form: BulkAssignForm, user: User) -> Outcome:
    """Assign the cases selected in the queue (a valid ``form``): all of them or none.

    When a colleague assigned one of them after the queue was read, or closed it, nothing is
    changed (409) and the message names those cases; the form keeps the clerk's choice and
    selection, and the queue shown again carries the current assignments, so that assigning
    again is a conscious choice. Other refusals (say, the chosen clerk applied for one of the
    cases) are said the same way, as invalid input (400)."""
    seen = {pk: _assignment(*shown) for pk, shown in form.cleaned_data["shown"].items()}
    try:
        changed = casework.assign(
            cases=list(form.cleaned_data["cases"]),
            user=form.cleaned_data["assignee"],
            org_unit=form.cleaned_data["org_unit"],
            unassign=form.cleaned_data["unassign"],
            actor=user,
            seen=seen,
        )
    except (ChangedMeanwhileError, TransitionError) as exc:
        form.add_error(None, str(exc))
        return _refused(form, str(exc))
    except CaseworkError as exc:
        form.add_error(None, str(exc))
        return _invalid(form)
    return Outcome(True, _("%(count)d case(s) assigned.") % {"count": len(changed)})


def _transition(to_status: str, success: object, *, from_status: str | None = None) -> Handler:
    """A button moving the case to ``to_status``; one offered only in ``from_status`` is
    refused (409) once the case is in another status (a colleague acted since the page was
    read), rather than doing what the page never showed."""

    def handler(*, case: Case, user: User, data: Any, **_kw: Any) -> Outcome:
        form = TransitionForm(data, prefix=to_status)
        if not form.is_valid():
            return _invalid(form)
        return _run(
            form,
            lambda: casework.transition(
                case=case,
                to_status=to_status,
                actor=user,
                note=form.cleaned_data["note"],
                seen_status=from_status,
            ),
            success,
        )

    return handler


def resume_review(*, case: Case, user: User, data: Any, target: int | None, **_kw: Any) -> Outcome:
    """Back to review without the documents: withdraws the request the page showed
    (``target``); refused (409) once it was answered or withdrawn meanwhile."""
    request = case.document_requests.filter(pk=target).first() if target is not None else None
    if request is None:
        return _refused(None, _("This request for documents does not belong to the case."))
    form = TransitionForm(data, prefix=f"resume{request.pk}")
    if not form.is_valid():
        return _invalid(form)
    return _run(
        form,
        lambda: casework.resume_review(
            case=case, request=request, actor=user, note=form.cleaned_data["note"]
        ),
        _("The request for documents has been withdrawn; the review continues."),
    )


def request_documents(*, case: Case, user: User, data: Any, **_kw: Any) -> Outcome:
    form = DocumentRequestForm(data, prefix="request")
    if not form.is_valid():
        return _invalid(form)
    return _run(
        form,
        lambda: casework.request_documents(
            case=case,
            description=form.cleaned_data["description"],
            due_on=form.cleaned_data["due_on"],
            actor=user,
        ),
        _("The citizen has been asked for the documents."),
    )


def set_due_date(*, case: Case, user: User, data: Any, **_kw: Any) -> Outcome:
    form = DueDateForm(data, prefix="due")
    if not form.is_valid():
        return _invalid(form)
    return _run(  # a day the service refuses (DueDateError) is said beside the field
        form,
        lambda: casework.set_due_date(case=case, due_on=form.cleaned_data["due_on"], actor=user),
        _("The due date has been changed."),
    )


def add_note(*, case: Case, user: User, data: Any, **_kw: Any) -> Outcome:
    form = NoteForm(data, prefix="note")
    if not form.is_valid():
        return _invalid(form)
    return _run(
        form,
        lambda: casework.add_note(case=case, text=form.cleaned_data["text"], actor=user),
        _("The note has been added."),
    )


def add_internal_document(*, case: Case, user: User, data: Any, files: Any, **_kw: Any) -> Outcome:
    form = InternalDocumentForm(data, files, prefix="document")
    if not form.is_valid():
        return _invalid(form)
    return _run(
        form,
        lambda: casework.add_internal_document(
            case=case, title=form.cleaned_data["title"], file=form.cleaned_data["file"], actor=user
        ),
        _("The document has been filed."),
    )


def _templates(case: Case) -> list[tuple[str, str]]:
    """The service's notice templates as (key, title in the page's language)."""
    english = (get_language() or "de").startswith("en")
    return [
        (key, template.title_en if english else template.title_de)
        for key, template in sorted(templates_for(case.service.slug).items())
    ]


def draft_notice(*, case: Case, user: User, data: Any, **_kw: Any) -> Outcome:
    try:
        templates = _templates(case)
    except CaseworkError as exc:
        return _refused(None, str(exc))
    form = DraftNoticeForm(data, prefix="draft", templates=templates)
    if not form.is_valid():
        return _invalid(form)
    return _run(
        form,
        lambda: casework.draft_notice(
            case=case, template_key=form.cleaned_data["template_key"], actor=user
        ),
        _("The notice has been drafted. Check and edit the text before you issue it."),
    )


def update_notice(*, case: Case, user: User, data: Any, target: int | None, **_kw: Any) -> Outcome:
    try:
        notice = _notice(case, target)
    except CaseworkError as exc:
        return _refused(None, str(exc))
    prefix = f"notice{notice.pk}"
    form = NoticeForm(data, prefix=prefix, instance=Notice(case=case))
    if not form.is_valid():
        return _invalid(form)
    try:
        casework.update_notice(notice=notice, actor=user, **form.cleaned_data)
    except ChangedMeanwhileError as exc:
        # The colleague's text is shown above the form, the clerk's own stays in it; saving
        # again (now knowing both) overwrites deliberately.
        notice.refresh_from_db()
        fresh = _with_current(data, prefix, {"version": notice.version})
        return _refused(NoticeForm(fresh, prefix=prefix, instance=Notice(case=case)), str(exc))
    except CaseworkError as exc:
        return _refused(form, str(exc))
    return Outcome(True, _("The notice draft has been saved."))


def _notice_step(key: str, service: Callable[..., Any], success: object) -> Handler:
    """A button on a notice (``key``): its form carries the version the page showed."""

    def handler(*, case: Case, user: User, data: Any, target: int | None, **_kw: Any) -> Outcome:
        try:
            notice = _notice(case, target)
        except CaseworkError as exc:
            return _refused(None, str(exc))
        form = NoticeStepForm(data, prefix=f"{key}{notice.pk}")
        if not form.is_valid():
            return _invalid(form)
        version = form.cleaned_data["version"]
        # Refused: the page shows the notice as it is now, with a form of its current version.
        return _run(None, lambda: service(notice=notice, actor=user, version=version), str(success))

    return handler


def _step_form(key: str, notice: Notice) -> NoticeStepForm:
    return NoticeStepForm(prefix=f"{key}{notice.pk}", initial={"version": notice.version})


def revoke_notice(*, case: Case, user: User, data: Any, target: int | None, **_kw: Any) -> Outcome:
    form = RevokeForm(data, prefix=f"revoke{target}")
    if not form.is_valid():
        return _invalid(form)
    return _run(
        form,
        lambda: casework.revoke_notice(
            notice=_notice(case, target),
            reason=form.cleaned_data["reason"],
            legal_basis=form.cleaned_data["legal_basis"],
            ledger_reason=form.cleaned_data["kind"],
            actor=user,
        ),
        _("The notice has been revoked."),
    )


def request_revocation(
    *, case: Case, user: User, data: Any, target: int | None, **_kw: Any
) -> Outcome:
    """Four-eyes rule for revocations, first step: the clerk asks, a colleague confirms."""
    try:
        notice = _notice(case, target)
    except CaseworkError as exc:
        return _refused(None, str(exc))
    form = RevocationRequestForm(data, prefix=f"revoke{notice.pk}")
    if not form.is_valid():
        return _invalid(form)
    return _run(
        form,
        lambda: casework.request_revocation(
            notice=notice,
            reason=form.cleaned_data["reason"],
            legal_basis=form.cleaned_data["legal_basis"],
            ledger_reason=form.cleaned_data["kind"],
            version=form.cleaned_data["version"],
            actor=user,
        ),
        _("The revocation has been requested. A second clerk must confirm it."),
    )


def reject_revocation(
    *, case: Case, user: User, data: Any, target: int | None, **_kw: Any
) -> Outcome:
    try:
        notice = _notice(case, target)
    except CaseworkError as exc:
        return _refused(None, str(exc))
    form = RevocationRejectForm(data, prefix=f"keep{notice.pk}")
    if not form.is_valid():
        return _invalid(form)
    requester = notice.revocation_requested_by_id == user.pk
    return _run(
        form,
        lambda: casework.reject_revocation(
            notice=notice,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
            actor=user,
        ),
        _("Your request for the revocation has been withdrawn; the notice stays in force.")
        if requester
        else _("The revocation has been rejected; the notice stays in force."),
    )


def postal_sent(*, case: Case, user: User, data: Any, target: int | None, **_kw: Any) -> Outcome:
    form = PostalSentForm(data, prefix=f"postal{target}")
    if not form.is_valid():
        return _invalid(form)
    task = case.postal_tasks.filter(pk=target).first() if target is not None else None
    if task is None:
        return _refused(form, _("This postal delivery does not belong to the case."))
    return _run(
        form,
        lambda: casework.mark_posted(task=task, sent_on=form.cleaned_data["sent_on"], actor=user),
        _("The revocation letter is recorded as posted.")
        if task.kind == PostalDeliveryTask.Kind.REVOCATION
        else _("The notice is recorded as posted."),
    )


ACTIONS: dict[str, Handler] = {
    "zuweisen": assign,
    "uebernehmen": take_over,
    "pruefung-beginnen": _transition(
        Case.Status.IN_REVIEW,
        gettext_lazy("The review has started."),
        from_status=Case.Status.RECEIVED,
    ),
    "pruefung-fortsetzen": resume_review,
    "unterlagen-anfordern": request_documents,
    "faelligkeit": set_due_date,
    "notiz": add_note,
    "dokument": add_internal_document,
    "bescheid-entwerfen": draft_notice,
    "bescheid-speichern": update_notice,
    "zur-freigabe": _notice_step(
        "zur-freigabe",
        casework.submit_for_approval,
        gettext_lazy("The notice has been submitted for approval by a second clerk."),
    ),
    "freigeben": _notice_step(
        "freigeben", casework.approve_notice, gettext_lazy("The notice is approved.")
    ),
    "zurueckgeben": _notice_step(
        "zurueckgeben",
        casework.return_notice,
        gettext_lazy("The notice has been returned to its drafter."),
    ),
    "erlassen": _notice_step(
        "erlassen",
        casework.issue_notice,
        gettext_lazy("The notice has been issued, sealed and delivered."),
    ),
    "aufheben": revoke_notice,
    "aufhebung-beantragen": request_revocation,
    "aufhebung-bestaetigen": _notice_step(
        "aufhebung-bestaetigen",
        casework.confirm_revocation,
        gettext_lazy("The revocation is confirmed: the notice has been revoked."),
    ),
    "aufhebung-ablehnen": reject_revocation,
    "abschliessen": _transition(Case.Status.CLOSED, gettext_lazy("The case is closed.")),
    "postversand": postal_sent,
}

#: Actions a team lead takes (assign to others) and the four-eyes approval; all others need
#: ``can_decide`` (clerks and team leads of the case's units).
_ASSIGNING = {"zuweisen"}
_APPROVING = {"freigeben", "zurueckgeben"}
#: The second clerk's confirmation of a revocation another clerk requested.
_CONFIRMING = {"aufhebung-bestaetigen"}


def may(*, action: str, user: User, case: Case, target: int | None) -> bool:
    """Whether ``user`` may take ``action`` on ``case`` (casework.permissions decides)."""
    if action in _ASSIGNING:
        return permissions.can_assign(user, case)
    if action in _APPROVING:
        notice = case.notices.filter(pk=target).first() if target is not None else None
        return notice is not None and permissions.can_approve_notice(user, notice)
    if action in _CONFIRMING:
        notice = case.notices.filter(pk=target).first() if target is not None else None
        return notice is not None and permissions.can_confirm_revocation(user, notice)
    return permissions.can_decide(user, case)


# -- what the page shows ------------------------------------------------------------------------


@dataclass
class ActionOffer:
    """One form in the actions column."""

    key: str
    title: str
    url: str
    button: str
    form: forms.BaseForm | None = None
    error: str = ""
    danger: bool = False
    hint: str = ""
    notice: Notice | None = None
    link_url: str = ""
    link_label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _url(case: Case, action: str, target: int | None = None) -> str:
    if target is None:
        return reverse("backoffice:case_action", args=[case.pk, action])
    return reverse("backoffice:case_target_action", args=[case.pk, action, target])


def _key_url(case: Case, key: str) -> str:
    action, _sep, target = key.partition(":")
    return _url(case, action, int(target) if target else None)


def _offers(
    case: Case,
    user: User,
    bound: dict[str, forms.BaseForm | None],
    errors: dict[str, str],
    notices: list[Notice],
) -> tuple[list[ActionOffer], list[ActionOffer]]:
    """(case actions, notice actions) that make sense for this status and role."""

    def offer(key: str, title: str, button: str, form: Any = None, **kw: Any) -> ActionOffer:
        target = kw.pop("target", None)
        form_key = f"{key}:{target}" if target is not None else key
        return ActionOffer(
            key=key if target is None else f"{key}-{target}",
            title=title,
            url=_url(case, key, target),
            button=button,
            form=bound.get(form_key) or form,
            error=errors.get(form_key, ""),
            **kw,
        )

    case_actions: list[ActionOffer] = []
    notice_actions: list[ActionOffer] = []
    decide = permissions.can_decide(user, case)
    if case.status in Case.OPEN_STATUSES:
        if decide and case.assigned_to_id != user.pk:
            case_actions.append(
                offer(
                    "uebernehmen",
                    _("Work on this case"),
                    _("Take over the case"),
                    TakeOverForm(prefix="uebernehmen", case=case),
                )
            )
        if permissions.can_assign(user, case):
            case_actions.append(
                offer("zuweisen", _("Assign"), _("Assign"), _assign_form(case, user))
            )
    if not decide:
        return case_actions, notice_actions
    if case.status == Case.Status.RECEIVED:
        case_actions.append(
            offer(
                "pruefung-beginnen",
                _("Start the review"),
                _("Start the review"),
                TransitionForm(prefix=Case.Status.IN_REVIEW),
            )
        )
    if case.status == Case.Status.WAITING_FOR_CITIZEN:
        waiting_for = case.document_requests.filter(status=DocumentRequest.Status.OPEN).first()
        if waiting_for is not None:
            case_actions.append(
                offer(
                    "pruefung-fortsetzen",
                    _("Resume the review (withdraw the request)"),
                    _("Resume the review"),
                    TransitionForm(prefix=f"resume{waiting_for.pk}"),
                    target=waiting_for.pk,
                    hint=_(
                        "The citizen has been asked for documents by %(due)s: “%(description)s”. "
                        "To review or decide the case without them, withdraw the request; the "
                        "citizen sees that it was withdrawn."
                    )
                    % {
                        "due": date_format(waiting_for.due_on, "SHORT_DATE_FORMAT"),
                        "description": waiting_for.description,
                    },
                )
            )
    if case.status in (Case.Status.RECEIVED, Case.Status.IN_REVIEW):
        case_actions.append(
            offer(
                "unterlagen-anfordern",
                _("Request documents"),
                _("Send the request"),
                DocumentRequestForm(prefix="request"),
            )
        )
    pending = [
        n for n in notices if n.status in (Notice.Status.DRAFT, Notice.Status.AWAITING_APPROVAL)
    ]
    if case.status in (Case.Status.RECEIVED, Case.Status.IN_REVIEW) and not pending:
        try:
            templates = _templates(case)
        except CaseworkError as exc:
            templates, errors = [], {**errors, "bescheid-entwerfen": str(exc)}
        case_actions.append(
            offer(
                "bescheid-entwerfen",
                _("Decide: draft a notice"),
                _("Draft the notice"),
                DraftNoticeForm(prefix="draft", templates=templates),
            )
        )
    if case.status in Case.OPEN_STATUSES:
        case_actions.append(
            offer(
                "faelligkeit",
                _("Change the due date"),
                _("Save the due date"),
                DueDateForm(prefix="due", initial={"due_on": case.due_on}),
            )
        )
    if case.status == Case.Status.DECIDED:
        case_actions.append(
            offer(
                "abschliessen",
                _("Close the case"),
                _("Close the case"),
                TransitionForm(prefix=Case.Status.CLOSED),
            )
        )
    for notice in notices:
        if notice.status == Notice.Status.DRAFT:
            notice_actions.append(
                offer(
                    "bescheid-speichern",
                    _("Edit the notice"),
                    _("Save the draft"),
                    NoticeForm(prefix=f"notice{notice.pk}", instance=notice),
                    target=notice.pk,
                    notice=notice,
                    # a refused save: the text as saved now, beside the clerk's own
                    extra={"saved_text": f"bescheid-speichern:{notice.pk}" in bound},
                )
            )
            if notice.four_eyes:
                notice_actions.append(
                    offer(
                        "zur-freigabe",
                        _("Four-eyes approval"),
                        _("Submit for approval"),
                        _step_form("zur-freigabe", notice),
                        target=notice.pk,
                        notice=notice,
                        hint=_("A second clerk must approve this notice before it is issued."),
                    )
                )
            else:
                notice_actions.append(_issue_offer(offer, notice))
        elif notice.status == Notice.Status.AWAITING_APPROVAL:
            if notice.approved_by_id is None and permissions.can_approve_notice(user, notice):
                notice_actions.append(
                    offer(
                        "freigeben",
                        _("Four-eyes approval"),
                        _("Approve the notice"),
                        _step_form("freigeben", notice),
                        target=notice.pk,
                        notice=notice,
                    )
                )
                notice_actions.append(
                    offer(
                        "zurueckgeben",
                        _("Return for changes"),
                        _("Return to the drafter"),
                        _step_form("zurueckgeben", notice),
                        target=notice.pk,
                        notice=notice,
                    )
                )
            elif notice.approved_by_id is not None:
                notice_actions.append(_issue_offer(offer, notice))
        elif notice.status == Notice.Status.ISSUED:
            notice_actions += _revocation_offers(offer, user, notice)
    for task in case.postal_tasks.filter(status=PostalDeliveryTask.Status.OPEN).select_related(
        "notice", "letter__document"
    ):
        if task.kind == PostalDeliveryTask.Kind.REVOCATION and task.letter_id is not None:
            case_actions.append(
                offer(
                    "postversand",
                    _("Send the revocation letter by post"),
                    _("Mark as posted"),
                    PostalSentForm(prefix=f"postal{task.pk}"),
                    target=task.pk,
                    hint=_(
                        "The citizen received the revoked notice “%(title)s” by post (§ 9 OZG): "
                        "print the letter from the file and post it."
                    )
                    % {"title": task.notice.title},
                    link_url=reverse("backoffice:document_version", args=[case.pk, task.letter_id]),
                    link_label=_("Download the revocation letter (PDF)"),
                )
            )
            continue
        case_actions.append(
            offer(
                "postversand",
                _("Send the notice by post"),
                _("Mark as posted"),
                PostalSentForm(prefix=f"postal{task.pk}"),
                target=task.pk,
                hint=_("The citizen chose delivery by post (§ 9 OZG)."),
            )
        )
    return case_actions, notice_actions


def _needs_second_clerk(notice: Notice) -> bool:
    try:
        return casework.revocation_needs_four_eyes(notice)
    except CaseworkError:  # the service's settings cannot be read: the stricter way
        return True


def _revocation_offers(
    offer: Callable[..., ActionOffer], user: User, notice: Notice
) -> list[ActionOffer]:
    """Revoking the issued ``notice``: at once, or under the four-eyes rule requested by one
    clerk and confirmed (or rejected) by another; the requester may withdraw the request."""
    if not notice.revocation_pending:
        if not _needs_second_clerk(notice):
            return [
                offer(
                    "aufheben",
                    _("Revoke the notice"),
                    _("Revoke"),
                    RevokeForm(prefix=f"revoke{notice.pk}"),
                    target=notice.pk,
                    notice=notice,
                    danger=True,
                )
            ]
        return [
            offer(
                "aufhebung-beantragen",
                _("Revoke the notice"),
                _("Request the revocation"),
                RevocationRequestForm(
                    prefix=f"revoke{notice.pk}", initial={"version": notice.version}
                ),
                target=notice.pk,
                notice=notice,
                danger=True,
                hint=_(
                    "The revocation is itself a notice: a second clerk must confirm it before "
                    "it takes effect."
                ),
            )
        ]
    request = _(
        "%(who)s requested the revocation on %(date)s. Reason: %(reason)s. Legal basis: %(basis)s."
    ) % {
        "who": notice.revocation_requested_by or _("a colleague"),
        "date": date_format(
            timezone.localtime(notice.revocation_requested_at or timezone.now()),
            "SHORT_DATETIME_FORMAT",
        ),
        "reason": notice.revocation_reason,
        "basis": notice.revocation_legal_basis or _("none given"),
    }
    reject = RevocationRejectForm(prefix=f"keep{notice.pk}", initial={"version": notice.version})
    if notice.revocation_requested_by_id == user.pk:
        return [
            offer(
                "aufhebung-ablehnen",
                _("Revocation awaiting confirmation"),
                _("Withdraw the request"),
                reject,
                target=notice.pk,
                notice=notice,
                hint=request + " " + _("A second clerk must confirm it."),
            )
        ]
    if not permissions.can_confirm_revocation(user, notice):
        return []
    return [
        offer(
            "aufhebung-bestaetigen",
            _("Confirm the revocation"),
            _("Confirm and revoke"),
            _step_form("aufhebung-bestaetigen", notice),
            target=notice.pk,
            notice=notice,
            danger=True,
            hint=request,
        ),
        offer(
            "aufhebung-ablehnen",
            _("Reject the revocation"),
            _("Reject; the notice stays in force"),
            reject,
            target=notice.pk,
            notice=notice,
        ),
    ]


def _issue_offer(offer: Callable[..., ActionOffer], notice: Notice) -> ActionOffer:
    return offer(
        "erlassen",
        _("Issue the notice"),
        _("Issue, seal and deliver"),
        _step_form("erlassen", notice),
        target=notice.pk,
        notice=notice,
        hint=_("The notice is sealed, entered in the verification log and delivered."),
    )


def _application_sections(case: Case) -> tuple[Any, list[Any]]:
    application = getattr(case, "application", None)
    if application is None or not application.submitted_data:
        return application, []
    schema = form_schema_for_version(application.service, application.schema_hash)
    return application, describe_answers(schema, application.submitted_data)


def landlord_check(application: Any) -> ConfirmationCheck | None:
    """The landlord confirmation a registration names by its code, checked against the register
    and the GovChain log (§ 19 BMG); None when the application gives no code."""
    data = getattr(application, "submitted_data", None) or {}
    code = data.get("landlord_code")
    if not code:
        return None
    return check_landlord_confirmation(
        code=str(code),
        address=data.get("new_address") or {},
        move_in_date=str(data.get("move_in_date") or ""),
        persons=data.get("persons") or [],
        # given to this registration office (§ 19 Abs. 4 BMG), not another municipality's
        authority=getattr(application, "authority", None),
        disclose=True,  # the clerk checks the registration against what the landlord confirmed
    )


def context(
    *,
    case: Case,
    user: User,
    bound: dict[str, forms.BaseForm | None] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    notices = list(
        case.notices.select_related(
            "drafted_by",
            "approved_by",
            "issued_by",
            "revocation_requested_by",
            "revocation_confirmed_by",
        )
    )
    errors = errors or {}
    case_actions, notice_actions = _offers(case, user, bound or {}, errors, notices)
    shown = {o.url for o in case_actions + notice_actions}
    # An action refused although it is no longer offered (say, a colleague closed the case
    # meanwhile): its message goes above the actions. Notes and documents have their own place.
    other_errors = [
        message
        for key, message in errors.items()
        if message and key not in _OWN_PLACE and _key_url(case, key) not in shown
    ]
    try:
        application, sections = _application_sections(case)
    except Exception:
        application, sections = getattr(case, "application", None), []
    file = getattr(case, "file", None)
    return {
        "landlord": landlord_check(application),
        "section": "queue",
        "case": case,
        "application": application,
        # what the application is for beyond its service (the election of a postal vote)
        "applied_for": applied_for(
            service_slug=application.service.slug, context=application.context
        )
        if application is not None
        else [],
        "sections": sections,
        "file": file,
        "documents": list(documents_of(file)) if file is not None else [],
        "events": case.events.select_related("actor"),
        "notes": case.notes.select_related("author"),
        "requests": case.document_requests.select_related("requested_by"),
        "notices": notices,
        "deliveries": case_deliveries(authority=case.authority, case_number=case.number),
        "postal_tasks": case.postal_tasks.select_related("notice", "sent_by", "letter__document"),
        "case_actions": case_actions,
        "other_errors": other_errors,
        "notice_actions": notice_actions,
        "can_decide": permissions.can_decide(user, case),
        "party_notice": _party_notice(case, user),
        "note_form": (bound or {}).get("notiz") or NoteForm(prefix="note"),
        "note_error": errors.get("notiz", ""),
        "document_form": (bound or {}).get("dokument") or InternalDocumentForm(prefix="document"),
        "document_error": errors.get("dokument", ""),
        **_error_summary(case, bound or {}, errors, other_errors),
    }


#: Actions whose refusal is said in their own section rather than among the actions, with the
#: id of the message there.
_OWN_PLACE = {"notiz": "note-error", "dokument": "document-error"}


def _error_summary(
    case: Case,
    bound: dict[str, forms.BaseForm | None],
    errors: dict[str, str],
    other_errors: list[str],
) -> dict[str, Any]:
    """What the error summary at the top of a page sent back after a failed action shows
    (WCAG 3.3.1): the fields in error, linked, or else the refusal, linked to where it is
    said beside its form; ``has_errors`` also puts "Error:" in the page title."""
    error_form = next((form for form in bound.values() if form is not None and form.errors), None)
    key, message = next(((k, m) for k, m in errors.items() if m), ("", ""))
    if key in _OWN_PLACE:
        anchor = _OWN_PLACE[key]
    elif message in other_errors:
        anchor = f"action-error-{other_errors.index(message) + 1}"
    else:  # beside the offered form (backoffice/case/_action.html)
        anchor = f"{key.replace(':', '-')}-error"
    return {
        "has_errors": bool(error_form is not None or message),
        "error_form": error_form,
        "error_message": message,
        "error_anchor": anchor,
    }


def _party_notice(case: Case, user: User) -> str:
    """Why the applicant, reading their own case, finds nothing to do on it."""
    if not permissions.is_party(user, case):
        return ""
    return _(
        "You are the applicant of this case. A party may not act for the authority in its own "
        "procedure (§ 20 Abs. 1 Nr. 1 VwVfG): you can read the case, but not work on it, "
        "decide it or assign it. Your team lead assigns it to a colleague."
    )


def version_of_case(*, case: Case, version_pk: int) -> DocumentVersion | None:
    file = getattr(case, "file", None)
    if file is None:
        return None
    return DocumentVersion.objects.filter(pk=version_pk, document__file=file).first()
