"""allauth pages that get a check in front (``federation_urls`` routes their addresses here,
ahead of ``allauth.urls``): setting a first password needs a recent authentication, and a
passkey is removed only when ``MFAAdapter.can_delete_authenticator`` allows it."""

from __future__ import annotations

from allauth.account.views import password_set as allauth_password_set
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.webauthn.views import remove_webauthn as allauth_remove_webauthn
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from rathaus.accounts.recent_login import recent_authentication_required


@login_required
@recent_authentication_required
def password_set(request: HttpRequest) -> HttpResponse:
    """A first password (accounts made by a citizen-account login) after a recent login only:
    whoever finds such a session open must not give the account a password of their own."""
    return allauth_password_set(request)


@login_required
def remove_passkey(request: HttpRequest, pk: int) -> HttpResponse:
    """allauth asks ``can_delete_authenticator`` only before deactivating TOTP: staff would
    remove their last passkey here."""
    passkey = get_object_or_404(
        Authenticator, pk=pk, user_id=request.user.pk, type=Authenticator.Type.WEBAUTHN
    )
    if not get_mfa_adapter().can_delete_authenticator(passkey):
        messages.error(
            request,
            _(
                "Staff accounts keep at least one second factor. Add another authenticator "
                "app or passkey before you remove this one."
            ),
        )
        return HttpResponseRedirect(reverse("mfa_list_webauthn"))
    return allauth_remove_webauthn(request, pk=pk)
