"""GDPR: applications appear in the citizen's export; sent ones keep the account from deletion."""

from __future__ import annotations

import pytest

from rathaus.accounts.models import User
from rathaus.accounts.personal_data import ErasureBlocked
from rathaus.accounts.services import delete_account, export_personal_data
from rathaus.applications.models import Application
from rathaus.applications.services import start_application, submit_application
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from tests.applications.meldebescheinigung import answer_all
from tests.applications.test_services import _start


def test_export_lists_the_citizens_applications(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(citizen, meldebescheinigung, wuppertal)
    exported = export_personal_data(user=citizen)
    [entry] = exported["applications"]
    assert entry["service"] == "meldebescheinigung"
    assert entry["status"] == "draft"
    assert entry["answers"]["name"]["family_name"] == application.answers["name"]["family_name"]


def test_deleting_the_account_removes_drafts(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    start_application(
        applicant=citizen, service=meldebescheinigung, municipality=wuppertal, trust_level="high"
    )
    delete_account(user=citizen)
    assert not Application.objects.exists()
    assert not User.objects.filter(pk=citizen.pk).exists()


def test_sent_applications_block_the_deletion(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(citizen, meldebescheinigung, wuppertal)
    answer_all(application)
    submit_application(application=application, idempotency_key="g1", confirmed=True, actor=citizen)
    with pytest.raises(ErasureBlocked):
        delete_account(user=citizen)
    assert Application.objects.filter(pk=application.pk, status="submitted").exists()
    assert User.objects.filter(pk=citizen.pk).exists()
