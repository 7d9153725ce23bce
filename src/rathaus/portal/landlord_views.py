"""Wohnungsgeberbestätigung online (/wohnungsgeberbestaetigung/): landlords confirm a move-in.

The landlord logs in with their own account, fills in the form and at once gets the confirmation
as a PDF with a QR code and a verification code, which they pass on to the tenant. Issued on the
landlord's behalf for the registration office responsible for the home (the authority that
handles the Wohnsitzanmeldung in that municipality).
"""

from __future__ import annotations

import io
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rathaus.accounts.models import User
from rathaus.catalog.models import Responsibility
from rathaus.core.models import Municipality
from rathaus.core.stored_files import StoredFileUnavailable, read_verified
from rathaus.ledger.issuing import verification_url
from rathaus.ledger.leaves import format_code
from rathaus.ledger.services import LedgerError
from rathaus.portal.landlord_forms import MAX_PERSONS, LandlordConfirmationForm
from rathaus.registers import landlord_confirmations, selectors
from rathaus.registers.models import LandlordConfirmation

# The registration office is the authority that handles this service in the municipality.
REGISTRATION_SERVICE = "wohnsitz-anmelden"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _municipalities() -> object:
    handled = Responsibility.objects.filter(
        service__slug=REGISTRATION_SERVICE, municipality=OuterRef("pk")
    )
    return Municipality.objects.filter(Exists(handled)).order_by("name")


def _initial(user: User) -> dict[str, str]:
    profile = getattr(user, "profile", None)
    if profile is None:
        return {}
    name = f"{profile.given_names} {profile.family_name}".strip()
    street = f"{profile.street} {profile.house_number}".strip()
    town = f"{profile.postal_code} {profile.place}".strip()
    return {
        "landlord_name": name,
        "landlord_address": ", ".join(p for p in (street, town) if p),
    }


def _own(request: HttpRequest, public_id: uuid.UUID) -> LandlordConfirmation:
    return get_object_or_404(
        selectors.landlord_confirmations_of(_user(request)), public_id=public_id
    )


@login_required
@never_cache  # tenants' names and addresses: no copy in any cache
@require_GET
def confirmation_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/landlord/list.html",
        {"confirmations": selectors.landlord_confirmations_of(_user(request))},
    )


@login_required
@never_cache  # tenants' names and addresses: no copy in any cache
@require_http_methods(["GET", "POST"])
def confirmation_new(request: HttpRequest) -> HttpResponse:
    municipalities = _municipalities()
    initial = _initial(_user(request))
    # "Add a person" (works without JavaScript): the page again with one more row for a person
    # and everything typed so far, not checked yet and nothing issued.
    adding = request.method == "POST" and "add_person" in request.POST
    if adding:
        form = LandlordConfirmationForm(
            municipalities=municipalities, initial={**initial, **request.POST.dict()}
        )
    else:
        form = LandlordConfirmationForm(
            request.POST or None, municipalities=municipalities, initial=initial
        )
    if request.method == "POST" and not adding and form.is_valid():
        responsibility = (
            Responsibility.objects.filter(
                service__slug=REGISTRATION_SERVICE,
                municipality=form.cleaned_data["municipality"],
            )
            .select_related("authority__municipality")
            .first()
        )
        if responsibility is None:  # pragma: no cover - the choices only list handled ones
            form.add_error("municipality", _("Please choose the municipality the home is in."))
        else:
            try:
                confirmation = landlord_confirmations.confirm_move_in(
                    landlord=_user(request),
                    authority=responsibility.authority,
                    move_in=form.move_in(),
                )
            except landlord_confirmations.LandlordConfirmationError as exc:
                form.add_error("move_in_date", str(exc))
            except LedgerError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "Your confirmation has been issued. "
                        "Give the verification code to your tenant."
                    ),
                )
                return redirect("landlord:detail", public_id=confirmation.public_id)
    rows = form.rows_shown(add=adding)
    return render(
        request,
        "portal/landlord/new.html",
        {
            "form": form,
            "person_rows": form.person_fields(rows),
            "rows": rows,
            "can_add_person": rows < MAX_PERSONS,
            "max_persons": MAX_PERSONS,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@never_cache  # tenants' names and addresses: no copy in any cache
@require_GET
def confirmation_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    confirmation = _own(request, public_id)
    return render(
        request,
        "portal/landlord/detail.html",
        {
            "confirmation": confirmation,
            "code": format_code(confirmation.code),
            "verification_url": verification_url(confirmation.code),
        },
    )


@login_required
@never_cache  # personal data: no copy in a shared or browser cache
@require_GET
def confirmation_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    confirmation = _own(request, public_id)
    try:
        content = read_verified(
            confirmation.pdf,
            sha256=confirmation.sha256,
            what="landlord confirmation",
            confirmation=str(confirmation.public_id),
        )
    except StoredFileUnavailable as exc:  # gone from the storage or changed there: logged
        raise Http404(_("This file is not available at the moment.")) from exc
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=f"Wohnungsgeberbestaetigung-{format_code(confirmation.code)}.pdf",
        content_type="application/pdf",
    )


@login_required
@require_POST
def confirmation_revoke(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    confirmation = _own(request, public_id)
    try:
        landlord_confirmations.revoke_confirmation(confirmation=confirmation, actor=_user(request))
    except landlord_confirmations.LandlordConfirmationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The confirmation has been withdrawn."))
    return redirect("landlord:detail", public_id=public_id)
