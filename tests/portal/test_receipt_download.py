"""/antraege/<id>/eingangsbestaetigung.pdf hands out the stored receipt only while it is the one
that was stored (its SHA-256); a receipt gone from the storage or changed there is a message on
the application page for the citizen and an error in the log for the operator, never a 500."""

from __future__ import annotations

import hashlib
import logging

import pytest
from django.test import Client

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.receipts import render_receipt
from rathaus.applications.services import submit_application
from tests.applications.conftest import (  # noqa: F401
    _forget_form_versions,
    citizen,
    demo,
    meldebescheinigung,
    wuppertal,
)
from tests.applications.meldebescheinigung import answer_all

pytestmark = pytest.mark.django_db

UNAVAILABLE = "Ihre Eingangsbestätigung kann im Moment nicht heruntergeladen werden."


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:  # noqa: F811
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


@pytest.fixture
def application(logged_in: Client, citizen: User, meldebescheinigung: object) -> Application:  # noqa: F811
    """A submitted application whose receipt has been rendered and stored."""
    assert (
        logged_in.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"}).status_code
        == 302
    )
    draft = Application.objects.get()
    answer_all(draft)
    submit_application(
        application=Application.objects.get(pk=draft.pk),
        idempotency_key="k",
        confirmed=True,
        actor=citizen,
    )
    assert render_receipt.call(draft.pk) == "stored"
    return Application.objects.get(pk=draft.pk)


def _url(application: Application) -> str:
    return f"/antraege/{application.public_id}/eingangsbestaetigung.pdf"


def test_the_receipt_is_handed_out_only_while_it_matches_its_sha256(
    logged_in: Client, application: Application, caplog: pytest.LogCaptureFixture
) -> None:
    stored = application.receipt.read()
    application.receipt.close()
    assert hashlib.sha256(stored).hexdigest() == application.receipt_sha256

    response = logged_in.get(_url(application))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]

    with application.receipt.storage.open(application.receipt.name, "wb") as changed:
        changed.write(b"%PDF-1.7 another document")
    with caplog.at_level(logging.ERROR, logger="rathaus.core.stored_files"):
        response = logged_in.get(_url(application))
    assert response.status_code == 302
    assert response["Location"] == f"/antraege/{application.public_id}/"
    assert UNAVAILABLE in logged_in.get(response["Location"]).content.decode()
    [record] = [r for r in caplog.records if r.name == "rathaus.core.stored_files"]
    assert record.levelno == logging.ERROR
    assert "does not match its SHA-256" in record.getMessage()
    assert record.application == str(application.public_id)  # type: ignore[attr-defined]


def test_a_receipt_missing_from_storage_is_a_message_not_a_server_error(
    logged_in: Client, application: Application, caplog: pytest.LogCaptureFixture
) -> None:
    application.receipt.storage.delete(application.receipt.name)
    logged_in.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="rathaus.core.stored_files"):
        response = logged_in.get(_url(application), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(f"/antraege/{application.public_id}/", 302)]
    assert UNAVAILABLE in response.content.decode()
    assert any(
        r.levelno == logging.ERROR and "stored file missing" in r.getMessage()
        for r in caplog.records
    )
