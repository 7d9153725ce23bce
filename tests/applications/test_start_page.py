"""The start page: refused at once where no authority handles the service in the chosen
municipality (not only after the whole form), and a double click on "Start" opens one draft."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from rathaus.accounts.models import User
from rathaus.applications import services as application_services
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.services import start_application
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import AuditEvent, Municipality

START = "/antraege/neu/meldebescheinigung/"


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


def _start_key(page: str) -> str:
    found = re.search(r'name="start_key" value="([0-9a-f]{32})"', page)
    assert found is not None
    return found.group(1)


def test_no_responsible_authority_is_told_at_the_start_beside_the_municipality(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    Responsibility.objects.filter(service=meldebescheinigung, municipality=wuppertal).delete()
    response = logged_in.post(START, {"gemeinde": "wuppertal"})
    body = response.content.decode()
    assert response.status_code == 400
    error = re.search(r'<p class="kern-error" id="gemeinde-error".*?</p>', body, re.S)
    assert error is not None
    assert "Für diese Leistung ist in Wuppertal noch keine Behörde zuständig." in error.group(0)
    assert '<option value="wuppertal" selected>' in body  # the choice is kept
    assert not Application.objects.exists()


def test_start_application_refuses_a_municipality_no_authority_handles(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    Responsibility.objects.filter(service=meldebescheinigung, municipality=wuppertal).delete()
    with pytest.raises(ApplicationError, match="noch keine Behörde zuständig"):
        start_application(
            applicant=citizen,
            service=meldebescheinigung,
            municipality=wuppertal,
            trust_level="high",
        )
    assert not Application.objects.exists()


def test_a_double_click_on_start_opens_one_draft(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    key = _start_key(logged_in.get(START).content.decode())
    first = logged_in.post(START, {"gemeinde": "wuppertal", "start_key": key})
    second = logged_in.post(START, {"gemeinde": "wuppertal", "start_key": key})
    application = Application.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == f"/antraege/{application.public_id}/schritt/person/"
    assert second["Location"] in (first["Location"], f"/antraege/{application.public_id}/")
    assert AuditEvent.objects.filter(action="application.started").count() == 1


def test_the_start_page_opened_again_starts_another_draft(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """Each page load has its own key: a second application of the same kind stays possible."""
    for _ in range(2):
        key = _start_key(logged_in.get(START).content.decode())
        assert logged_in.post(START, {"gemeinde": "wuppertal", "start_key": key}).status_code == 302
    assert Application.objects.count() == 2


def test_a_key_met_by_a_draft_committed_meanwhile_returns_that_draft(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second request looked before the first committed: the unique key refuses its row,
    and it returns the first request's draft."""
    first = start_application(
        applicant=citizen,
        service=meldebescheinigung,
        municipality=wuppertal,
        trust_level="high",
        start_key="a" * 32,
    )
    honest = application_services._started_with
    calls: list[str] = []

    def not_yet_committed(applicant: User, start_key: str) -> Application | None:
        calls.append(start_key)
        return None if len(calls) == 1 else honest(applicant, start_key)

    monkeypatch.setattr(application_services, "_started_with", not_yet_committed)
    second = start_application(
        applicant=citizen,
        service=meldebescheinigung,
        municipality=wuppertal,
        trust_level="high",
        start_key="a" * 32,
    )
    assert second.pk == first.pk
    assert Application.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_starts_with_one_key_open_one_draft(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    barrier = threading.Barrier(2)
    opened: list[int] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait(timeout=10)
            application = start_application(
                applicant=citizen,
                service=meldebescheinigung,
                municipality=wuppertal,
                trust_level="high",
                start_key="b" * 32,
            )
            opened.append(application.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads: list[Any] = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(opened) == 2 and opened[0] == opened[1]
    assert Application.objects.count() == 1
    assert AuditEvent.objects.filter(action="application.started").count() == 1
