"""Pages and protocol endpoints of the citizen-account login (SAML SP, OIDC RP, step-up)."""

from __future__ import annotations

import uuid

from allauth.account.internal.flows.reauthentication import (
    STATE_SESSION_KEY as REAUTHENTICATION_STATE_KEY,
)
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rathaus.accounts import federation, trust
from rathaus.accounts.external_identity import FederationError
from rathaus.accounts.middleware import has_second_factor
from rathaus.accounts.models import FederatedIdentity, IdentityProvider, LoginAttempt, User
from rathaus.accounts.recent_login import reauthentication_url
from rathaus.accounts.roles import is_staff_member
from rathaus.accounts.selectors import fields_not_taken_over, notification_address
from rathaus.core import counters


def _provider(slug: str, protocol: str | None = None) -> IdentityProvider:
    provider = get_object_or_404(
        IdentityProvider.objects.select_related("municipality"), slug=slug, enabled=True
    )
    if protocol and provider.protocol != protocol:
        raise Http404
    return provider


def _failed(
    request: HttpRequest, provider: IdentityProvider | None, status: int = 400
) -> HttpResponse:
    """The error page. Only a 400 says the answer was invalid or used: a refusal (403) and too
    many tries (429) bring their own message, and 503 says the service is unreachable."""
    return render(
        request,
        "accounts/federation/failed.html",
        {
            "provider": provider,
            "unavailable": status == 503,
            "refused": status == 403,
            "too_many": status == 429,
        },
        status=status,
    )


def start_url(provider: IdentityProvider, *, level: str, next_url: str = "") -> str:
    query = {"niveau": level}
    if next_url:
        query["next"] = next_url
    return f"{reverse('federation:start', args=[provider.slug])}?{urlencode(query)}"


