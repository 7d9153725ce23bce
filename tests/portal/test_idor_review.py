"""Citizens never reach another citizen's objects, also with ids mixed into their own addresses.

The permission walk (``tests/backoffice/test_permissions_walk``) fills each path with the ids of
one foreign case at a time; it has no payments and no landlord confirmations. These tests add
them, and put another citizen's file or request for documents under one's own message or
application.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.casework import services as casework
from rathaus.casework.models import Case, DocumentRequest
from rathaus.catalog.models import Service
from rathaus.core.models import Authority, Municipality
from rathaus.mailbox import services as mailbox
from rathaus.mailbox.models import Message
from rathaus.payments.models import PaymentStatus, PaymentTransaction
from rathaus.registers.models import LandlordConfirmation
from tests.accounts.factories import ProfileFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n%%EOF\n"


@pytest.fixture
def demo(db: None) -> None:
    call_command("load_demo", verbosity=0)


def _citizen(family_name: str) -> User:
    return ProfileFactory(family_name=family_name).user  # type: ignore[no-any-return]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- payments -----------------------------------------------------------------------------------


def _paid(owner: User | None) -> PaymentTransaction:
    return PaymentTransaction.objects.create(
        municipality=Municipality.objects.create(
            name="Wuppertal", slug="wuppertal", ags="05124000"
        ),
        payable_type="applications.application",
        payable_id="7",
        amount_cents=4711,
        purpose="Bewohnerparkausweis",
        description="Bewohnerparkausweis Geheimstrasse",
        status=PaymentStatus.PAYED,
        paid_at=timezone.now(),
        provider="sandbox",
        cash_reference="KZ-GEHEIM-1",
        return_url="/antraege/",
        created_by=owner,
    )


def test_another_citizens_payment_is_not_found_on_its_return_and_status_addresses(
    db: None,
) -> None:
    owner = _citizen("Zahlerin")
    payment = _paid(owner)
    before = PaymentTransaction.objects.filter(pk=payment.pk).values().get()
    other = _client(_citizen("Neugier"))
    for path in (f"/zahlung/{payment.request_id}/rueckkehr/", f"/zahlung/{payment.request_id}/"):
        response = other.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404, path
        assert not list(get_messages(response.wsgi_request)), path  # nothing about its status
        assert "KZ-GEHEIM-1" not in response.content.decode(), path
    assert PaymentTransaction.objects.filter(pk=payment.pk).values().get() == before


def test_a_visitor_whose_login_ended_is_asked_to_log_in_before_a_payment_is_shown(
    db: None,
) -> None:
    owner = _citizen("Zahlerin")
    payment = _paid(owner)
    anonymous = Client()
    for path in (f"/zahlung/{payment.request_id}/rueckkehr/", f"/zahlung/{payment.request_id}/"):
        response = anonymous.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302, path
        assert response["Location"].startswith("/konto/login/?next=/zahlung/"), path
        assert not list(get_messages(response.wsgi_request)), path
    mine = _client(owner)
    back = mine.get(f"/zahlung/{payment.request_id}/rueckkehr/", HTTP_ACCEPT_LANGUAGE="en")
    assert back.status_code == 302
    assert back["Location"] == "/antraege/"
    assert [str(m) for m in get_messages(back.wsgi_request)] == [
        "Thank you, your payment was received."
    ]
    assert "KZ-GEHEIM-1" in mine.get(f"/zahlung/{payment.request_id}/").content.decode()


# --- mailbox and requests for documents ---------------------------------------------------------


def _message_with_file(owner: User, secret: str) -> Message:
    return mailbox.deliver(
        owner=owner,
        kind=Message.Kind.INFORMATION,
        subject=f"Nachricht {secret}",
        body=secret,
        attachments=[(f"{secret}.pdf", "application/pdf", PDF)],
    )


def test_another_citizens_file_under_an_own_message_is_not_found(db: None) -> None:
    me, other = _citizen("Eigen"), _citizen("Fremd")
    mine = _message_with_file(me, "EIGEN")
    theirs = _message_with_file(other, "FREMD")
    client = _client(me)
    foreign_file = theirs.attachments.get()
    response = client.get(f"/postfach/{mine.public_id}/dateien/{foreign_file.public_id}/")
    assert response.status_code == 404
    own_file = mine.attachments.get()
    response = client.get(f"/postfach/{theirs.public_id}/dateien/{own_file.public_id}/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.first_retrieved_at is None
    assert client.get(f"/postfach/{mine.public_id}/dateien/{own_file.public_id}/").status_code == (
        200
    )


def _submitted(owner: User, authority: Authority) -> Application:
    service = Service.objects.get(slug="wohnsitz-anmelden")
    case = casework.open_case(
        service=service,
        authority=authority,
        org_unit=authority.units.order_by("code").first(),
        applicant=owner,
        title="Anmeldung",
        actor=owner,
        particulars={},
    )
    return Application.objects.create(
        applicant=owner,
        service=service,
        municipality=authority.municipality,
        authority=authority,
        status=Application.Status.SUBMITTED,
        answers={},
        submitted_data={},
        reference=f"W-{case.pk}",
        submitted_at=timezone.now(),
        case=case,
    )


def _request(case: Case | None) -> DocumentRequest:
    assert case is not None
    return casework.request_documents(
        case=case,
        description="Mietvertrag",
        due_on=timezone.localdate() + datetime.timedelta(days=10),
        actor=None,
    )


def test_another_citizens_request_for_documents_under_an_own_application_is_not_found(
    demo: None,
) -> None:
    authority = Authority.objects.get(municipality__ags="05124000", kind="buergeramt")
    me, other = _citizen("Eigen"), _citizen("Fremd")
    mine, theirs = _submitted(me, authority), _submitted(other, authority)
    _request(mine.case)
    foreign = _request(theirs.case)
    client = _client(me)
    url = f"/antraege/{mine.public_id}/unterlagen/{foreign.public_id}/"
    assert client.get(url).status_code == 404
    answer: dict[str, Any] = {"note": "Hier meine Unterlagen", "documents": []}
    assert client.post(url, answer).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == DocumentRequest.Status.OPEN


# --- landlord confirmations ---------------------------------------------------------------------


def test_another_landlords_confirmation_is_not_found_and_stays_valid(demo: None) -> None:
    landlord = _client(_citizen("Vermieter"))
    moved_in = timezone.localdate() - datetime.timedelta(days=2)
    response = landlord.post(
        "/wohnungsgeberbestaetigung/neu/",
        {
            "municipality": str(Municipality.objects.get(ags="05124000").pk),
            "street": "Friedrich-Engels-Allee",
            "house_number": "12",
            "address_supplement": "",
            "postal_code": "42283",
            "place": "Wuppertal",
            "move_in_date": moved_in.strftime("%d.%m.%Y"),
            "person_1_given_names": "Erika",
            "person_1_family_name": "Geheimmieterin",
            "landlord_name": "Hans Vermieter",
            "landlord_address": "Hofaue 5, 42103 Wuppertal",
            "is_owner": "yes",
            "declaration": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    confirmation = LandlordConfirmation.objects.get()
    other = _client(_citizen("Neugier"))
    base = f"/wohnungsgeberbestaetigung/{confirmation.public_id}"
    for path in (f"{base}/", f"{base}/bestaetigung.pdf"):
        response = other.get(path)
        assert response.status_code == 404, path
    assert other.post(f"{base}/widerrufen/").status_code == 404
    confirmation.refresh_from_db()
    assert confirmation.revoked_at is None
