"""REST API of the catalog: /api/v1/services/ and the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from rathaus.api.throttles import CatalogThrottle
from rathaus.catalog.models import Service


def test_service_list_has_the_documented_fields(client: Client, db: None) -> None:
    response = client.get("/api/v1/services/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] >= 20
    first = body["results"][0]
    assert {"slug", "name", "leika_key", "trust_level", "online"} <= set(first)
    by_slug = {s["slug"]: s for s in body["results"]}
    assert by_slug["wohnsitz-anmelden"]["leika_key"] == "99115005104000"
    assert by_slug["kindergeld"]["leika_key"] == ""
    assert by_slug["personalausweis"]["online"] is False
    assert by_slug["wohnsitz-anmelden"]["trust_level"] == "high"


def test_service_list_search_and_filters(client: Client, demo: None) -> None:
    assert [s["slug"] for s in client.get("/api/v1/services/?q=parkaus").json()["results"]] == [
        "bewohnerparkausweis"
    ]
    traffic = client.get("/api/v1/services/?life_situation=auto-verkehr").json()["results"]
    assert "fuehrerschein" in {s["slug"] for s in traffic}
    assert "wohngeld" not in {s["slug"] for s in traffic}
    solingen = client.get("/api/v1/services/?municipality=solingen&q=einbuergerung").json()
    assert [s["slug"] for s in solingen["results"]] == ["einbuergerung"]


def test_names_follow_the_requested_language(client: Client, db: None) -> None:
    body = client.get("/api/v1/services/?q=parkaus", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["results"][0]["name"] == "Apply for a resident parking permit"


def test_service_detail_has_responsibilities_and_fees(client: Client, demo: None) -> None:
    response = client.get("/api/v1/services/meldebescheinigung/")
    assert response.status_code == 200
    body = response.json()
    assert body["fee_kind"] == "municipal"
    handlers = {r["municipality"]: r for r in body["responsibilities"]}
    assert handlers["wuppertal"]["authority"]["municipality"] == "Remscheid"
    assert handlers["wuppertal"]["shared"] is True
    assert handlers["wuppertal"]["local_fee"] == "10.00"
    assert handlers["remscheid"]["shared"] is False
    fees = client.get("/api/v1/services/personalausweis/").json()["fees"]
    assert {f["amount"] for f in fees} == {"46.00", "27.60"}


def test_unknown_service_is_a_404_problem_document(client: Client, db: None) -> None:
    response = client.get("/api/v1/services/gibt-es-nicht/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["instance"] == "/api/v1/services/gibt-es-nicht/"


def test_bad_filter_values_are_a_400_problem_document(client: Client, demo: None) -> None:
    for query in ("municipality=atlantis", "life_situation=mond", "q=" + "x" * 200):
        response = client.get(f"/api/v1/services/?{query}")
        assert response.status_code == 400, query
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"]


def test_the_api_is_read_only(client: Client, db: None) -> None:
    assert client.post("/api/v1/services/", {}).status_code in {403, 405}
    assert client.delete("/api/v1/services/wohngeld/").status_code in {403, 405}


def test_schema_documents_the_service_endpoints(client: Client, db: None) -> None:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/services/" in schema["paths"]
    assert "/api/v1/services/{slug}/" in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/v1/services/"]["get"]["parameters"]}
    assert {"q", "life_situation", "municipality"} <= parameters
    listed = schema["components"]["schemas"]["ServiceList"]["properties"]
    assert {"slug", "name", "leika_key", "trust_level", "online"} <= set(listed)


def test_limit_is_capped_at_100_per_page(client: Client, db: None) -> None:
    template = Service.objects.get(slug="wohngeld")
    copies = []
    for number in range(100):
        copy = Service.objects.get(pk=template.pk)
        copy.pk = None
        copy.slug = f"kopie-{number}"
        copies.append(copy)
    Service.objects.bulk_create(copies)
    body = client.get("/api/v1/services/?limit=1000000").json()
    assert body["count"] > 100
    assert len(body["results"]) == 100
    assert "limit=100" in body["next"]


def test_anonymous_clients_are_throttled_with_a_429_problem_document(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CatalogThrottle, "THROTTLE_RATES", {"catalog": "3/min"})
    for _ in range(3):
        assert client.get("/api/v1/services/").status_code == 200
    for path in ("/api/v1/services/", "/api/v1/services/wohngeld/"):
        response = client.get(path, HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 429
        assert response["Content-Type"] == "application/problem+json"
        assert 0 < int(response["Retry-After"]) <= 60
        assert response.json()["title"] == "Too Many Requests"
    assert Client(REMOTE_ADDR="192.0.2.7").get("/api/v1/services/").status_code == 200


def test_signed_in_users_are_not_throttled(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CatalogThrottle, "THROTTLE_RATES", {"catalog": "1/min"})
    client.force_login(get_user_model().objects.create_user("erika", password="x"))
    assert {client.get("/api/v1/services/").status_code for _ in range(3)} == {200}


def test_the_default_rate_is_a_limit() -> None:
    requests, seconds = CatalogThrottle().parse_rate(CatalogThrottle.THROTTLE_RATES["catalog"])
    assert requests is not None and seconds is not None
    assert 0 < requests <= 1000


def test_clients_of_one_ipv6_network_share_the_catalog_limit(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An IPv6 client may take a new address of its /64 for every request (as for the
    verification limits, core.clients.client_key)."""
    monkeypatch.setattr(CatalogThrottle, "THROTTLE_RATES", {"catalog": "2/min"})
    answers = [
        Client(REMOTE_ADDR=f"2001:db8:0:1::{n}").get("/api/v1/services/").status_code
        for n in range(1, 5)
    ]
    assert answers == [200, 200, 429, 429]
    assert Client(REMOTE_ADDR="2001:db8:0:2::1").get("/api/v1/services/").status_code == 200


def test_the_schema_shares_the_catalog_limit(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building the schema costs time on every request: it is counted like the catalog."""
    monkeypatch.setattr(CatalogThrottle, "THROTTLE_RATES", {"catalog": "1/min"})
    assert client.get("/api/schema/").status_code == 200
    response = client.get("/api/schema/")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"


def test_the_schema_varies_with_the_accepted_format(client: Client, db: None) -> None:
    yaml = client.get("/api/schema/")
    json = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert yaml["Content-Type"] != json["Content-Type"]
    assert "Accept" in {v.strip() for v in yaml["Vary"].split(",")}
