"""Every API error is an RFC 9457 problem document with a 4xx status, not HTML, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

pytestmark = pytest.mark.django_db
VERIFY = "/api/v1/verify/"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def test_title_is_the_status_phrase_and_the_detail_names_the_method(client: Client) -> None:
    body = _problem(client.delete(VERIFY, HTTP_ACCEPT_LANGUAGE="en"), 405)
    assert body["title"] == "Method Not Allowed"
    assert "DELETE" in body["detail"]
    assert "{" not in body["title"] + body["detail"]


def test_title_of_an_unsupported_media_type_has_no_placeholder(client: Client) -> None:
    response = client.post(VERIFY, data="x", content_type="text/plain", HTTP_ACCEPT_LANGUAGE="en")
    body = _problem(response, 415)
    assert body["title"] == "Unsupported Media Type"
    assert "text/plain" in body["detail"]
    assert "{" not in body["title"] + body["detail"]


def test_validation_errors_keep_the_field_errors(client: Client) -> None:
    response = client.post(
        VERIFY,
        json.dumps({"sha256": "x" * 65}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = _problem(response, 400)
    assert body["title"] == "Bad Request"
    assert body["errors"]["sha256"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/",
        "/api/v1/unbekannt/",
        "/api/v1/verify/ABC/DEF/",
        "/api/v1/services/a/b/",
        "/api/",
        "/api/v2/services/",
    ],
)
def test_unknown_path_under_the_api_is_a_404_problem_document(client: Client, path: str) -> None:
    for response in (client.get(path), client.post(path), client.delete(path)):
        body = _problem(response, 404)
        assert body["instance"] == path


def test_path_without_the_trailing_slash_still_redirects(client: Client) -> None:
    response = client.get("/api/v1/services")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/services/"


def test_unknown_path_is_not_in_the_schema(client: Client) -> None:
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert set(paths) == {
        "/api/v1/services/",
        "/api/v1/services/{slug}/",
        "/api/v1/verify/",
        "/api/v1/verify/{code}/",
    }


def test_deeply_nested_json_is_a_400_not_a_recursion_error(client: Client) -> None:
    response = client.post(
        VERIFY, data="[" * 100_000, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    body = _problem(response, 400)
    assert "nested too deeply" in body["detail"]


def test_json_body_over_the_data_limit_is_a_413(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"sha256": "a" * 64, "pad": "x" * 2048})
    response = client.post(
        VERIFY, data=body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "1024 bytes" in _problem(response, 413)["detail"]


def test_too_many_form_fields_are_a_400(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = client.post(
        VERIFY, data={f"f{i}": "x" for i in range(10)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "more than 5 fields" in _problem(response, 400)["detail"]


def test_too_many_files_are_a_400(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    files = {f"f{i}": SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.7\n") for i in range(3)}
    response = client.post(VERIFY, data=files, HTTP_ACCEPT_LANGUAGE="en")
    assert "more than 1 files" in _problem(response, 400)["detail"]


def test_broken_multipart_body_is_a_400(client: Client) -> None:
    response = client.generic(
        "POST",
        VERIFY,
        b'--xyz\r\nContent-Disposition: form-data; name="document"; filename="a.pdf"\r\n',
        content_type="multipart/form-data; boundary=",
    )
    _problem(response, 400)


@pytest.mark.parametrize(
    "method, path, accept",
    [
        ("get", "/api/v1/services/?municipality=nope", "text/html"),
        ("get", "/api/v1/verify/ABCDEFGHJK/", "text/html"),
        ("delete", "/api/v1/verify/?format=api", "*/*"),
        ("delete", "/api/schema/", "*/*"),
        ("get", "/api/schema/?format=xml", "*/*"),
        ("get", "/api/v1/unbekannt/", "text/html"),
    ],
)
def test_errors_are_problem_documents_whatever_the_client_accepts(
    client: Client, method: str, path: str, accept: str
) -> None:
    response = getattr(client, method)(path, HTTP_ACCEPT=accept)
    assert response.status_code >= 400
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == response.status_code
    assert body["type"] == "about:blank" and body["title"]


def test_urlencoded_body_over_the_data_limit_is_a_problem_document(
    client: Client, settings: Any
) -> None:
    """The NUL check of every form body (core.null_characters) leaves the refusal of an
    oversized body to the view, which answers with a problem document, not Django's HTML 400."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(
        VERIFY, data="sha256=" + "a" * 5000, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (413, 415)
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == response.status_code


def test_a_request_for_an_unknown_host_is_a_problem_document(client: Client) -> None:
    body = _problem(client.get("/api/v1/services/", HTTP_HOST="evil.example"), 400)
    assert "evil.example" not in body["detail"]  # nor Django's advice on ALLOWED_HOSTS
    assert body["instance"] == "/api/v1/services/"


def test_a_page_for_an_unknown_host_is_still_the_html_page(client: Client) -> None:
    response = client.get("/leistungen/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Fehlercode: 400" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/api/v1/foo%0A/", "/api/v1/services/%0A/", "/api/%0A/", "/api/v1/x%0A"]
)
def test_unknown_path_with_a_newline_is_a_404_problem_document(client: Client, path: str) -> None:
    """A path without its final slash is redirected first (APPEND_SLASH), as any other."""
    _problem(client.get(path, follow=True), 404)
    _problem(client.post(path + ("" if path.endswith("/") else "/")), 404)


def test_an_unknown_page_outside_the_api_is_still_the_html_page(client: Client) -> None:
    response = client.get("/gibt-es-nicht%0A/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
