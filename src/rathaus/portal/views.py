"""Citizen-facing pages: thin views that call selectors and services."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rathaus.portal.forms import AccessibilityFeedbackForm
from rathaus.portal.services import submit_accessibility_feedback

# Lebenslagen on the start page; the slugs are the catalog's (/leistungen/?lage=<slug>).
LIFE_SITUATIONS = [
    ("umzug", gettext_lazy("Moving house"), gettext_lazy("Register your new address")),
    ("geburt", gettext_lazy("Birth"), gettext_lazy("Birth certificate, child benefit, name")),
    (
        "heirat-familie",
        gettext_lazy("Marriage and family"),
        gettext_lazy("Marriage, civil partnership, parental allowance"),
    ),
    ("auto-verkehr", gettext_lazy("Car and traffic"), gettext_lazy("Vehicles, parking permits")),
    ("arbeit-gewerbe", gettext_lazy("Work and business"), gettext_lazy("Register a trade")),
    ("wahlen", gettext_lazy("Elections"), gettext_lazy("Postal voting, polling station")),
    (
        "wohnen-soziales",
        gettext_lazy("Housing and social benefits"),
        gettext_lazy("Housing benefit, housing entitlement certificate"),
    ),
    (
        "aufenthalt-einbuergerung",
        gettext_lazy("Residence and naturalisation"),
        gettext_lazy("Residence permit, citizenship"),
    ),
    ("ehrenamt", gettext_lazy("Volunteering"), gettext_lazy("Volunteer card, associations")),
    ("abfall", gettext_lazy("Waste"), gettext_lazy("Bulky waste, bins")),
]


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"life_situations": LIFE_SITUATIONS})


@require_GET
def easy_language(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/leichte_sprache.html")


@require_GET
def sign_language(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/gebaerdensprache.html", {"operator": settings.RATHAUS_OPERATOR})


def _same_site_path(request: HttpRequest, url: str) -> str:
    """The path of ``url`` if it points to this site, else an empty string (also for an address
    that cannot be parsed, such as ``http://[::1``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.netloc and parts.netloc != request.get_host():
        return ""
    return parts.path if parts.path.startswith("/") else ""


@require_http_methods(["GET", "POST"])
def accessibility(request: HttpRequest) -> HttpResponse:
    """The accessibility statement (BITV 2.0 / EU model statement) with its feedback form."""
    if request.method == "POST":
        form = AccessibilityFeedbackForm(request.POST)
        if form.is_valid():
            submit_accessibility_feedback(
                actor=request.user,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                message=form.cleaned_data["message"],
                page_url=form.cleaned_data["page_url"],
                language=get_language() or "",
            )
            messages.success(
                request,
                _(
                    "Thank you. Your feedback has been sent. If you gave an e-mail address, "
                    "you will get an answer within one month."
                ),
            )
            return redirect("portal:accessibility")
    else:
        page = request.GET.get("seite", "") or request.headers.get("referer", "")
        form = AccessibilityFeedbackForm(initial={"page_url": _same_site_path(request, page)})
    reviewed = date.fromisoformat(settings.ACCESSIBILITY_STATEMENT_REVIEWED)
    return render(
        request,
        "portal/barrierefreiheit.html",
        {
            "form": form,
            "operator": settings.RATHAUS_OPERATOR,
            "reviewed": reviewed,
            "enforcement": settings.ACCESSIBILITY_ENFORCEMENT_BODY,
            "feedback_email": settings.ACCESSIBILITY_FEEDBACK_EMAIL,
        },
    )


@require_GET
def imprint(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/impressum.html", {"operator": settings.RATHAUS_OPERATOR})


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/datenschutz.html",
        {
            "operator": settings.RATHAUS_OPERATOR,
            "session_hours": settings.SESSION_COOKIE_AGE // 3600,
        },
    )
