"""The texts of the API's problem documents follow the request's language (Accept-Language, the
language cookie; German when nothing is asked for); ``type``, ``status``, ``instance`` and field
names are the same in every language."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404, HttpResponse
from django.test import Client, RequestFactory
from django.utils import translation

from rathaus.api import error_views
from rathaus.api.throttles import CatalogThrottle

pytestmark = pytest.mark.django_db
VERIFY = "/api/v1/verify/"
SERVICES = "/api/v1/services/"
MB = 1024 * 1024
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}

Body = dict[str, Any]


@pytest.fixture(autouse=True)
def _language_kept() -> Iterator[None]:
    """LocaleMiddleware leaves the language of the last request active in this thread."""
    with translation.override(translation.get_language()):
        yield


def _in_each_language(send: Callable[..., HttpResponse], status: int) -> tuple[Body, Body, Body]:
    """The problem document asked for in German, with no language asked for, and in English;
    the machine-readable members are the same in all three."""
    bodies = []
    for language, headers in (("de", GERMAN), ("de", {}), ("en", ENGLISH)):
        response = send(**headers)
        assert response.status_code == status, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert response["Content-Language"] == language
        bodies.append(response.json())
    german, default, english = bodies
    for body in bodies:
        assert body["type"] == "about:blank"
        assert body["status"] == status
    assert german["instance"] == default["instance"] == english["instance"]
    assert set(german.get("errors", {})) == set(english.get("errors", {}))
    assert english["title"] == HTTPStatus(status).phrase
    return german, default, english


def test_an_unknown_path_is_answered_in_the_request_language(client: Client) -> None:
    german, default, english = _in_each_language(
        lambda **h: client.get("/api/v1/unbekannt/", **h), 404
    )
    assert german == default
    assert german["title"] == "Nicht gefunden"
    assert german["detail"] == "Unter dieser Adresse gibt es keinen API-Endpunkt."
    assert english["detail"] == "There is no API endpoint at this address."


def test_an_unknown_service_is_answered_in_the_request_language(client: Client) -> None:
    german, default, english = _in_each_language(
        lambda **h: client.get(SERVICES + "gibt-es-nicht/", **h), 404
    )
    assert german == default
    assert german["detail"] == "Es gibt keine Leistung mit diesem Kürzel."
    assert english["detail"] == "There is no service with this slug."


def test_an_unknown_verification_code_is_answered_in_the_request_language(
    client: Client,
) -> None:
    german, default, english = _in_each_language(
        lambda **h: client.get(VERIFY + "7KQ4M-2XH9P/", **h), 404
    )
    assert german == default
    assert german["detail"] == "Mit diesem Prüfcode wurde kein Dokument ausgestellt."
    assert english["detail"] == "No document was issued with this code."


def test_a_method_not_allowed_is_answered_in_the_request_language(client: Client) -> None:
    german, default, english = _in_each_language(lambda **h: client.delete(VERIFY, **h), 405)
    assert german == default
    assert german["title"] == "Methode nicht erlaubt"
    assert german["detail"] == 'Methode "DELETE" nicht erlaubt.'  # DRF's German
    assert english["detail"] == 'Method "DELETE" not allowed.'


def test_field_errors_of_the_catalog_filters_are_in_the_request_language(client: Client) -> None:
    query = {"q": "x" * 101, "municipality": "nirgendwo", "life_situation": "mondfahrt"}
    german, default, english = _in_each_language(lambda **h: client.get(SERVICES, query, **h), 400)
    assert german == default
    assert german["title"] == "Fehlerhafte Anfrage"
    assert german["detail"] == "Ungültige Eingabe."
    assert german["errors"] == {
        "q": ["Geben Sie höchstens 100 Zeichen ein."],
        "municipality": ["Es gibt keine Gemeinde mit dem Kürzel „nirgendwo“."],
        "life_situation": ["Es gibt keine Lebenslage mit dem Kürzel „mondfahrt“."],
    }
    assert english["detail"] == "Invalid input."
    assert english["errors"] == {
        "q": ["Enter at most 100 characters."],
        "municipality": ["There is no municipality with the slug “nirgendwo”."],
        "life_situation": ["There is no life situation with the slug “mondfahrt”."],
    }


@pytest.mark.parametrize(
    "body, field, german_message, english_message",
    [
        (
            {"sha256": "x" * 65},
            "sha256",
            "Ein SHA-256-Hashwert hat 64 hexadezimale Stellen.",
            "A SHA-256 hash has 64 hexadecimal digits.",
        ),
        (  # the ledger's own message (ledger.services.document_hash)
            {"sha256": "x" * 64},
            "sha256",
            "Ein SHA-256-Hashwert hat 64 hexadezimale Stellen.",
            "A SHA-256 hash has 64 hexadecimal digits.",
        ),
        (
            {"sha256": True},
            "sha256",
            "Senden Sie den SHA-256-Hashwert als Zeichenkette.",
            "Send the SHA-256 hash as a string.",
        ),
        (
            {"document": "bescheid.pdf"},
            "document",
            "Der Wert ist keine Datei: Senden Sie das PDF als multipart/form-data.",
            "The value is not a file: send the PDF as multipart/form-data.",
        ),
        (
            {},
            "non_field_errors",
            "Senden Sie entweder das Dokument (document) oder seinen SHA-256-Hashwert (sha256), "
            "nicht beides und nicht keines davon.",
            "Send either a document or its sha256, not both or neither.",
        ),
        (
            ["a" * 64],
            "non_field_errors",
            "Ungültige Daten: Erwartet wird ein JSON-Objekt, erhalten wurde list.",
            "Invalid data: expected a JSON object, got list.",
        ),
        (  # DRF's "No data provided" has no translation
            None,
            "non_field_errors",
            "Die Anfrage enthält keine Daten (null): Senden Sie ein Objekt mit den Feldern.",
            "The request sent no data (null): send an object with the fields.",
        ),
    ],
)
def test_refusals_of_a_verification_are_in_the_request_language(
    client: Client, body: Any, field: str, german_message: str, english_message: str
) -> None:
    german, default, english = _in_each_language(
        lambda **h: client.post(VERIFY, json.dumps(body), content_type="application/json", **h),
        400,
    )
    assert german == default
    assert german["title"] == "Fehlerhafte Anfrage"
    assert german["errors"] == {field: [german_message]}
    assert english["errors"] == {field: [english_message]}


def test_a_file_that_is_no_pdf_is_refused_in_the_request_language(client: Client) -> None:
    def send(**headers: str) -> HttpResponse:
        upload = SimpleUploadedFile("b.txt", b"hello", content_type="text/plain")
        return client.post(VERIFY, {"document": upload}, **headers)

    german, default, english = _in_each_language(send, 400)
    assert german == default
    assert german["errors"] == {"document": ["Die Datei ist kein PDF-Dokument."]}
    assert english["errors"] == {"document": ["The file is not a PDF document."]}


def test_an_unsupported_media_type_is_answered_in_the_request_language(client: Client) -> None:
    german, default, english = _in_each_language(
        lambda **h: client.post(VERIFY, data="x", content_type="text/plain", **h), 415
    )
    assert german == default
    assert german["title"] == "Nicht unterstützter Medientyp"
    assert german["detail"] == 'Nicht unterstützter Medientyp "text/plain" in der Anfrage.'
    assert english["detail"] == 'Unsupported media type "text/plain" in request.'


def test_an_accept_header_without_json_is_answered_in_the_request_language(
    client: Client,
) -> None:
    german, default, english = _in_each_language(
        lambda **h: client.get(SERVICES, HTTP_ACCEPT="text/html", **h), 406
    )
    assert german == default
    assert german["title"] == "Nicht annehmbar"
    assert german["detail"] == (
        "Der Accept-Header der Anfrage lässt keines der Formate zu, in denen diese Adresse "
        "antwortet: application/json."
    )
    assert english["detail"] == (
        "The Accept header of the request allows none of the formats this address answers "
        "in: application/json."
    )


@pytest.mark.parametrize(
    "body, german_detail, english_detail",
    [
        (
            "{",
            "Der JSON-Inhalt der Anfrage ist fehlerhaft: Expecting property name enclosed in "
            "double quotes (Zeile 1, Spalte 2).",
            "JSON parse error - Expecting property name enclosed in double quotes "
            "(line 1, column 2).",
        ),
        (
            "[" * 100_000,
            "Der JSON-Inhalt der Anfrage ist zu tief verschachtelt.",
            "JSON parse error - the document is nested too deeply.",
        ),
    ],
)
def test_a_json_parse_error_is_answered_in_the_request_language(
    client: Client, body: str, german_detail: str, english_detail: str
) -> None:
    german, default, english = _in_each_language(
        lambda **h: client.post(VERIFY, data=body, content_type="application/json", **h), 400
    )
    assert german == default
    assert german["title"] == "Fehlerhafte Anfrage"
    assert german["detail"] == german_detail
    assert english["detail"] == english_detail


def test_a_broken_multipart_body_is_answered_in_the_request_language(client: Client) -> None:
    body = b'--xyz\r\nContent-Disposition: form-data; name="document"; filename="a.pdf"\r\n'
    german, default, english = _in_each_language(
        lambda **h: client.generic(
            "POST", VERIFY, body, content_type="multipart/form-data; boundary=", **h
        ),
        400,
    )
    assert german == default
    # Django's own diagnosis is quoted as it is
    assert german["detail"] == (
        "Der Multipart-Inhalt der Anfrage ist fehlerhaft: Invalid boundary in multipart: "
    )
    assert english["detail"] == "Multipart form parse error - Invalid boundary in multipart: "


def test_a_body_over_the_data_limit_is_answered_in_the_request_language(
    client: Client, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"sha256": "a" * 64, "pad": "x" * 2048})
    german, default, english = _in_each_language(
        lambda **h: client.post(VERIFY, data=body, content_type="application/json", **h), 413
    )
    assert german == default
    assert german["title"] == "Anfrage zu groß"
    assert german["detail"] == "Die Daten der Anfrage sind größer als 1024 Byte."
    assert english["detail"] == "The request data is larger than 1024 bytes."


def test_an_upload_over_the_limit_is_answered_in_the_request_language(
    client: Client, settings: Any
) -> None:
    settings.LEDGER_VERIFY_MAX_BYTES = MB
    pdf = b"%PDF-1.7\n" + b"0" * MB

    def send(**headers: str) -> HttpResponse:
        upload = SimpleUploadedFile("big.pdf", pdf, content_type="application/pdf")
        return client.post(VERIFY, {"document": upload}, **headers)

    german, default, english = _in_each_language(send, 413)
    assert german == default
    assert german["detail"] == "Die Datei ist größer als 1 MB."
    assert english["detail"] == "The file is larger than 1 MB."


def test_too_many_fields_and_files_are_answered_in_the_request_language(
    client: Client, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    fields = {f"f{i}": "x" for i in range(10)}
    german, default, english = _in_each_language(
        lambda **h: client.post(VERIFY, data=fields, **h), 400
    )
    assert german == default
    assert german["detail"] == "Die Anfrage enthält zu viele Felder (erlaubt sind höchstens 5)."
    assert english["detail"] == "The request has more than 5 fields."

    def send_files(**headers: str) -> HttpResponse:
        files = {f"f{i}": SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.7\n") for i in range(3)}
        return client.post(VERIFY, data=files, **headers)

    german, default, english = _in_each_language(send_files, 400)
    assert german == default
    assert german["detail"] == "Die Anfrage enthält zu viele Dateien (erlaubt sind höchstens 1)."
    assert english["detail"] == "The request has more than 1 files."


def _wait(body: Body, pattern: str, response_wait: str) -> None:
    match = re.fullmatch(pattern, body["detail"])
    assert match, body["detail"]
    assert 0 < int(match.group(1)) <= int(response_wait)


def test_a_throttled_catalog_request_is_answered_in_the_request_language(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CatalogThrottle, "THROTTLE_RATES", {"catalog": "1/min"})
    assert client.get(SERVICES).status_code == 200
    german, default, english = _in_each_language(lambda **h: client.get(SERVICES, **h), 429)
    assert german["title"] == default["title"] == "Zu viele Anfragen"
    german_wait = r"Zu viele Anfragen\. Bitte versuchen Sie es in (\d+) Sekunden? erneut\."
    _wait(german, german_wait, "60")
    _wait(default, german_wait, "60")
    _wait(english, r"Too many requests\. Please try again in (\d+) seconds?\.", "60")


def test_a_throttled_verification_is_answered_in_the_request_language(
    client: Client, settings: Any
) -> None:
    settings.LEDGER_VERIFY_RATE_LIMITS = {"code": (1, 600)}
    assert client.get(VERIFY + "7KQ4M-2XH9P/").status_code == 404
    german, default, english = _in_each_language(
        lambda **h: client.get(VERIFY + "7KQ4M-2XH9P/", **h), 429
    )
    german_wait = r"Zu viele Anfragen\. Bitte versuchen Sie es in (\d+) Sekunden? erneut\."
    _wait(german, german_wait, "600")
    _wait(default, german_wait, "600")
    _wait(english, r"Too many requests\. Please try again in (\d+) seconds?\.", "600")


def test_the_language_cookie_chooses_the_language_as_on_the_pages(
    client: Client, settings: Any
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/api/v1/unbekannt/", HTTP_ACCEPT_LANGUAGE="de")
    assert response["Content-Language"] == "en"
    assert response.json()["detail"] == "There is no API endpoint at this address."
    other = Client().get("/api/v1/unbekannt/", HTTP_ACCEPT_LANGUAGE="fr, en;q=0.5")
    assert other.json()["title"] == "Not Found"
    unknown = Client().get("/api/v1/unbekannt/", HTTP_ACCEPT_LANGUAGE="fr")
    assert unknown.json()["title"] == "Nicht gefunden"  # German, the default


def test_an_unknown_host_is_answered_in_the_request_language(client: Client) -> None:
    german, default, english = _in_each_language(
        lambda **h: client.get(SERVICES, HTTP_HOST="evil.example", **h), 400
    )
    assert german == default
    assert german["detail"] == "Der Host-Header der Anfrage nennt keine Website dieses Servers."
    assert english["detail"] == "The Host header names no site of this server."


def test_a_refusal_before_the_locale_middleware_ignores_the_language_left_active(
    settings: Any,
) -> None:
    """With the redirect to HTTPS, SecurityMiddleware reads the Host header before
    LocaleMiddleware ran: no language is activated for the request, a thread may still have
    another request's."""
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    with translation.override("en"):
        german = client.get(SERVICES, HTTP_HOST="evil.example", **GERMAN)
    with translation.override("de"):
        english = client.get(SERVICES, HTTP_HOST="evil.example", **ENGLISH)
    assert german.status_code == english.status_code == 400
    assert german["Content-Language"] == "de" and english["Content-Language"] == "en"
    assert "Accept-Language" in german["Vary"]
    assert german.json()["title"] == "Fehlerhafte Anfrage"
    assert english.json()["title"] == "Bad Request"
    assert german.json()["detail"] == (
        "Der Host-Header der Anfrage nennt keine Website dieses Servers."
    )
    assert english.json()["detail"] == "The Host header names no site of this server."


