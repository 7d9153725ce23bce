"""The application pages: start, steps with errors kept, review, submit, and only one's own."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from tests.accounts.factories import ProfileFactory
from tests.applications.meldebescheinigung import PERSON, SIMPLE_CERTIFICATE, answer_all


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


def _start(client: Client) -> Application:
    response = client.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Application.objects.get()


def test_whole_flow_with_a_corrected_error(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(logged_in)
    url = f"/antraege/{application.public_id}/schritt/person/"
    page = logged_in.get(url)
    assert page.status_code == 200
    assert 'value="Mustermann"' in page.content.decode()  # prefilled from the profile

    bad = logged_in.post(url, {**PERSON, "address__postal_code": "4210"})
    body = bad.content.decode()
    assert bad.status_code == 400
    assert 'href="#' in body  # error summary links to the field
    assert 'value="4210"' in body  # what was typed is kept
    assert 'value="Neumarkt"' in body

    good = logged_in.post(url, PERSON)
    assert good.status_code == 302
    assert good["Location"].endswith("/schritt/certificate/")
    done = logged_in.post(good["Location"], {"kind": "simple"})
    assert done["Location"].endswith("/pruefen/")

    review = logged_in.get(done["Location"])
    assert "Einfache Meldebescheinigung" in review.content.decode()
    unconfirmed = logged_in.post(done["Location"], {"submission_key": "x1"})
    assert unconfirmed.status_code == 400
    sent = logged_in.post(done["Location"], {"submission_key": "x1", "confirm": "yes"})
    assert sent.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    again = logged_in.post(done["Location"], {"submission_key": "x1", "confirm": "yes"})
    assert again.status_code == 302
    assert Application.objects.filter(status="submitted").count() == 1
    listing = logged_in.get("/antraege/").content.decode()
    assert application.reference in listing


def test_start_without_municipality_keeps_the_page_with_a_message(
    logged_in: Client, meldebescheinigung: Service
) -> None:
    response = logged_in.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "atlantis"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Application.objects.exists()


def test_low_trust_level_is_told_how_to_reach_the_required_one(
    client: Client, citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    client.force_login(citizen)
    response = client.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    assert response.status_code == 400
    assert not Application.objects.exists()


def test_another_citizen_cannot_see_or_continue_the_draft(
    logged_in: Client,
    meldebescheinigung: Service,
    wuppertal: Municipality,
) -> None:
    application = _start(logged_in)
    other = Client()
    other.force_login(ProfileFactory().user)
    for path in ("", "schritt/person/", "pruefen/"):
        assert other.get(f"/antraege/{application.public_id}/{path}").status_code == 404
    assert other.post(f"/antraege/{application.public_id}/loeschen/").status_code == 404
    assert Application.objects.filter(pk=application.pk).exists()


def test_anonymous_visitors_are_sent_to_login(client: Client, db: None) -> None:
    response = client.get("/antraege/")
    assert response.status_code == 302
    assert "/konto/login/" in response["Location"]


def test_the_page_of_a_draft_with_every_step_answered_leads_to_the_review(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """Links and e-mails point to /antraege/<id>/; a finished draft has no step left to show."""
    application = _start(logged_in)
    answer_all(application)
    application.refresh_from_db()
    assert application.current_step == ""
    response = logged_in.get(f"/antraege/{application.public_id}/")
    assert response.status_code == 302
    assert response["Location"] == f"/antraege/{application.public_id}/pruefen/"


def test_a_draft_whose_step_was_removed_from_the_form_resumes_at_a_step_that_exists(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """A form update removed the step the draft was left at: "Fortsetzen" leads to the first
    step whose answers are missing (the person step is complete, prefilled from the profile),
    not to a 404."""
    application = _start(logged_in)
    Application.objects.filter(pk=application.pk).update(current_step="fahrzeug_alt")
    listing = logged_in.get("/antraege/").content.decode()
    continue_url = f"/antraege/{application.public_id}/"
    assert f'href="{continue_url}"' in listing
    response = logged_in.get(continue_url, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [
        (f"/antraege/{application.public_id}/schritt/certificate/", 302)
    ]


def test_a_draft_whose_step_is_gone_but_whose_answers_are_complete_resumes_at_the_review(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(logged_in)
    answer_all(application)
    Application.objects.filter(pk=application.pk).update(current_step="fahrzeug_alt")
    response = logged_in.get(f"/antraege/{application.public_id}/")
    assert response["Location"] == f"/antraege/{application.public_id}/pruefen/"


def test_a_draft_resumes_at_the_step_it_was_left_at(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(logged_in)
    Application.objects.filter(pk=application.pk).update(current_step="certificate")
    response = logged_in.get(f"/antraege/{application.public_id}/")
    assert response["Location"] == f"/antraege/{application.public_id}/schritt/certificate/"


def test_a_submission_key_posted_for_two_drafts_sends_both(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """The key only records which form sent it; a replayed or hand-made form must not fail."""
    first = _start(logged_in)
    answer_all(first)
    second_start = logged_in.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    assert second_start.status_code == 302
    second = Application.objects.exclude(pk=first.pk).get()
    answer_all(second)
    for application in (first, second):
        response = logged_in.post(
            f"/antraege/{application.public_id}/pruefen/",
            {"submission_key": "same", "confirm": "yes"},
        )
        assert response.status_code == 302, response.content.decode()[:500]
    assert Application.objects.filter(status="submitted").count() == 2


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("schritt/certificate/", SIMPLE_CERTIFICATE, "kann nicht mehr geändert werden"),
        ("loeschen/", {"confirm": "yes"}, "kann nicht gelöscht werden"),
    ],
    ids=["step", "delete"],
)
def test_a_draft_sent_meanwhile_in_another_tab_is_neither_changed_nor_deleted(
    logged_in: Client,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    path: str,
    data: dict[str, str],
    message: str,
) -> None:
    """This request read the draft just before the other tab's submission froze it."""
    application = _start(logged_in)
    answer_all(application)
    read_before = Application.objects.get(pk=application.pk)
    sent = logged_in.post(
        f"/antraege/{application.public_id}/pruefen/", {"submission_key": "k", "confirm": "yes"}
    )
    assert sent.status_code == 302
    with mock.patch(
        "rathaus.applications.selectors.application_for_citizen", return_value=read_before
    ):
        response = logged_in.post(f"/antraege/{application.public_id}/{path}", data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


def test_a_declaration_changed_in_another_tab_after_the_review_is_not_sent_unseen(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """§ 9a OZG: what is sent is what the citizen reviewed. A step saved in another tab after
    the review page was shown sends the citizen back to the review, which shows the change."""
    import re

    application = _start(logged_in)
    answer_all(application)
    review_url = f"/antraege/{application.public_id}/pruefen/"
    page = logged_in.get(review_url).content.decode()
    reviewed = re.search(r'name="reviewed" value="([0-9a-f]+)"', page)
    assert reviewed is not None
    # the other tab: an extended certificate instead of the simple one reviewed
    logged_in.post(
        f"/antraege/{application.public_id}/schritt/certificate/",
        {"kind": "extended", "purpose": "Vorlage beim Arbeitgeber"},
    )

    stale = logged_in.post(
        review_url, {"submission_key": "k1", "confirm": "yes", "reviewed": reviewed.group(1)}
    )
    body = stale.content.decode()
    assert stale.status_code == 400
    assert "nach Ihrer Prüfung geändert" in body
    assert "Erweiterte Meldebescheinigung" in body  # the changed declaration is shown now
    application.refresh_from_db()
    assert application.is_draft

    fresh = re.search(r'name="reviewed" value="([0-9a-f]+)"', body)
    assert fresh is not None and fresh.group(1) != reviewed.group(1)
    sent = logged_in.post(
        review_url, {"submission_key": "k2", "confirm": "yes", "reviewed": fresh.group(1)}
    )
    assert sent.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert application.submitted_data["kind"] == "extended"
