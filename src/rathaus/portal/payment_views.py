"""Thin views: the return from the payment page and a status page for one attempt."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rathaus.payments.models import PaymentTransaction
from rathaus.payments.services import handle_return


@never_cache
@require_GET
def payment_return(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """The provider redirects here without a status; pull it, then continue the citizen's flow."""
    try:
        outcome = handle_return(request_id=str(request_id))
    except PaymentTransaction.DoesNotExist:
        raise Http404 from None
    level = {
        "success": messages.SUCCESS,
        "info": messages.INFO,
        "warning": messages.WARNING,
        "error": messages.ERROR,
    }[outcome.level]
    messages.add_message(request, level, outcome.message)
    target = outcome.transaction.return_url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(f"/zahlung/{request_id}/")


@never_cache
@require_GET
def payment_status(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    try:
        tx = PaymentTransaction.objects.get(request_id=str(request_id))
    except PaymentTransaction.DoesNotExist:
        raise Http404 from None
    if tx.created_by_id is not None and tx.created_by_id != request.user.pk:
        raise PermissionDenied
    return render(request, "portal/payments/status.html", {"payment": tx})
