"""/konto/: the citizen's account overview, profile, data export and account deletion.

Login, sign-up, password and second factors are django-allauth's pages under the same prefix.
"""

from __future__ import annotations

import json

from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rathaus.accounts import services
from rathaus.accounts.forms import DeleteAccountForm, ProfileForm
from rathaus.accounts.language_cookie import set_language_cookie
from rathaus.accounts.personal_data import ErasureBlocked
from rathaus.accounts.recent_login import recent_authentication_required
from rathaus.accounts.roles import is_staff_member


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    authenticators = Authenticator.objects.filter(user_id=user.pk)
    passkeys = [a.wrap() for a in authenticators if a.type == Authenticator.Type.WEBAUTHN]
    return render(
        request,
        "portal/account/overview.html",
        {
            "profile": services.profile_for(user),  # type: ignore[arg-type]
            "email_addresses": EmailAddress.objects.filter(user_id=user.pk).order_by("-primary"),
            "has_totp": any(a.type == Authenticator.Type.TOTP for a in authenticators),
            "has_recovery_codes": any(
                a.type == Authenticator.Type.RECOVERY_CODES for a in authenticators
            ),
            "passkeys": passkeys,
            "is_staff_member": is_staff_member(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    instance = services.profile_for(request.user)  # type: ignore[arg-type]
    form = ProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = services.update_profile(
            user=request.user,  # type: ignore[arg-type]
            data=form.cleaned_data,
        )
        messages.success(request, _("Your profile has been saved."))
        response = redirect("account:overview")
        if saved.preferred_language:  # only a language the citizen chose switches the pages
            set_language_cookie(response, saved.preferred_language)
        return response
    return render(request, "portal/account/profile.html", {"form": form})


@login_required
def export(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/account/export.html")


@login_required
@require_POST
@recent_authentication_required
def export_download(request: HttpRequest) -> HttpResponse:
    """The JSON export (Art. 15, 20 GDPR); needs a recent login or re-authentication."""
    document = services.export_personal_data(user=request.user)  # type: ignore[arg-type]
    body = json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    filename = f"rathaus-daten-{timezone.localdate():%Y-%m-%d}.json"
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@recent_authentication_required
def delete(request: HttpRequest) -> HttpResponse:
    """Art. 17 GDPR: delete the account after confirming with the password."""
    form = DeleteAccountForm(request.POST or None, user=request.user)
    blocked = None
    if request.method == "POST":
        # Guessing the password here is throttled like allauth's re-authentication.
        if not ratelimit.consume(request, action="reauthenticate", user=request.user):
            blocked = _("Too many attempts. Please wait a minute and try again.")
        elif form.is_valid():
            try:
                services.delete_account(user=request.user)  # type: ignore[arg-type]
            except ErasureBlocked as reason:
                blocked = str(reason)
            else:
                logout(request)
                messages.success(request, _("Your account and your personal data were deleted."))
                return redirect("/")
    return render(request, "portal/account/delete.html", {"form": form, "blocked": blocked})
