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
    body = _problem(client.delete(VERIFY), 405)
    assert body["title"] == "Method Not Allowed"
    assert "DELETE" in body["detail"]
    assert "{" not in body["title"] + body["detail"]


def test_title_of_an_unsupported_media_type_has_no_placeholder(client: Client) -> None:
    body = _problem(client.post(VERIFY, data="x", content_type="text/plain"), 415)
    assert body["title"] == "Unsupported Media Type"
    assert "text/plain" in body["detail"]
    assert "{" not in body["title"] + body["detail"]


def test_validation_errors_keep_the_field_errors(client: Client) -> None:
    response = client.post(
        VERIFY, json.dumps({"sha256": "x" * 65}), content_type="application/json"
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
    response = client.post(VERIFY, data="[" * 100_000, content_type="application/json")
    body = _problem(response, 400)
    assert "nested too deeply" in body["detail"]


def test_json_body_over_the_data_limit_is_a_413(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"sha256": "a" * 64, "pad": "x" * 2048})
    response = client.post(VERIFY, data=body, content_type="application/json")
    assert "1024 bytes" in _problem(response, 413)["detail"]


def test_too_many_form_fields_are_a_400(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = client.post(VERIFY, data={f"f{i}": "x" for i in range(10)})
    assert "more than 5 fields" in _problem(response, 400)["detail"]


def test_too_many_files_are_a_400(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    files = {f"f{i}": SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.7\n") for i in range(3)}
    response = client.post(VERIFY, data=files)
    assert "more than 1 files" in _problem(response, 400)["detail"]


def test_broken_multipart_body_is_a_400(client: Client) -> None:
    response = client.generic(
        "POST",
        VERIFY,
        b'--xyz\r\nContent-Disposition: form-data; name="document"; filename="a.pdf"\r\n',
        content_type="multipart/form-data; boundary=",
    )
    _problem(response, 400)