@pytest.mark.parametrize(
    "handler, exception, status, german_detail, english_detail",
    [
        (
            error_views.bad_request,
            BadRequest(),
            400,
            "Die Anfrage konnte nicht gelesen werden.",
            "The request could not be read.",
        ),
        (
            error_views.permission_denied,
            PermissionDenied(),
            403,
            "Sie sind nicht berechtigt, diese Aktion durchzuführen.",
            "You do not have permission to perform this action.",
        ),
        (
            error_views.page_not_found,
            Http404(),
            404,
            "Unter dieser Adresse gibt es keinen API-Endpunkt.",
            "There is no API endpoint at this address.",
        ),
        (
            error_views.server_error,
            None,
            500,
            "Ein Serverfehler ist aufgetreten.",
            "A server error occurred.",
        ),
    ],
)
def test_the_error_views_answer_in_the_request_language_whatever_is_active(
    rf: RequestFactory,
    handler: Callable[..., HttpResponse],
    exception: Exception | None,
    status: int,
    german_detail: str,
    english_detail: str,
) -> None:
    args = () if exception is None else (exception,)
    with translation.override("en"):
        german = handler(rf.get("/api/v1/x/", **GERMAN), *args)
    with translation.override("de"):
        english = handler(rf.get("/api/v1/x/", **ENGLISH), *args)
        default = handler(rf.get("/api/v1/x/"), *args)
    assert german.status_code == english.status_code == default.status_code == status
    assert german["Content-Language"] == default["Content-Language"] == "de"
    assert english["Content-Language"] == "en"
    german_body, english_body = json.loads(german.content), json.loads(english.content)
    assert json.loads(default.content) == german_body
    assert german_body["detail"] == german_detail
    assert english_body["detail"] == english_detail
    assert english_body["title"] == HTTPStatus(status).phrase
    assert german_body["title"] != english_body["title"]
    assert {k: v for k, v in german_body.items() if k not in ("title", "detail")} == {
        k: v for k, v in english_body.items() if k not in ("title", "detail")
    }


