"""The OpenAPI schema (``/api/schema/``) describes what the endpoints really answer."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from rathaus.documents.seal import SealStatus

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"
VERIFY = "/api/v1/verify/"


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The schema a ``$ref`` (or a nullable ``allOf`` of one) points to."""
    while "$ref" in node or "allOf" in node:
        if "allOf" in node:
            node = node["allOf"][0]
        else:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _properties(schema: dict[str, Any], response: dict[str, Any], media: str) -> dict[str, Any]:
    properties: dict[str, Any] = _resolve(schema, response["content"][media]["schema"])[
        "properties"
    ]
    return properties


def test_the_schema_is_valid_openapi_without_warnings() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())


@pytest.mark.parametrize("path", ["/api/v1/verify/", "/api/v1/verify/{code}/"])
def test_a_verification_result_is_documented_with_the_fields_it_has(
    client: Client, schema: dict[str, Any], path: str
) -> None:
    answer = client.post(VERIFY, {"sha256": "a" * 64}, content_type="application/json").json()
    operation = schema["paths"][path]["post" if path == VERIFY else "get"]
    documented = _properties(schema, operation["responses"]["200"], "application/json")
    assert set(answer) <= set(documented)
    assert {"checkpoint", "inclusion_proof", "authority", "revocation"} <= set(documented)
    statuses = set(_resolve(schema, documented["status"])["enum"])
    assert statuses == {"valid", "revoked", "pending", "unknown", "failed"}


def test_the_seal_of_an_uploaded_document_is_documented_with_the_fields_it_has(
    schema: dict[str, Any],
) -> None:
    operation = schema["paths"][VERIFY]["post"]
    result = _properties(schema, operation["responses"]["200"], "application/json")
    seal = _resolve(schema, result["seal"])
    assert set(SealStatus.unsealed("not sealed").as_json()) == set(seal["properties"])


@pytest.mark.parametrize(
    "path, method, statuses",
    [
        ("/api/v1/verify/", "post", {"400", "406", "413", "415", "429"}),
        ("/api/v1/verify/{code}/", "get", {"404", "406", "429"}),
        ("/api/v1/services/", "get", {"400", "406", "429"}),
        ("/api/v1/services/{slug}/", "get", {"404", "406", "429"}),
    ],
)
def test_error_answers_are_documented_as_problem_documents(
    schema: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    responses = schema["paths"][path][method]["responses"]
    assert statuses <= set(responses)
    for status in statuses:
        properties = _properties(schema, responses[status], PROBLEM)
        assert {"type", "title", "status", "detail", "instance"} <= set(properties)


def test_field_errors_are_documented_for_a_bad_request(schema: dict[str, Any]) -> None:
    response = schema["paths"]["/api/v1/verify/"]["post"]["responses"]["400"]
    assert "errors" in _properties(schema, response, PROBLEM)


def test_the_schema_documents_the_verification_upload_as_a_file(schema: dict[str, Any]) -> None:
    body = schema["paths"][VERIFY]["post"]["requestBody"]["content"]
    upload = _resolve(schema, body["multipart/form-data"]["schema"])["properties"]
    assert upload["document"].get("format") == "binary"
    assert "sha256" in upload
    as_json = _resolve(schema, body["application/json"]["schema"])
    assert set(as_json["properties"]) == {"sha256"}
    assert as_json["required"] == ["sha256"]
