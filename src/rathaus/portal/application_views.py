"""Citizen pages of the application flow: start, one page per step, review and submit."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.validators import slug_re
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from rathaus.accounts import trust
from rathaus.accounts.federation_views import step_up_url
from rathaus.accounts.models import User
from rathaus.applications import selectors, services
from rathaus.applications.document_requests import citizen_case_context
from rathaus.applications.models import Application
from rathaus.applications.service_context import ChoiceRequired, StartChoice
from rathaus.applications.uploads import ScanningInspector, UploadRoomExceeded, upload_room
from rathaus.catalog.form_schemas import FormUnavailable, form_schema_for_version
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.core.stored_files import StoredFileUnavailable, read_verified
from rathaus.core.uploads import FileSizeCap
from rathaus.forms.display import AnswerSection, describe_answers
from rathaus.forms.engine import (
    FormResult,
    StepResult,
    row_action,
    validate_all,
    validate_step,
    visible_steps,
)
from rathaus.forms.field_types import Issue
from rathaus.forms.rendering import largest_file_on_step, render_step, step_has_files
from rathaus.forms.schema import FormSchema, Step
from rathaus.payments.selectors import payable_state, payment_origins
from rathaus.payments.services import PaymentError
from rathaus.portal.application_list import application_list

TRUST_SESSION_KEY = "rathaus_trust_level"

#: Hidden inputs of a step page naming the warnings it has shown (``services.warning_key``);
#: no field id starts with "_" (forms.schema), so none is mistaken for an answer.
SEEN_WARNINGS = "_seen_warnings"
MAX_SEEN_WARNINGS = 50
_WARNING_KEY = re.compile(r"[0-9a-f]{16}")
#: The start page's one-time key (``services.start_application``), as the page writes it.
_START_KEY = re.compile(r"[0-9a-f]{32}")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def session_trust_level(request: HttpRequest) -> str:
    """The trust level this login reached; a local account counts as "low"."""
    return str(request.session.get(TRUST_SESSION_KEY, "low"))


def _to_my_applications(request: HttpRequest, refusal: services.ApplicationError) -> HttpResponse:
    """A draft that cannot be worked on any more (deleted meanwhile, or its service no longer
    offered): "Meine Anträge" says why, rather than a 404 or an error page."""
    messages.error(request, str(refusal))
    return redirect("applications:list")


#: Refusals after which the draft's own pages no longer help: "Meine Anträge" says why.
_DRAFT_UNUSABLE = (services.DraftGone, services.ServiceNotOffered)


def _step_up(request: HttpRequest, application: Application) -> HttpResponse | None:
    """A draft of a service above this login's trust level: identify at that level first
    (issue 9, step-up); the citizen comes back to this very page, the draft unchanged."""
    required = application.service.trust_level
    if trust.suffices(required=required, reached=session_trust_level(request)):
        return None
    return HttpResponseRedirect(
        step_up_url(
            level=required,
            next_url=request.get_full_path(),
            municipality_slug=application.municipality.slug,
        )
    )


@login_required
def my_applications(request: HttpRequest) -> HttpResponse:
    listing = application_list(_user(request))
    return render(
        request,
        "portal/applications/list.html",
        {"drafts": listing.drafts, "submitted": listing.submitted},
    )


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, service_slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=service_slug, is_active=True)
    municipalities = Municipality.objects.order_by("name")
    error = ""
    start_choice: StartChoice | None = None
    choice_error = ""
    chosen = request.POST.get("gemeinde", "") or request.GET.get("gemeinde", "")
    # only a slug is looked up: anything else (a NUL byte PostgreSQL refuses) names none
    municipality = municipalities.filter(slug=chosen).first() if slug_re.match(chosen) else None
    if request.method == "GET":
        # back from a language switch or a step-up: the municipality chosen, and the service's
        # start question (which election) asked again, without opening a draft
        chosen = municipality.slug if municipality else ""
        if municipality is not None:
            start_choice = selectors.start_question(
                service_slug=service.slug, municipality=municipality
            )
    elif municipality is None:
        error = _("Please choose the municipality you live in.")
    else:
        # the start question (which election): None until the page has asked it
        answer = request.POST.get("auswahl")
        if answer is None and "auswahl_gefragt" in request.POST:
            answer = ""
        start_key = request.POST.get("start_key", "")
        try:
            application = services.start_application(
                applicant=_user(request),
                service=service,
                municipality=municipality,
                trust_level=session_trust_level(request),
                choice=answer[:40] if answer is not None else None,
                # the page's key, so that a double click opens one draft; anything else, none
                start_key=start_key if _START_KEY.fullmatch(start_key) else "",
            )
        except ChoiceRequired as exc:
            start_choice, choice_error = exc.choice, exc.refusal
        except services.ApplicationError as exc:
            error = str(exc)
        else:
            if application.is_draft and application.current_step:
                return redirect(
                    "applications:step",
                    public_id=application.public_id,
                    step_id=application.current_step,
                )
            # opened by the same page before and answered (or sent) since
            return redirect("applications:detail", public_id=application.public_id)
    here = request.path + (f"?{urlencode({'gemeinde': municipality.slug})}" if municipality else "")
    return render(
        request,
        "portal/applications/start.html",
        {
            "service": service,
            "municipalities": municipalities,
            "chosen": chosen,
            "error": error,
            "start_key": uuid.uuid4().hex,
            "start_choice": start_choice,
            "choice_error": choice_error,
            "trust_level": session_trust_level(request),
            # the language switch comes back here by GET, with the municipality (and so the
            # start question) kept; not to the bare address, which forgets both
            "language_next": here,
            "step_up_url": ""
            if trust.suffices(required=service.trust_level, reached=session_trust_level(request))
            else step_up_url(
                level=service.trust_level,
                next_url=here,
                municipality_slug=municipality.slug if municipality else "",
            ),
        },
        status=400 if error or choice_error else 200,
    )


def _draft(request: HttpRequest, public_id: uuid.UUID) -> Application:
    application = selectors.application_for_citizen(user=_user(request), public_id=public_id)
    if not application.is_draft:
        raise Http404
    return application


@login_required
@csrf_exempt  # CSRF is checked in _step, after the upload size cap is in place
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, public_id: uuid.UUID, step_id: str) -> HttpResponse:
    application = _draft(request, public_id)
    if request.method == "GET" and (step_up := _step_up(request, application)):
        return step_up
    try:
        schema = services.draft_schema(application.service)
    except services.ServiceNotOffered as exc:
        return _to_my_applications(request, exc)
    steps = visible_steps(schema, application.answers)
    if step_id not in [s.id for s in steps]:
        raise Http404
    if request.method == "POST":
        # Before the body is read: a file larger than the step allows is not written to disk
        # beyond that, and is refused beside its field with everything else kept.
        limit = largest_file_on_step(schema, step_id)
        request.upload_handlers = [FileSizeCap(request, limit), *request.upload_handlers]
    return _step(request, application, schema, steps, step_id)


@csrf_protect
def _step(
    request: HttpRequest,
    application: Application,
    schema: FormSchema,
    steps: list[Step],
    step_id: str,
) -> HttpResponse:
    public_id = application.public_id
    data: Mapping[str, Any] | None = None
    result = None
    warned = False
    if request.method == "POST":
        changed_rows = row_action(schema, step_id, request.POST)
        if changed_rows is not None:
            data = changed_rows
        else:
            room = upload_room(application) if step_has_files(schema, step_id) else None
            result = validate_step(
                schema,
                step_id,
                request.POST,
                request.FILES,
                answers=application.answers,
                inspector=ScanningInspector(room=room),
                state=application.municipality.state,
            )
            if result.is_valid:
                try:
                    following = services.save_step(application=application, result=result)
                except UploadRoomExceeded as exc:  # files stored in another tab came first
                    _refuse_files(schema, result, exc)
                except _DRAFT_UNUSABLE as exc:  # deleted in another tab or expired; switched off
                    return _to_my_applications(request, exc)
                except services.ApplicationError as exc:  # sent in another tab
                    messages.error(request, str(exc))
                    return redirect("applications:detail", public_id=public_id)
                else:
                    if "save_and_leave" in request.POST:
                        messages.success(request, _("Your draft has been saved."))
                        return redirect("applications:list")
                    if services.unseen_warnings(result=result, seen=_seen(request)):
                        # saved, but shown once more with its warnings before moving on; the
                        # same answers sent again continue (the page names what it showed)
                        steps = visible_steps(schema, application.answers)
                        warned = True
                    elif following:
                        return redirect("applications:step", public_id=public_id, step_id=following)
                    else:
                        return redirect("applications:review", public_id=public_id)
            else:
                try:
                    services.keep_uploads(application=application, result=result)
                except UploadRoomExceeded as exc:  # files stored in another tab came first
                    _refuse_files(schema, result, exc)
                except _DRAFT_UNUSABLE as exc:
                    return _to_my_applications(request, exc)
                except services.ApplicationError as exc:  # sent in another tab
                    messages.error(request, str(exc))
            data = request.POST
    position = [s.id for s in steps].index(step_id)
    has_errors = bool(result and result.errors)
    return render(
        request,
        "portal/applications/step.html",
        {
            "application": application,
            "service": application.service,
            "steps": steps,
            "step": schema.step(step_id),
            "position": position + 1,
            "previous": steps[position - 1] if position else None,
            "fields_html": render_step(
                schema, step_id, data=data, result=result, answers=application.answers
            ),
            "multipart": step_has_files(schema, step_id),
            "has_errors": has_errors,
            "warned": warned,
            # the warnings this page shows (and those shown before a row was added or removed)
            "seen_warnings": sorted(
                set(_seen(request))
                | {
                    services.warning_key(step_id=step_id, issue=issue)
                    for issue in (result.warnings if result else [])
                }
            ),
            "seen_warnings_name": SEEN_WARNINGS,
        },
        status=400 if has_errors else 200,
    )


def _seen(request: HttpRequest) -> list[str]:
    """The warning keys the step page sent back (``services.warning_key``): at most a few
    dozen, each as the page wrote it; anything else is ignored."""
    keys = request.POST.getlist(SEEN_WARNINGS) if request.method == "POST" else []
    return [key for key in keys[:MAX_SEEN_WARNINGS] if _WARNING_KEY.fullmatch(key)]


def _refuse_files(schema: FormSchema, result: StepResult, refusal: UploadRoomExceeded) -> None:
    """The step's new files did not fit under the row lock: none was stored. The step is shown
    again with everything typed and the reason beside each field whose files were refused."""
    for field_id in refusal.field_ids:
        item = schema.field(field_id)
        result.issues.append(Issue(field_id, field_id, str(item.label), str(refusal)))


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    application = selectors.application_for_citizen(user=_user(request), public_id=public_id)
    if not application.is_draft:
        return redirect("applications:detail", public_id=public_id)
    if step_up := _step_up(request, application):
        return step_up
    try:
        schema = services.draft_schema(application.service)
    except services.ServiceNotOffered as exc:
        return _to_my_applications(request, exc)
    error = ""
    # § 9 Abs. 1 OZG: notices are retrieved from the mailbox unless the citizen opts out.
    by_post = request.method == "POST" and request.POST.get("postal_delivery") == "yes"
    if request.method == "POST":
        try:
            submitted = services.submit_application(
                application=application,
                idempotency_key=request.POST.get("submission_key", "")[:64] or uuid.uuid4().hex,
                confirmed=request.POST.get("confirm") == "yes",
                actor=_user(request),
                electronic_delivery=not by_post,
                # the review page always sends it; a client of its own may leave it out
                reviewed=request.POST["reviewed"][:64] if "reviewed" in request.POST else None,
                language=translation.get_language() or "",
            )
        except services.SubmissionIncomplete as exc:
            messages.error(request, str(exc))
            return redirect("applications:step", public_id=public_id, step_id=exc.step_id)
        except _DRAFT_UNUSABLE as exc:
            return _to_my_applications(request, exc)
        except services.ApplicationError as exc:  # e.g. answers or fee changed: shown as now
            error = str(exc)
        else:
            application = submitted  # as stored by the submission: no second read
            if application.status == Application.Status.AWAITING_PAYMENT:
                return _pay(request, application)
            messages.success(request, _("Your application has been sent."))
            return redirect("applications:detail", public_id=public_id)
    checked = validate_all(schema, application.answers, state=application.municipality.state)
    sections = _declaration(schema, application.answers)
    try:
        # the fee as the submission will quote it: for the checked answers
        quote = services.fee_quote(
            application, answers=checked.cleaned if checked.is_valid else None
        )
    except services.ApplicationError as exc:
        quote, error = None, error or str(exc)
    response = render(
        request,
        "portal/applications/review.html",
        {
            "application": application,
            "service": application.service,
            "applied_for": selectors.applied_for(
                service_slug=application.service.slug, context=application.context
            ),
            "sections": sections,
            # § 9a OZG: the declaration is confirmed knowing the warnings its answers bring
            "notes": _notes(checked, sections),
            "incomplete": checked.first_invalid_step,
            "submission_key": uuid.uuid4().hex,
            # § 9a OZG: what is sent is the declaration and the fee shown here
            "reviewed": services.review_fingerprint(application.answers, quote),
            "error": error,
            "quote": quote,
            "by_post": by_post,
        },
        status=400 if error else 200,
    )
    return _allow_payment_form(response, application)


def _declaration(schema: FormSchema, answers: dict[str, Any]) -> list[AnswerSection]:
    """The whole declaration, step by step, for the review page (§ 9a OZG)."""
    return describe_answers(schema, answers)


@dataclass(frozen=True)
class DeclarationNote:
    """A warning that still applies to an answer, shown beside it on the review page (``row``:
    beside the answer of field ``field_id``; otherwise under its step's answers)."""

    step_id: str
    field_id: str
    label: str
    message: str
    row: bool


def _notes(checked: FormResult, sections: list[AnswerSection]) -> list[DeclarationNote]:
    shown = {(section.step_id, row.field_id) for section in sections for row in section.rows}
    return [
        DeclarationNote(
            step_id=result.step.id,
            field_id=issue.field,
            label=issue.label,
            message=issue.message,
            row=(result.step.id, issue.field) in shown,
        )
        for result in checked.steps
        for issue in result.warnings
    ]


@login_required
def detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    application = selectors.application_for_citizen(user=_user(request), public_id=public_id)
    if application.is_draft:
        try:
            step_id = services.resume_step(application)
        except services.ServiceNotOffered as exc:
            return _to_my_applications(request, exc)
        if step_id is None:  # nothing left to answer: the review page is next
            return redirect("applications:review", public_id=public_id)
        return redirect("applications:step", public_id=public_id, step_id=step_id)
    # § 9a OZG: the frozen declaration with the form it was submitted with, not today's, also
    # once the service's form has been removed (the version is stored with the submission).
    try:
        schema: FormSchema | None = form_schema_for_version(
            application.service, application.schema_hash
        )
    except FormUnavailable:  # sent before form versions were stored, and the form is gone
        schema = None
    awaiting = application.status == Application.Status.AWAITING_PAYMENT
    response = render(
        request,
        "portal/applications/detail.html",
        {
            "application": application,
            "service": application.service,
            "applied_for": selectors.applied_for(
                service_slug=application.service.slug, context=application.context
            ),
            "sections": _declaration(schema, application.submitted_data or {})
            if schema is not None
            else None,
            "declaration_unavailable": schema is None,
            "quote": services.fee_quote(application) if awaiting else None,
            "payment": payable_state(
                payable_type=services.PAYABLE_TYPE, payable_id=str(application.pk)
            ),
            **citizen_case_context(application),
        },
    )
    return _allow_payment_form(response, application) if awaiting else response


def _allow_payment_form(response: HttpResponse, application: Application) -> HttpResponse:
    """CSP form-action: the pay button's POST is answered with a redirect to the provider of
    the municipality the fee goes to: that of the authority the application was sent to, or,
    for a draft, of the one responsible now (which the submission will record)."""
    if application.authority is not None:
        municipality = application.authority.municipality
    elif (responsibility := services.responsible_authority(application)) is not None:
        municipality = responsibility.authority.municipality
    else:
        return response
    if origins := payment_origins(municipality=municipality):
        response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
    return response


def _pay(request: HttpRequest, application: Application) -> HttpResponse:
    try:
        start = services.start_fee_payment(application=application, actor=_user(request))
    except PaymentError as exc:
        messages.error(request, exc.citizen_message)
        return redirect("applications:detail", public_id=application.public_id)
    except services.ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("applications:detail", public_id=application.public_id)
    if start.already_paid:
        messages.success(request, _("Your payment is confirmed; your application has been sent."))
        return redirect("applications:detail", public_id=application.public_id)
    return HttpResponseRedirect(start.redirect_url)


@login_required
@require_POST
def pay(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    application = selectors.application_for_citizen(user=_user(request), public_id=public_id)
    return _pay(request, application)


@login_required
@require_http_methods(["GET", "POST"])
def delete_draft(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Delete a draft once the citizen has confirmed it on this page (WCAG 3.3.4: the answers
    and files cannot be brought back), as the withdrawal asks; without JavaScript."""
    application = _draft(request, public_id)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm") == "yes":
            try:
                services.delete_draft(application=application, actor=_user(request))
            except services.DraftGone as exc:  # deleted in another tab, or expired
                return _to_my_applications(request, exc)
            except services.ApplicationError as exc:  # sent in another tab meanwhile
                messages.error(request, str(exc))
                return redirect("applications:detail", public_id=public_id)
            messages.success(request, _("The draft has been deleted."))
            return redirect("applications:list")
        error = _("Please confirm that you want to delete the draft.")
    return render(
        request,
        "portal/applications/delete.html",
        {
            "application": application,
            "service": application.service,
            "applied_for": selectors.applied_for(
                service_slug=application.service.slug, context=application.context
            ),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
@never_cache  # personal data: no copy in a shared or browser cache
def receipt(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = selectors.application_for_citizen(user=_user(request), public_id=public_id)
    if application.purged_on is not None:
        messages.info(
            request,
            _(
                "Your receipt was deleted with your declaration when the retention period of "
                "your application's file ran out."
            ),
        )
        return redirect("applications:detail", public_id=public_id)
    if not application.receipt:
        messages.info(request, _("Your receipt is being prepared. Please try again in a moment."))
        return redirect("applications:detail", public_id=public_id)
    try:
        content = read_verified(
            application.receipt,
            sha256=application.receipt_sha256,
            what="application receipt",
            application=str(application.public_id),
        )
    except StoredFileUnavailable:  # gone from the storage or changed there: logged for the operator
        messages.error(
            request,
            _(
                "Your receipt cannot be downloaded at the moment. The problem has been recorded "
                "for the technical staff; please try again later."
            ),
        )
        return redirect("applications:detail", public_id=public_id)
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=f"Eingangsbestaetigung-{application.reference}.pdf",
        content_type="application/pdf",
    )
