"""NUL characters never reach a view (PostgreSQL refuses them in text: a 500 on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, params",
    [
        ("/leistungen/", {"q": "Pass\x00"}),
        ("/barrierefreiheit/", {"seite": "/x\x00"}),
    ],
)
def test_a_page_asked_for_with_a_nul_character_is_a_400_page(path: str, params: dict) -> None:
    response = Client().get(path, params)
    assert response.status_code == 400
    assert "text/html" in response["Content-Type"]
    assert "Fehlercode: 400" in response.content.decode()


@pytest.mark.django_db
def test_an_api_request_with_a_nul_character_is_a_problem_document() -> None:
    response = Client().get("/api/v1/services/", {"municipality": "a\x00b"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and "NUL" in problem["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, title, detail",
    [
        ("de", "Fehlerhafte Anfrage", "Die Anfrage enthält ein NUL-Zeichen (%00)"),
        ("en", "Bad Request", "The request contains a NUL character (%00)"),
    ],
)
def test_the_nul_problem_document_is_in_the_request_language(
    language: str, title: str, detail: str
) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get(
        "/api/v1/services/", {"municipality": "a\x00b"}
    )
    problem = response.json()
    assert problem["title"] == title and problem["detail"].startswith(detail)
    assert response["Content-Language"] == language


@pytest.mark.django_db
def test_a_form_sent_with_a_nul_character_is_refused_before_the_view(django_user_model) -> None:
    client = Client()
    client.force_login(django_user_model.objects.create_user("nul@example.org", "x"))
    response = client.post(
        "/antraege/neu/meldebescheinigung/",
        "gemeinde=wupp%00ertal",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_nul_character_sent_as_multipart_ends_as_a_400_not_a_500(django_user_model) -> None:
    """The multipart body is parsed by the view; PostgreSQL refuses the text (SQLite stores it,
    and the view then answers as for any unknown municipality)."""
    from django.db import connection

    client = Client(raise_request_exception=False)
    client.force_login(django_user_model.objects.create_user("nul@example.org", "x"))
    response = client.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wupp\x00ertal"})
    assert response.status_code < 500
    if connection.vendor == "postgresql":
        assert response.status_code == 400


@pytest.mark.django_db
def test_ordinary_requests_pass() -> None:
    assert Client().get("/leistungen/", {"q": "Pass 100%"}).status_code == 200


def test_a_page_refused_before_the_locale_middleware_is_in_the_request_language(
    settings: Any,
) -> None:
    """With the redirect to HTTPS, SecurityMiddleware reads the Host header before
    LocaleMiddleware ran: the 400 page must not take the language another request left active
    in this thread."""
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    with translation.override("en"):
        german = client.get("/leistungen/", HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE="de")
    with translation.override("de"):
        english = client.get("/leistungen/", HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE="en")
    assert german.status_code == english.status_code == 400
    assert "Fehlercode: 400" in german.content.decode()
    assert "Error code: 400" in english.content.decode()
