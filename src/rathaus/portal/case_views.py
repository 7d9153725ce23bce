"""Citizen pages of a case under /antraege/: answer a request for documents, withdraw.

The status timeline is part of the application page (``application_views.detail``). Every read
goes through the citizen's own applications: another person's ids are a 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from rathaus.accounts.models import User
from rathaus.applications import selectors
from rathaus.applications.document_requests import (
    MAX_NOTE_CHARS,
    AnswerRefused,
    answer_document_request,
    open_request_for,
    too_many_files,
    withdraw_application,
)
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.services import discard_unpaid
from rathaus.casework.models import DocumentRequest
from rathaus.core.uploads import DEFAULT_MAX_FILE_BYTES, file_size_cap
from rathaus.portal.forms import MultipleFileField, refuse_large_files


class AnswerForm(forms.Form):
    # required: an answer without a file is refused (document_requests.answer_document_request)
    documents = MultipleFileField(
        label=gettext_lazy("Documents"),
        help_text=gettext_lazy("PDF, JPEG or PNG, at most 10 MB each; up to 10 files."),
        error_messages={"required": gettext_lazy("Please choose at least one file.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Comment for the authority"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=MAX_NOTE_CHARS,
    )


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _reader(upload: UploadedFile) -> Callable[[], bytes]:
    """Reads ``upload`` when called: only as the file's turn to be checked comes."""

    def read() -> bytes:
        upload.seek(0)
        return upload.read()

    return read


@login_required
@file_size_cap(DEFAULT_MAX_FILE_BYTES)
@require_http_methods(["GET", "POST"])
def answer_request(
    request: HttpRequest, public_id: uuid.UUID, request_id: uuid.UUID
) -> HttpResponse:
    application = selectors.application_for_citizen(user=_user(request), public_id=public_id)
    document_request = open_request_for(application=application, request_id=request_id)
    if document_request is None:
        raise Http404
    if document_request.status != DocumentRequest.Status.OPEN:
        messages.info(request, _("This request has already been answered."))
        return redirect("applications:detail", public_id=public_id)
    form = AnswerForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            # counted and measured before any file is read into memory
            uploads = form.cleaned_data["documents"]
            if refusal := too_many_files(len(uploads)):
                form.add_error("documents", refusal)
            else:
                refuse_large_files(form, "documents", uploads)
        if form.is_valid():
            files = [
                (upload.name or "Dokument", _reader(upload))
                for upload in form.cleaned_data["documents"]
            ]
            try:
                answer_document_request(
                    application=application,
                    request=document_request,
                    files=files,
                    note=form.cleaned_data["note"],
                    actor=_user(request),
                )
            except AnswerRefused as refused:
                for field, errors in refused.field_errors.items():
                    name = "documents" if field == "files" else field
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Thank you. Your documents have been sent to the authority.")
                )
                return redirect("applications:detail", public_id=public_id)
        status = 400
    return render(
        request,
        "portal/cases/answer_request.html",
        {
            "application": application,
            "service": application.service,
            "document_request": document_request,
            "form": form,
        },
        status=status,
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    application = selectors.application_for_citizen(user=_user(request), public_id=public_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Please confirm that you want to withdraw the application."))
        return redirect("applications:detail", public_id=public_id)
    if application.status == Application.Status.AWAITING_PAYMENT:
        # never reached the authority: withdrawing it deletes it
        try:
            discard_unpaid(application=application, actor=_user(request))
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect("applications:detail", public_id=public_id)
        messages.success(
            request,
            _(
                "Your application %(reference)s has been withdrawn and deleted; it had not "
                "reached the authority."
            )
            % {"reference": application.reference},
        )
        return redirect("applications:list")
    try:
        withdraw_application(application=application, actor=_user(request))
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your application has been withdrawn."))
    return redirect("applications:detail", public_id=public_id)
