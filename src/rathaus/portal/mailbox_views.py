"""Citizen pages of the Postfach: inbox, archive, search, a message, reply, downloads.

Every read goes through rathaus.mailbox.selectors, which filter by owner: another person's message
is a 404, exactly like one that does not exist. Opening a message from the authority and each
download are logged as retrievals (the authority's proof, § 9 OZG).
"""

from __future__ import annotations

import io
import logging
import uuid

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rathaus.core.uploads import DEFAULT_MAX_FILE_BYTES, file_size_cap
from rathaus.mailbox import selectors, services
from rathaus.mailbox.errors import MailboxError, ReplyKeyUsed, ReplyRefused
from rathaus.mailbox.models import Message
from rathaus.portal.forms import MultipleFileField, refuse_large_files

logger = logging.getLogger(__name__)

PAGE_SIZE = 25


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Your reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=services.MAX_REPLY_CHARS,
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Attach files"),
        help_text=gettext_lazy("PDF, JPEG or PNG, at most 10 MB each."),
        required=False,
    )
    #: A fresh key each time the form is shown: the same form posted twice (a double click)
    #: sends one reply (services.send_reply). Pages from before keys post none, and still work.
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, required=False, initial=lambda: uuid.uuid4().hex
    )

    def clean_idempotency_key(self) -> str:
        return str(self.cleaned_data["idempotency_key"])[:64]


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search in your mailbox"),
        required=False,
        max_length=selectors.MAX_QUERY_CHARS,
    )


def _listing(request: HttpRequest, *, archived: bool) -> HttpResponse:
    search = SearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    found = selectors.mailbox_messages(owner=request.user, archived=archived, query=query)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("seite"))
    return render(
        request,
        "portal/mailbox/list.html",
        {
            "archived": archived,
            "search": search if search.is_bound else SearchForm(),
            "query": query,
            "page": page,
            "unread": selectors.unread_count(owner=request.user),
        },
    )


@login_required
@never_cache
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    return _listing(request, archived=False)


@login_required
@never_cache
@require_GET
def archived(request: HttpRequest) -> HttpResponse:
    return _listing(request, archived=True)


def _render_detail(
    request: HttpRequest, message: Message, form: ReplyForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "portal/mailbox/detail.html",
        {
            "message": message,
            "delivery": selectors.delivery(message),
            "form": form or ReplyForm(),
            "can_reply": not message.from_citizen,
            # also shown at the reply's POST-only address: a language switch returns here
            "language_next": reverse("mailbox:detail", args=[message.public_id]),
        },
        status=status,
    )


@login_required
@never_cache
@require_GET
def detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    message = selectors.message_for_owner(owner=request.user, public_id=public_id)
    if not message.from_citizen:
        services.record_retrieval(message=message, user=request.user, request=request)
    return _render_detail(request, message)


@login_required
@never_cache
@require_GET
def download(request: HttpRequest, public_id: uuid.UUID, attachment_id: uuid.UUID) -> FileResponse:
    attachment = selectors.attachment_for_owner(
        owner=request.user, message_id=public_id, attachment_id=attachment_id
    )
    # Read and checked first: the retrieval log is the authority's proof of delivery, so it
    # must never record a download of a file that could not be handed out, or was changed.
    try:
        content = services.attachment_content(attachment)
    except MailboxError as exc:
        raise Http404(str(exc)) from exc
    services.record_retrieval(
        message=attachment.message, user=request.user, request=request, attachment=attachment
    )
    response = FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@file_size_cap(DEFAULT_MAX_FILE_BYTES)
@require_POST
def reply(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    message = selectors.message_for_owner(owner=request.user, public_id=public_id)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_detail(request, message, form, status=400)
    files: list[UploadedFile] = form.cleaned_data["attachments"]
    # Refuse what cannot pass before reading it into memory; the service checks the rest.
    if len(files) > services.MAX_REPLY_FILES:
        form.add_error(
            "attachments",
            _("Please attach at most %(limit)s files.") % {"limit": services.MAX_REPLY_FILES},
        )
    refuse_large_files(form, "attachments", files)
    if form.errors:
        return _render_detail(request, message, form, status=400)
    attachments = []
    for upload in files:
        upload.seek(0)
        attachments.append((upload.name or "", upload.content_type or "", upload.read()))
    try:
        sent = services.send_reply(
            message=message,
            owner=request.user,
            body=form.cleaned_data["body"],
            attachments=attachments,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except ReplyRefused as refused:
        for field, errors in refused.field_errors.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _render_detail(request, message, form, status=400)
    except ReplyKeyUsed as exc:
        # Shown again with the text and a fresh key, so that sending it again is a new reply.
        data = request.POST.copy()
        data["idempotency_key"] = uuid.uuid4().hex
        form = ReplyForm(data)
        form.add_error(None, str(exc))
        return _render_detail(request, message, form, status=409)
    except MailboxError as exc:
        form.add_error(None, str(exc))
        return _render_detail(request, message, form, status=400)
    if sent.repeated:  # the same form again (a double click): answered with the reply it sent
        flash.info(request, _("Your reply had already been sent; it is shown here."))
        return redirect("mailbox:detail", public_id=sent.message.public_id)
    flash.success(request, _("Your reply has been sent. It is now with the authority."))
    return redirect("mailbox:detail", public_id=message.public_id)


@login_required
@require_POST
def archive(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    message = selectors.message_for_owner(owner=request.user, public_id=public_id)
    services.archive(message=message, user=request.user)
    flash.success(request, _("The message has been moved to the archive."))
    return redirect("mailbox:inbox")


@login_required
@require_POST
def unarchive(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    message = selectors.message_for_owner(owner=request.user, public_id=public_id)
    services.unarchive(message=message, user=request.user)
    flash.success(request, _("The message is back in your inbox."))
    return redirect("mailbox:detail", public_id=message.public_id)
