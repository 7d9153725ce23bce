"""Invisible characters in an address through the portal's step page of a real service form: the
Meldebescheinigung's step "person" (name, date of birth, address "Anschrift Inland").

A right-to-left override in the street (a clerk would read it reversed) is refused beside the
address with everything typed shown again; a draft saved before such characters were refused is
sent back to its step by the final check, and that step names the character: never a 500.
"""

from __future__ import annotations

from django.test import Client

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    _forget_form_versions,
    citizen,
    demo,
    meldebescheinigung,
    wuppertal,
)
from tests.applications.meldebescheinigung import PERSON, answer_all

STREET_INVISIBLE = (
    "„Straße“ enthält ein unsichtbares Zeichen, das dort nicht stehen kann, etwa ein "
    "Leerzeichen ohne Breite oder einen Verbinder, der nicht zwischen zwei Buchstaben steht. "
    "Geben Sie den Text ohne dieses Zeichen noch einmal ein."
)


def _start(client: Client, citizen: User) -> Application:  # noqa: F811
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    response = client.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Application.objects.get()


def test_a_street_with_a_bidi_override_is_refused_beside_the_address_and_kept(
    client: Client,
    citizen: User,  # noqa: F811
    meldebescheinigung: Service,  # noqa: F811
    wuppertal: Municipality,  # noqa: F811
) -> None:
    application = _start(client, citizen)
    saved = application.answers
    url = f"/antraege/{application.public_id}/schritt/person/"
    typed = "\u202etkramueN"  # shows as "Neumarkt", stored backwards
    refused = client.post(url, {**PERSON, "address__street": typed})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert page.count(STREET_INVISIBLE) == 2  # in the summary and beside the address
    assert 'href="#field-address-street"' in page
    assert f'value="{typed}"' in page and 'value="Wuppertal"' in page
    application.refresh_from_db()
    assert application.answers == saved  # nothing stored

    accepted = client.post(url, PERSON)
    assert accepted.status_code == 302 and accepted["Location"].endswith("/schritt/certificate/")


def test_a_draft_saved_with_a_zero_width_space_goes_back_to_its_step_with_the_message(
    client: Client,
    citizen: User,  # noqa: F811
    meldebescheinigung: Service,  # noqa: F811
    wuppertal: Municipality,  # noqa: F811
) -> None:
    application = _start(client, citizen)
    answer_all(application)
    # as the step stored it before invisible characters were refused
    answers = application.answers
    answers["address"]["street"] = "Neu\u200bmarkt"
    Application.objects.filter(pk=application.pk).update(answers=answers)
    review_url = f"/antraege/{application.public_id}/pruefen/"

    assert client.get(review_url).status_code == 200
    sent = client.post(review_url, {"submission_key": "k1", "confirm": "yes"})
    assert sent.status_code == 302
    assert sent["Location"] == f"/antraege/{application.public_id}/schritt/person/"
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT

    shown = client.get(sent["Location"])
    assert shown.status_code == 200
    assert 'value="Neu\u200bmarkt"' in shown.content.decode()  # as saved, to correct it
    again = client.post(sent["Location"], {**PERSON, "address__street": "Neu\u200bmarkt"})
    assert again.status_code == 400
    assert again.content.decode().count(STREET_INVISIBLE) == 2
