"""Thin views: the return from the payment page and a status page for one attempt."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rathaus.payments.models import PaymentTransaction
from rathaus.payments.services import handle_return


def _payment_for(request: HttpRequest, request_id: uuid.UUID) -> PaymentTransaction | None:
    """The attempt if this visitor may see it: one started without a login, or their own.

    None: its owner's login has ended (on the payment page, say) and they must log in first.
    Someone else's attempt is a 404, as if it did not exist: not even its status is shown.
    """
    try:
        tx = PaymentTransaction.objects.get(request_id=str(request_id))
    except PaymentTransaction.DoesNotExist:
        raise Http404 from None
    if tx.created_by_id is None or tx.created_by_id == request.user.pk:
        return tx
    if not request.user.is_authenticated:
        return None
    raise Http404


@never_cache
@require_GET
def payment_return(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """The provider redirects here without a status; pull it, then continue the citizen's flow
    (the payment's own page when the matter paid for was deleted: its address is gone)."""
    if _payment_for(request, request_id) is None:
        return redirect_to_login(request.get_full_path())
    outcome = handle_return(request_id=str(request_id))
    level = {
        "success": messages.SUCCESS,
        "info": messages.INFO,
        "warning": messages.WARNING,
        "error": messages.ERROR,
    }[outcome.level]
    messages.add_message(request, level, outcome.message)
    target = "" if outcome.matter_deleted else outcome.transaction.return_url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(f"/zahlung/{request_id}/")


@never_cache
@require_GET
def payment_status(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    tx = _payment_for(request, request_id)
    if tx is None:
        return redirect_to_login(request.get_full_path())
    return render(
        request,
        "portal/payments/status.html",
        {"payment": tx, "refunded_cents": tx.refunded_cents},
    )
