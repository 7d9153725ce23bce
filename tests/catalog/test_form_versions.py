"""Form versions: the schema of the version a submitted application refers to."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from rathaus.catalog import form_schemas
from rathaus.catalog.form_schemas import current_form, form_schema_for_version
from rathaus.catalog.models import FormVersion, Service

OLD_FORM = """
[[steps]]
id = "earlier"
title = { de = "Frühere Fassung", en = "Earlier version" }

[[steps.fields]]
id = "remark"
type = "text"
label = { de = "Bemerkung", en = "Remark" }
"""


@pytest.fixture(autouse=True)
def _forget_form_versions() -> Iterator[None]:
    form_schemas._stored_schema.cache_clear()
    yield
    form_schemas._stored_schema.cache_clear()


@pytest.fixture
def service(db: None) -> Service:
    return Service.objects.get(slug="meldebescheinigung")


def test_the_current_version_needs_no_query(
    service: Service, django_assert_num_queries: object
) -> None:
    current = current_form(service)
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert form_schema_for_version(service, current.digest) is current.schema


def test_a_stored_version_is_parsed_once(
    service: Service, django_assert_num_queries: object
) -> None:
    FormVersion.objects.create(digest="a" * 64, slug=service.slug, text=OLD_FORM)
    with django_assert_num_queries(1):  # type: ignore[operator]
        schema = form_schema_for_version(service, "a" * 64)
    assert [step.id for step in schema.steps] == ["earlier"]
    assert str(schema.field("remark").label) == "Bemerkung"
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert form_schema_for_version(service, "a" * 64) is schema


def test_an_unknown_version_falls_back_to_the_current_form_and_says_so(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """Applications submitted before versions were stored are shown with today's form."""
    with caplog.at_level(logging.INFO, logger="rathaus.catalog.form_schemas"):
        schema = form_schema_for_version(service, "b" * 64)
    assert schema is current_form(service).schema
    assert "form version not stored" in caplog.text
    # A miss is not cached: the version is found once it is stored.
    FormVersion.objects.create(digest="b" * 64, slug=service.slug, text=OLD_FORM)
    assert [step.id for step in form_schema_for_version(service, "b" * 64).steps] == ["earlier"]
