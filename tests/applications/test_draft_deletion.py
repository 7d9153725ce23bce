"""Deleting a draft: only once the citizen confirmed it (WCAG 3.3.4, without JavaScript, as the
withdrawal asks), and a draft deleted meanwhile (another tab, the expiry job) is named as
deleted, never as sent, with the citizen taken to "Meine Anträge" rather than to a 404."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.test import Client

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import (
    DraftGone,
    delete_draft,
    delete_expired_drafts,
    save_step,
    start_application,
)
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import AuditEvent, Municipality
from rathaus.forms.engine import validate_step
from tests.applications.meldebescheinigung import PERSON, SIMPLE_CERTIFICATE, answer_all

GONE = "Dieser Entwurf besteht nicht mehr: Er wurde gelöscht"


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


def _start(client: Client) -> Application:
    response = client.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    assert response.status_code == 302
    return Application.objects.get()


def test_the_list_leads_to_a_confirmation_instead_of_deleting_at_once(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(logged_in)
    url = f"/antraege/{application.public_id}/loeschen/"
    listing = logged_in.get("/antraege/").content.decode()
    assert f'action="{url}"' not in listing  # no one-click form
    assert f'href="{url}"' in listing

    page = logged_in.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Diesen Entwurf löschen?" in body
    assert 'type="checkbox" id="confirm" name="confirm" value="yes"' in body
    assert Application.objects.filter(pk=application.pk).exists()


def test_a_draft_is_not_deleted_without_the_confirmation(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(logged_in)
    answer_all(application)
    response = logged_in.post(f"/antraege/{application.public_id}/loeschen/", {})
    body = response.content.decode()
    assert response.status_code == 400
    assert Application.objects.filter(pk=application.pk).exists()
    error = re.search(r'<p class="kern-error" id="confirm-error">.*?</p>', body, re.S)
    assert error is not None
    assert "Bitte bestätigen Sie, dass Sie den Entwurf löschen möchten." in error.group(0)
    assert 'aria-invalid="true" aria-describedby="confirm-error"' in body
    assert body.count('href="#confirm"') == 1  # the summary links to the checkbox


def test_a_confirmed_deletion_deletes_the_draft(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(logged_in)
    response = logged_in.post(
        f"/antraege/{application.public_id}/loeschen/", {"confirm": "yes"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/antraege/"
    assert "Der Entwurf wurde gelöscht." in response.content.decode()
    assert not Application.objects.filter(pk=application.pk).exists()
    assert AuditEvent.objects.filter(action="application.draft_deleted").count() == 1


@pytest.mark.parametrize("deleted_by", ["another tab", "expiry"])
def test_saving_a_step_of_a_draft_deleted_meanwhile_says_it_was_deleted(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality, deleted_by: str
) -> None:
    application = start_application(
        applicant=citizen, service=meldebescheinigung, municipality=wuppertal, trust_level="high"
    )
    read_before = Application.objects.get(pk=application.pk)
    if deleted_by == "another tab":
        delete_draft(application=application, actor=citizen)
    else:
        Application.objects.filter(pk=application.pk).update(expires_at="2000-01-01T00:00Z")
        assert delete_expired_drafts() == 1
    schema, _ = form_schema(meldebescheinigung)
    result = validate_step(schema, "person", PERSON, answers=read_before.answers)
    with pytest.raises(DraftGone) as refused:
        save_step(application=read_before, result=result)
    assert "gelöscht" in str(refused.value)
    assert "abgeschickt" not in str(refused.value) and "eingereicht" not in str(refused.value)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("schritt/certificate/", SIMPLE_CERTIFICATE),
        ("pruefen/", {"submission_key": "k", "confirm": "yes"}),
        ("loeschen/", {"confirm": "yes"}),
    ],
    ids=["step", "send", "delete"],
)
def test_a_draft_deleted_in_another_tab_leads_to_my_applications_with_a_message(
    logged_in: Client,
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    path: str,
    data: dict[str, str],
) -> None:
    """This request read the draft just before the other tab deleted it."""
    application = _start(logged_in)
    answer_all(application)
    read_before = Application.objects.get(pk=application.pk)
    delete_draft(application=application, actor=citizen)
    with mock.patch(
        "rathaus.applications.selectors.application_for_citizen", return_value=read_before
    ):
        response = logged_in.post(f"/antraege/{application.public_id}/{path}", data)
    assert response.status_code == 302
    assert response["Location"] == "/antraege/"
    shown = logged_in.get("/antraege/").content.decode()
    assert GONE in shown
    assert "kann nicht mehr geändert werden" not in shown