@require_GET
def start(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the browser to the provider (a link, not a form: CSP form-action stays 'self')."""
    provider = _provider(slug)
    level = request.GET.get("niveau", trust.Level.LOW)
    if level not in trust.ORDER or not federation.allows(provider, level):
        return _failed(request, provider)
    try:
        url = federation.start_login(
            request=request, provider=provider, level=level, next_url=request.GET.get("next", "")
        )
    except FederationError as exc:
        federation.logger.error(
            "federated login could not start",
            extra={"provider": provider.slug, "reason": exc.reason},
        )
        return _failed(request, provider, status=503)
    return HttpResponseRedirect(url)


@csrf_exempt  # the IdP's HTTP POST binding; the signed assertion and RelayState bind the answer
@require_POST
def saml_acs(request: HttpRequest, slug: str) -> HttpResponse:
    provider = _provider(slug, IdentityProvider.Protocol.SAML)
    try:
        attempt = federation.receive_saml(
            provider=provider,
            saml_response=request.POST.get("SAMLResponse", ""),
            relay_state=request.POST.get("RelayState", ""),
        )
    except FederationError:
        return _failed(request, provider)
    # 303: the browser follows with a GET, which carries the Lax session cookie.
    response = HttpResponseRedirect(reverse("federation:finish", args=[attempt.pk]))
    response.status_code = 303
    return response


@require_GET
def saml_metadata(request: HttpRequest, slug: str) -> HttpResponse:
    provider = _provider(slug, IdentityProvider.Protocol.SAML)
    try:
        from rathaus.accounts import saml  # pysaml2 loads its XML schemas on import: ~2 s of CPU

        xml = saml.sp_metadata(provider)
    except FederationError:
        return _failed(request, provider, status=503)
    return HttpResponse(xml, content_type="application/samlmetadata+xml; charset=utf-8")


@require_GET
def oidc_callback(request: HttpRequest, slug: str) -> HttpResponse:
    provider = _provider(slug, IdentityProvider.Protocol.OIDC)
    try:
        attempt = federation.receive_oidc(
            request=request,
            provider=provider,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
        )
    except FederationError:
        return _failed(request, provider)
    return redirect("federation:finish", attempt_id=attempt.pk)


@require_http_methods(["GET", "POST"])
def finish(request: HttpRequest, attempt_id: uuid.UUID) -> HttpResponse:
    try:
        attempt = federation.answered_attempt(request, attempt_id)
    except federation.FinishRefused as exc:
        federation.logger.warning(
            "federated login not finished", extra={"attempt": str(attempt_id), "reason": str(exc)}
        )
        return _failed(request, None)
    provider = attempt.provider
    try:
        outcome = federation.finish(request, attempt)
        email, email_error = request.POST.get("email", "").strip(), ""
        if request.method == "POST" and outcome.kind == "confirm_link":
            if request.POST.get("action") == "link":
                try:
                    federation.link_current_user(request, attempt)
                except federation.RecentAuthenticationRequired:
                    # confirm with the account's own means, then back to this page: the
                    # answer waits (until the attempt expires)
                    messages.info(
                        request,
                        _("Please confirm that it is you before you link your citizen account."),
                    )
                    return HttpResponseRedirect(reauthentication_url(request, request.path))
                return _logged_in(request, attempt.next_url, attempt.result["level"])
            federation.close_attempt(attempt)  # cancelled: the answer's attributes go
            return HttpResponseRedirect("/konto/")
        if request.method == "POST" and outcome.kind == "need_email":
            email_error = _email_problem(email)
            if email_error and federation.email_taken(email) and _too_many_taken(attempt):
                # Saying "this address has an account" lets one probe addresses: a few tries
                # per citizen-account login, then the login has to be made again.
                federation.close_attempt(attempt)
                messages.error(
                    request,
                    _(
                        "Too many of the addresses you entered already belong to an account. "
                        "Please log in to your account, or start again with your citizen account."
                    ),
                )
                return _failed(request, provider, status=429)
            if not email_error:
                federation.create_account(request, attempt=attempt, email=email)
                return _logged_in(request, attempt.next_url, attempt.result["level"])
    except federation.AccountRefused as exc:
        messages.error(request, str(exc))
        return _failed(request, provider, status=403)
    except federation.FinishRefused:
        return _failed(request, provider)
    if outcome.kind == "logged_in":
        return _logged_in(request, attempt.next_url, outcome.identity.level)
    context = {
        "provider": provider,
        "attempt": attempt,
        "identity": outcome.identity,
        "level_label": trust.Level(outcome.identity.level).label,
        "login_url": f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}",
    }
    if outcome.kind == "other_user":
        return render(request, "accounts/federation/other_user.html", context, status=409)
    if outcome.kind == "existing_account":
        return render(request, "accounts/federation/existing_account.html", context)
    if outcome.kind == "need_email":
        context.update({"email": email, "email_error": email_error})
        return render(
            request,
            "accounts/federation/need_email.html",
            context,
            status=400 if email_error else 200,
        )
    return render(request, "accounts/federation/confirm_link.html", context)


#: Addresses that already have an account one citizen-account login may name before it ends.
TAKEN_EMAILS_PER_ATTEMPT = 3


def _too_many_taken(attempt: LoginAttempt) -> bool:
    """Count one more taken address for ``attempt``; True once there were too many."""
    lifetime = int(federation.ATTEMPT_LIFETIME.total_seconds())
    taken = counters.hit(f"rathaus:federation-taken-email:{attempt.pk}", timeout=lifetime)
    return taken > TAKEN_EMAILS_PER_ATTEMPT


def _email_problem(email: str) -> str:
    if not email:
        return _("Please enter your e-mail address.")
    try:
        validate_email(email)
    except ValidationError:
        return _("Enter an e-mail address such as name@example.de.")
    if len(email) > User._meta.get_field("email").max_length:  # type: ignore[operator]
        # Django's validator accepts 320 characters; SMTP (RFC 5321) and the column take 254
        return _("Enter an e-mail address such as name@example.de.")
    if federation.email_taken(email):
        return _(
            "An account with this e-mail address exists. Log in to it first, then link your "
            "citizen account."
        )
    return ""


def _logged_in(request: HttpRequest, next_url: str, level: str) -> HttpResponse:
    messages.success(
        request,
        _("You are logged in with your citizen account (trust level: %(level)s).")
        % {"level": trust.Level(level).label},
    )
    if request.user.pk is not None and fields_not_taken_over(user_id=request.user.pk):
        # the profile page names them beside the fields
        messages.warning(
            request,
            _(
                "Some details from your citizen account could not be taken over into your "
                "profile. Please check your profile."
            ),
        )
    return HttpResponseRedirect(federation.safe_next(request, next_url) or "/konto/")


@login_required
@require_GET
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Confirm a sensitive step by logging in again with the linked citizen account.

    allauth sends accounts without password and second factor here (``?next=`` the page that
    asked). A form sent by POST (data export, account deletion) cannot be followed by a GET, so
    the citizen then returns to the page that held the form. When the account has no citizen
    account whose login is switched on, the page explains how to set a password instead.
    """
    user = request.user
    assert isinstance(user, User)
    if user.has_usable_password() or has_second_factor(user) or is_staff_member(user):
        # Only for accounts that have nothing else to confirm with (allauth sends them here);
        # the others confirm with their password or second factor.
        query = urlencode({"next": federation.safe_next(request, request.GET.get("next", ""))})
        return HttpResponseRedirect(f"{reverse('account_reauthenticate')}?{query}")
    link = (
        FederatedIdentity.objects.filter(user=user, provider__enabled=True)
        .select_related("provider")
        .order_by("-linked_at")
        .first()
    )
    level = (
        next((lv for lv in trust.ORDER if federation.allows(link.provider, lv)), None)
        if link is not None
        else None
    )
    next_url = federation.safe_next(request, request.GET.get("next", ""))
    suspended = request.session.get(REAUTHENTICATION_STATE_KEY)
    if isinstance(suspended, dict) and "request" in suspended:
        del request.session[REAUTHENTICATION_STATE_KEY]
        next_url = federation.safe_next(request, request.headers.get("referer", ""))
    if link is None or level is None:
        # Nothing to confirm with: a page that says how to set a password, not a redirect
        # (the login page would send the logged-in account back here, in a loop).
        return render(
            request,
            "accounts/federation/reauthentication_unavailable.html",
            {"address": notification_address(user=user)},
        )
    return HttpResponseRedirect(
        start_url(link.provider, level=level, next_url=next_url or "/konto/")
    )


@require_GET
def step_up(request: HttpRequest) -> HttpResponse:
    """Choose a citizen account to reach the trust level a service needs, then come back."""
    level = request.GET.get("niveau", trust.Level.HIGH)
    if level not in trust.ORDER:
        level = trust.Level.HIGH
    next_url = federation.safe_next(request, request.GET.get("next", ""))
    providers = federation.providers_for(
        level=level, municipality_slug=request.GET.get("gemeinde", "")
    )
    return render(
        request,
        "accounts/federation/step_up.html",
        {
            "level": level,
            "level_label": trust.Level(level).label,
            "current_label": trust.Level(trust.session_level(request)).label,
            "choices": [(p, start_url(p, level=level, next_url=next_url)) for p in providers],
            "next_url": next_url,
        },
    )


def step_up_url(*, level: str, next_url: str, municipality_slug: str = "") -> str:
    query = {"niveau": level, "next": next_url}
    if municipality_slug:
        query["gemeinde"] = municipality_slug
    return f"{reverse('federation:step_up')}?{urlencode(query)}"
