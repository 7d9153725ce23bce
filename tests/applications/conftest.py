"""Demo municipalities and services for the application tests."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from rathaus.accounts.models import User
from rathaus.catalog import form_schemas
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import Municipality
from tests.accounts.factories import ProfileFactory


@pytest.fixture(autouse=True)
def _forget_form_versions() -> Iterator[None]:
    """Tests roll back the database: a form version stored by an earlier test is gone again."""
    form_schemas._stored_digests.clear()
    form_schemas._stored_schema.cache_clear()
    yield
    form_schemas._stored_digests.clear()
    form_schemas._stored_schema.cache_clear()


@pytest.fixture
def demo(db: None) -> None:
    call_command("load_demo", verbosity=0)


@pytest.fixture
def wuppertal(demo: None) -> Municipality:
    return Municipality.objects.get(ags="05124000")


@pytest.fixture
def citizen(db: None) -> User:
    profile = ProfileFactory(birth_date=datetime.date(1985, 3, 27))
    return profile.user  # type: ignore[no-any-return]


@pytest.fixture
def meldebescheinigung(demo: None) -> Service:
    """The certificate, with its fee collected with the notice (no online payment step).

    Online payment before submission is tested with the Bewohnerparkausweis.
    """
    service = Service.objects.get(slug="meldebescheinigung")
    Responsibility.objects.filter(service=service).update(local_fee=None)
    return service


from tests.fixtures.clamd import clamd_address  # noqa: E402, F401
from tests.payments.conftest import sandbox, sandbox_process  # noqa: E402, F401