def test_a_server_error_is_answered_in_the_request_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rathaus.catalog import selectors

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "search_services", broken)
    client = Client(raise_request_exception=False)
    german, default, english = _in_each_language(lambda **h: client.get(SERVICES, **h), 500)
    assert german == default
    assert german["title"] == "Interner Serverfehler"
    assert german["detail"] == "Ein Serverfehler ist aufgetreten."
    assert english["detail"] == "A server error occurred."


@pytest.mark.parametrize(
    "method, path",
    [("post", SERVICES), ("delete", SERVICES + "wohngeld/"), ("delete", "/api/schema/")],
)
def test_a_failed_csrf_check_is_answered_in_the_request_language(method: str, path: str) -> None:
    """Signed-in users are authenticated by their session: an unsafe method needs the CSRF
    token (DRF's message for it is English only)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_user("erika", password="x"))
    german, default, english = _in_each_language(
        lambda **h: getattr(client, method)(path, **h), 403
    )
    assert german == default
    assert german["title"] == "Zugriff verweigert"
    assert german["detail"].startswith("CSRF-Prüfung fehlgeschlagen: ")
    assert english["detail"].startswith("CSRF Failed: ")
    # the reason is Django's, quoted as it is
    assert german["detail"].split(": ", 1)[1] == english["detail"].split(": ", 1)[1]
