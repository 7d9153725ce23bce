"""Feedback from the accessibility statement (§ 7 BITV 2.0): validation, storage, e-mail."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from rathaus.core.models import AuditEvent
from rathaus.portal.models import AccessibilityFeedback


@pytest.mark.django_db
def test_feedback_without_message_shows_error_next_to_field_and_keeps_input(client: Client) -> None:
    response = client.post(
        "/barrierefreiheit/",
        {
            "message": "   ",
            "name": "Kim Muster",
            "email": "kim@example.de",
            "page_url": "/leistungen/",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert AccessibilityFeedback.objects.count() == 0
    # error summary at the top, linking to the field
    assert 'id="error-summary"' in html
    assert 'href="#id_message"' in html
    # error next to the field, referenced by aria-describedby, field marked invalid
    assert re.search(
        r'<p class="kern-error" id="id_message_error">.*Bitte beschreiben Sie die Barriere',
        html,
        re.S,
    )
    textarea = re.search(r"<textarea[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in textarea
    assert "id_message_helptext id_message_error" in textarea
    assert "kern-form-input__input--error" in textarea
    # what the person typed is kept
    assert 'value="Kim Muster"' in html
    assert 'value="kim@example.de"' in html
    assert 'value="/leistungen/"' in html
    assert "<title>Fehler: Erklärung zur Barrierefreiheit" in html


@pytest.mark.django_db
def test_feedback_with_invalid_email_and_page_is_refused_in_english(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post(
        "/barrierefreiheit/",
        {
            "message": "The search button has no label",
            "email": "kim@",
            "page_url": "javascript:alert(1)",
        },
    )
    html = response.content.decode()
    assert AccessibilityFeedback.objects.count() == 0
    assert "Please enter an e-mail address like name@example.de." in html
    assert "Please enter the page address, for example /leistungen/ or https://…" in html
    assert "The search button has no label</textarea>" in html


@pytest.mark.django_db
def test_feedback_is_stored_audited_and_mailed_to_the_operator(
    client: Client, settings, django_capture_on_commit_callbacks
) -> None:
    settings.ACCESSIBILITY_FEEDBACK_EMAIL = "barrierefreiheit@stadt.example"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/barrierefreiheit/",
            {"message": "Kontrast der Schaltfläche zu gering", "page_url": "/leistungen/umzug/"},
        )
    assert response.status_code == 302
    assert response["Location"] == "/barrierefreiheit/"
    feedback = AccessibilityFeedback.objects.get()
    assert feedback.message == "Kontrast der Schaltfläche zu gering"
    assert feedback.page_url == "/leistungen/umzug/"
    assert feedback.name == ""
    assert feedback.email == ""
    assert feedback.language == "de"
    assert AuditEvent.objects.filter(
        action="accessibility_feedback.received", object_id=str(feedback.pk)
    ).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["barrierefreiheit@stadt.example"]
    assert f"Nr. {feedback.pk}" in mail.outbox[0].subject
    assert "Kontrast der Schaltfläche zu gering" in mail.outbox[0].body
    assert "/leistungen/umzug/" in mail.outbox[0].body


@pytest.mark.django_db
def test_operator_mail_is_german_even_when_the_citizen_writes_in_english(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/barrierefreiheit/", {"message": "Focus is invisible"})
    assert mail.outbox[0].subject.startswith("Rückmeldung zur Barrierefreiheit")
    assert AccessibilityFeedback.objects.get().language == "en"


@pytest.mark.django_db
def test_feedback_is_kept_when_mail_delivery_fails(
    client: Client, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_BACKEND = "tests.portal.failing_mail.Backend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/barrierefreiheit/", {"message": "Captcha ohne Alternative"})
    assert response.status_code == 302
    assert AccessibilityFeedback.objects.count() == 1


@pytest.mark.django_db
def test_page_field_is_prefilled_from_the_page_the_person_came_from(client: Client) -> None:
    html = client.get(
        "/barrierefreiheit/", HTTP_REFERER="http://testserver/leistungen/?q=pass"
    ).content.decode()
    assert re.search(r'name="page_url" value="/leistungen/"', html)
    html = client.get(
        "/barrierefreiheit/", HTTP_REFERER="https://elsewhere.example/x/"
    ).content.decode()
    assert not re.search(r'name="page_url" value=', html)


@pytest.mark.django_db
def test_overlong_message_is_refused_with_a_clear_message(client: Client) -> None:
    html = client.post("/barrierefreiheit/", {"message": "x" * 5001}).content.decode()
    assert "Bitte kürzen Sie Ihre Nachricht auf höchstens 5000 Zeichen." in html
    assert AccessibilityFeedback.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["http://[::1", "http://[oops/"])
def test_an_unparsable_page_address_is_ignored_when_prefilling(
    client: Client, address: str
) -> None:
    for response in (
        client.get("/barrierefreiheit/", {"seite": address}),
        client.get("/barrierefreiheit/", HTTP_REFERER=address),
    ):
        assert response.status_code == 200
        assert not re.search(r'name="page_url" value=', response.content.decode())


@pytest.mark.django_db
def test_an_unparsable_page_address_gets_a_message_and_the_text_is_kept(client: Client) -> None:
    response = client.post(
        "/barrierefreiheit/", {"message": "Kontrast zu schwach", "page_url": "http://[x/"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert AccessibilityFeedback.objects.count() == 0
    assert "Bitte geben Sie die Adresse der Seite ein" in html
    assert "Kontrast zu schwach</textarea>" in html
