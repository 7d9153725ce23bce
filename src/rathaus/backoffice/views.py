"""Clerks' pages: work queue, case page with its actions, audit trail, unit statistics.

Views parse input, call one casework service or selector, and render. A refused action
(``CaseworkError``, ``RecordsError``) is shown next to its form on the case page (status 409),
invalid input next to its field (status 400); nothing here decides what is allowed, except which
forms are offered, so that a clerk is not shown buttons that can only fail.
"""

from __future__ import annotations

import datetime
import io
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from rathaus.backoffice import access, case_page
from rathaus.backoffice.access import casework_staff_required, staff_user, team_lead_required
from rathaus.backoffice.audit_trail import case_audit_events
from rathaus.backoffice.forms import BulkAssignForm
from rathaus.backoffice.queue import QueueFilterForm, queue_page, selected_elsewhere
from rathaus.casework import permissions
from rathaus.casework.errors import StoredNoticeError
from rathaus.casework.models import Case
from rathaus.casework.selectors import cases_visible_to
from rathaus.casework.selectors import notice_pdf as read_notice_pdf
from rathaus.core.uploads import DEFAULT_MAX_FILE_BYTES, file_size_cap
from rathaus.records import services as records
from rathaus.records.errors import RecordsError


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.setdefault("is_team_lead", access.is_team_lead(request.user))
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


# -- work queue ---------------------------------------------------------------------------------


def _queue_response(
    request: HttpRequest,
    params: QueryDict,
    *,
    assign_form: BulkAssignForm | None = None,
    status: int = 200,
    back_to: str = "",
) -> HttpResponse:
    """The queue filtered by ``params``; ``back_to`` is where an assignment from it returns
    (the queue's own address, also when it is shown again after a refused assignment)."""
    user = staff_user(request)
    defaults = {"status": "open", "sort": "due"}
    filter_form = QueueFilterForm(params or None, initial=defaults)
    if params:
        filter_form.is_valid()
        filters = dict(filter_form.cleaned_data)
        filters.setdefault("status", "open")
        if "status" not in params:
            filters["status"] = "open"
    else:
        filters = dict(defaults)
    page = queue_page(user=user, filters=filters, service_names=filter_form.service_names)
    if assign_form is None and access.assigns_cases(user):
        assign_form = case_page.bulk_assign_form(user=user)
    selected = request.POST.getlist("bulk-cases") if request.method == "POST" else []
    elsewhere = []
    if assign_form is not None and selected:
        # The clerk's selection is kept, also of cases this page no longer lists.
        elsewhere = selected_elsewhere(
            user=user, selected=selected, page=page, service_names=filter_form.service_names
        )
    query = urlencode(
        [
            (k, v)
            for k in params
            if k != "page"
            for v in params.getlist(k)
            if v and isinstance(v, str)
        ]
    )
    return _render(
        request,
        "backoffice/queue.html",
        {
            "section": "queue",
            "filter_form": filter_form,
            "assign_form": assign_form,
            "page": page,
            "query": query,
            "can_bulk_assign": assign_form is not None,
            "selected": selected,
            "selected_elsewhere": elsewhere,
            "back_to": back_to or request.get_full_path(),
            # a refused assignment is shown at the POST-only address: switching the language
            # there returns to the queue it came from
            "language_next": back_to,
        },
        status=status,
    )


