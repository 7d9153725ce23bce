"""What the portal writes to a citizen is in their language: the receipt follows the language
chosen in the profile, else the one of the pages the application was sent from; the authority's
German messages are marked as German on English pages (WCAG 3.1.2)."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.receipts import render_receipt
from rathaus.casework import services as casework
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.mailbox.models import Message
from tests.applications.conftest import (  # noqa: F401
    _forget_form_versions,
    citizen,
    demo,
    meldebescheinigung,
    wuppertal,
)
from tests.applications.meldebescheinigung import answer_all
from tests.casework.conftest import make_staff  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client: Client, citizen: User) -> Client:  # noqa: F811
    """The citizen, logged in, browsing in English."""
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    client.cookies["django_language"] = "en"
    return client


def _draft(client: Client) -> Application:
    response = client.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    assert response.status_code == 302
    draft = Application.objects.get()
    answer_all(draft)
    return draft


def _send(client: Client, draft: Application) -> Application:
    response = client.post(
        f"/antraege/{draft.public_id}/pruefen/", {"submission_key": "k", "confirm": "yes"}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert render_receipt.call(draft.pk) == "stored"
    return Application.objects.get(pk=draft.pk)


def _receipt_language(application: Application) -> str:
    application.receipt.open("rb")
    try:
        root = PdfReader(io.BytesIO(application.receipt.read())).trailer["/Root"]
    finally:
        application.receipt.close()
    return str(root["/Lang"])


def test_the_submit_button_reads_as_english(
    english: Client,
    meldebescheinigung: Service,  # noqa: F811
) -> None:
    draft = _draft(english)
    page = english.get(f"/antraege/{draft.public_id}/pruefen/").content.decode()
    assert '<span class="kern-label">Submit binding application</span>' in page
    assert "obligation" not in page


def test_an_application_sent_from_english_pages_gets_an_english_receipt(
    english: Client,
    citizen: User,  # noqa: F811
    meldebescheinigung: Service,  # noqa: F811
) -> None:
    assert citizen.profile.preferred_language == ""  # never chose one
    application = _send(english, _draft(english))
    assert application.language == "en"
    assert _receipt_language(application) == "en"
    receipt = Message.objects.get(owner=citizen, kind=Message.Kind.RECEIPT)
    assert receipt.subject.startswith("Receipt: ")
    assert receipt.language == "en"


def test_the_chosen_language_decides_the_receipt(
    english: Client,
    citizen: User,  # noqa: F811
    meldebescheinigung: Service,  # noqa: F811
) -> None:
    citizen.profile.preferred_language = "de"
    citizen.profile.save()
    application = _send(english, _draft(english))
    assert _receipt_language(application) == "de"
    receipt = Message.objects.get(owner=citizen, kind=Message.Kind.RECEIPT)
    assert receipt.subject.startswith("Eingangsbestätigung: ")
    assert receipt.language == "de"
    # on the English pages the German receipt is marked as German
    inbox = english.get("/postfach/").content.decode()
    assert f'lang="de">{receipt.subject}</a>' in inbox


def test_a_request_for_documents_is_german_and_marked_so_on_english_pages(
    english: Client,
    citizen: User,  # noqa: F811
    meldebescheinigung: Service,  # noqa: F811
    make_staff: Callable[..., User],  # noqa: F811
) -> None:
    application = _send(english, _draft(english))
    assert application.case is not None
    casework.request_documents(
        case=application.case,
        description="Ausweiskopie",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
        actor=make_staff(application.case.org_unit),
    )
    request = Message.objects.get(owner=citizen, kind=Message.Kind.REQUEST)
    assert request.language == "de"
    detail = english.get(f"/postfach/{request.public_id}/").content.decode()
    assert f'<h1 class="kern-heading-large" lang="de">{request.subject}</h1>' in detail
    assert '<div class="kern-body rathaus-message-body" lang="de">' in detail


def test_the_reply_form_says_optional_once(
    english: Client,
    citizen: User,  # noqa: F811
    meldebescheinigung: Service,  # noqa: F811
    wuppertal: Municipality,  # noqa: F811
    make_staff: Callable[..., User],  # noqa: F811
) -> None:
    application = _send(english, _draft(english))
    assert application.case is not None
    casework.request_documents(
        case=application.case,
        description="Ausweiskopie",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
        actor=make_staff(application.case.org_unit),
    )
    request = Message.objects.get(owner=citizen, kind=Message.Kind.REQUEST)
    english.cookies["django_language"] = "de"
    html = english.get(f"/postfach/{request.public_id}/").content.decode()
    assert 'Dateien anhängen <span class="kern-label__optional">' in html
    assert "(freiwillig)" not in html
    english.cookies["django_language"] = "en"
    html = english.get(f"/postfach/{request.public_id}/").content.decode()
    assert 'Attach files <span class="kern-label__optional">' in html
    assert "(optional)" not in html
