"""Public verification of issued documents (/pruefen/): no login, no JavaScript.

Anyone uploads a PDF (hashed and discarded, never stored), types the printed code, or arrives
from the QR code at ``/pruefen/<code>``. The page shows what the GovChain log says — issuing
authority, document type, date, revocation — and whether the inclusion proof against the
current signed checkpoint holds; the server checks the signature and the proof before it
says so.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from rathaus.core.uploads import UploadSizeLimit
from rathaus.documents.seal import UNSUPPORTED_KEY_PROBLEMS, SealStatus, seal_of_issued
from rathaus.ledger import verification_limits
from rathaus.ledger.keys import verifier_keys
from rathaus.ledger.leaves import format_code, normalize_code
from rathaus.ledger.selectors import (
    Verification,
    verify_code,
    verify_upload,
)
from rathaus.portal.verify_forms import CodeForm, DocumentForm, max_upload_bytes

TEMPLATE = "portal/verify/index.html"


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _page(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("document_form", DocumentForm())
    context.setdefault("code_form", CodeForm())
    context.setdefault("verifier_keys", verifier_keys())
    result = context.get("result")
    if result is not None and result.entry is not None:
        context["display_code"] = format_code(result.entry.code)
    seal = context.get("seal")
    if seal is not None and seal.problem in UNSUPPORTED_KEY_PROBLEMS.values():
        # a key or curve this server cannot load: say so, not that the seal's trust failed
        context["seal_problem"] = seal.translated_problem
    response = render(request, TEMPLATE, context, status=status)
    if status == 429:
        response["Retry-After"] = str(verification_limits.retry_after(context["limited"]))
    return response


def _limited(request: HttpRequest, kind: str) -> bool:
    return not verification_limits.consume(kind=kind, client=_client(request))


@never_cache
@csrf_exempt  # CSRF is checked below, after the size-limiting upload handler is in place
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _lookup(request)
    if _limited(request, "upload"):
        return _page(request, status=429, limited="upload")
    limit = UploadSizeLimit(request, max_upload_bytes())
    request.upload_handlers = [limit, *request.upload_handlers]
    try:
        request.POST  # noqa: B018 - parse the body here, where a broken one is caught
        request.FILES  # noqa: B018
    except (
        MultiPartParserError,
        RequestDataTooBig,
        TooManyFilesSent,
        SuspiciousOperation,
        LookupError,  # a declared charset that is no text encoding ("rot13")
        UnicodeError,  # or one that cannot decode with errors="replace" ("undefined")
    ):
        form = DocumentForm(data={}, files={})
        form.is_valid()
        form.errors.clear()
        form.add_error(None, _("The upload could not be read. Please choose the PDF again."))
        return _page(request, status=400, document_form=form)
    return _upload(request, limit)


@csrf_protect
def _upload(request: HttpRequest, limit: UploadSizeLimit) -> HttpResponse:
    form = DocumentForm(request.POST, request.FILES)
    if limit.exceeded:
        form.refuse_as_too_large()
        return _page(request, status=400, document_form=form)
    if not form.is_valid():
        return _page(request, status=400, document_form=form)
    result = verify_upload(form.cleaned_data["document"], document_sha256=form.sha256)
    return _page(
        request,
        result=result,
        checked="document",
        document_form=DocumentForm(),
        uploaded_name=form.cleaned_data["document"].name,
        seal=(result.seal or _seal(form)) if result.entry is not None else None,
    )


def _seal(form: DocumentForm) -> SealStatus | None:
    """The electronic seal of a document the log knows: the very file this portal issued."""
    upload = form.cleaned_data["document"]
    upload.seek(0)
    return seal_of_issued(upload.read())


def _lookup(request: HttpRequest) -> HttpResponse:
    """GET /pruefen/ (the forms) or /pruefen/?code=… (the code form, sent without JS)."""
    if "code" not in request.GET:
        return _page(request)
    if _limited(request, "code"):
        return _page(request, status=429, limited="code")
    form = CodeForm(request.GET)
    if not form.is_valid():
        return _page(request, status=400, code_form=form)
    return redirect("verify:code", code=format_code(form.cleaned_data["code"]))


@never_cache
@require_GET
def verify_by_code(request: HttpRequest, code: str) -> HttpResponse:
    """/pruefen/<code>: where the QR code leads."""
    normalized = normalize_code(code)
    if normalized is not None and format_code(normalized) != code:
        return redirect("verify:code", code=format_code(normalized))
    if _limited(request, "code"):
        return _page(request, status=429, limited="code")
    result: Verification | None = verify_code(normalized) if normalized else None
    if result is None:
        form = CodeForm({"code": code[:40]})
        form.is_valid()
        form.errors.clear()
        form.add_error(
            "code",
            _(
                "No document was issued with this code. Please check the code on the document; "
                "if it is right, the document was not issued by this portal."
            ),
        )
        return _page(request, status=404, code_form=form)
    return _page(
        request,
        result=result,
        checked="code",
        code_form=CodeForm(initial={"code": format_code(normalized or "")}),
        upload_url=reverse("verify:index"),
    )