@require_GET
@casework_staff_required
def queue(request: HttpRequest) -> HttpResponse:
    return _queue_response(request, request.GET)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` the queue sent if it is an address of this site other than the assignment's
    own (which answers a GET with 405), else ``fallback``."""
    target = request.POST.get("next", "")
    if (
        target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and urlsplit(target).path != reverse("backoffice:bulk_assign")
    ):
        return target
    return fallback


@require_POST
@casework_staff_required
def bulk_assign(request: HttpRequest) -> HttpResponse:
    """The queue's bulk assignment; refused or invalid, the queue the clerk came from comes back
    with the message, their choice and their selection (``case_page.bulk_assign``).

    The queue offers only cases the team lead may assign; one selected all the same (moved to
    another unit since the queue was read, which an administrator still sees) is refused by
    its number beside the list (400), and nothing is assigned."""
    user = staff_user(request)
    if not access.assigns_cases(user):
        raise PermissionDenied
    form = case_page.bulk_assign_form(user=user, data=request.POST)
    valid = form.is_valid()
    # Whenever the selection itself is readable, even beside other errors: every case in it
    # must be one this team lead may assign.
    cases = form.cleaned_data.get("cases", ())
    if refused := [case for case in cases if not permissions.can_assign(user, case)]:
        form.refuse(refused)
        valid = False
    status = 400
    if valid:
        outcome = case_page.bulk_assign(form=form, user=user)
        if outcome.done:
            messages.success(request, outcome.message)
            return redirect(_safe_next(request, "backoffice:queue"))
        status = outcome.status
    next_url = _safe_next(request, "") or reverse("backoffice:queue")
    params = QueryDict(next_url.split("?", 1)[1] if "?" in next_url else "")
    return _queue_response(request, params, assign_form=form, status=status, back_to=next_url)


# -- case page ----------------------------------------------------------------------------------


def _visible_case(request: HttpRequest, pk: int) -> Case:
    """The case if this person may see it; 404 otherwise (as if it did not exist)."""
    return get_object_or_404(
        cases_visible_to(staff_user(request)).select_related(
            "service", "authority", "org_unit", "assigned_to", "applicant"
        ),
        pk=pk,
    )


@require_GET
@casework_staff_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    return _render(
        request, "backoffice/case.html", case_page.context(case=case, user=staff_user(request))
    )


@require_POST
@casework_staff_required
@file_size_cap(DEFAULT_MAX_FILE_BYTES)
def case_action(request: HttpRequest, pk: int, action: str, target: int | None = None) -> Any:
    """Every button of the case page posts here: one action, one casework service call."""
    case = _visible_case(request, pk)
    user = staff_user(request)
    handler = case_page.ACTIONS.get(action)
    if handler is None:
        raise Http404
    if not case_page.may(action=action, user=user, case=case, target=target):
        raise PermissionDenied
    outcome = handler(case=case, user=user, data=request.POST, files=request.FILES, target=target)
    if outcome.done:
        messages.success(request, outcome.message)
        # The action may have taken the case out of the user's sight (a team lead moved it to
        # another unit with nobody assigned): its page would be a 404, the queue is not.
        permissions.forget_scope(user)
        if not cases_visible_to(user).filter(pk=case.pk).exists():
            return redirect("backoffice:queue")
        return redirect("backoffice:case", pk=case.pk)
    case.refresh_from_db()
    key = action if target is None else f"{action}:{target}"
    context = case_page.context(
        case=case, user=user, bound={key: outcome.form}, errors={key: outcome.message}
    )
    # shown at the action's POST-only address: a language switch returns to the case page
    context["language_next"] = reverse("backoffice:case", args=[case.pk])
    return _render(request, "backoffice/case.html", context, status=outcome.status)


@require_GET
@casework_staff_required
def notice_pdf(request: HttpRequest, pk: int, notice_pk: int) -> HttpResponseBase:
    case = _visible_case(request, pk)
    notice = get_object_or_404(case.notices.all(), pk=notice_pk)
    if not notice.pdf:
        raise Http404
    try:
        content = read_notice_pdf(notice)  # checked against the SHA-256 it was sealed with
    except StoredNoticeError as exc:
        messages.error(request, str(exc))
        return redirect("backoffice:case", pk=case.pk)
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=f"Bescheid-{case.number}.pdf",
        content_type="application/pdf",
    )


@require_GET
@casework_staff_required
def document_version(request: HttpRequest, pk: int, version_pk: int) -> HttpResponseBase:
    case = _visible_case(request, pk)
    version = case_page.version_of_case(case=case, version_pk=version_pk)
    if version is None:
        raise Http404
    try:
        content = records.read_version(version)  # checked against its SHA-256
    except RecordsError as exc:
        messages.error(request, str(exc))
        return redirect("backoffice:case", pk=case.pk)
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=version.original_name,
        content_type=version.content_type or "application/octet-stream",
    )


@require_GET
@casework_staff_required
def audit_trail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    return _render(
        request,
        "backoffice/audit_trail.html",
        {"section": "queue", "case": case, "events": case_audit_events(case)},
    )


# -- statistics ---------------------------------------------------------------------------------


@require_GET
@team_lead_required
def statistics(request: HttpRequest) -> HttpResponse:
    """Per org unit of the team lead: open, overdue, waiting, decided in the last 30 days."""
    today = timezone.localdate()
    since = timezone.now() - datetime.timedelta(days=30)
    open_q = Q(status__in=Case.OPEN_STATUSES)
    rows = (
        cases_visible_to(staff_user(request))
        .values("org_unit__code", "org_unit__name", "authority__name")
        .annotate(
            open=Count("id", filter=open_q),
            overdue=Count("id", filter=open_q & Q(due_on__lt=today)),
            unassigned=Count("id", filter=open_q & Q(assigned_to__isnull=True)),
            waiting=Count("id", filter=Q(status=Case.Status.WAITING_FOR_CITIZEN)),
            decided_recently=Count("id", filter=Q(decided_at__gte=since)),
            granted_recently=Count(
                "id", filter=Q(decided_at__gte=since, outcome=Case.Outcome.GRANTED)
            ),
            refused_recently=Count(
                "id", filter=Q(decided_at__gte=since, outcome=Case.Outcome.REFUSED)
            ),
        )
        .order_by("authority__name", "org_unit__code")
    )
    return _render(
        request,
        "backoffice/statistics.html",
        {"section": "statistics", "rows": list(rows), "today": today},
    )
