"""A signed-in person's pages and downloads carry ``Cache-Control: no-store, private`` unless
the view says otherwise; anonymous visitors' public pages stay cacheable."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from rathaus.accounts.models import User
from rathaus.casework import services as casework
from rathaus.casework.notice_templates import templates_for
from rathaus.records.models import DocumentVersion
from tests.accounts.conftest import _empty_cache, citizen, log_in  # noqa: F401
from tests.backoffice.conftest import (  # noqa: F401
    citizens_office,
    clerk,
    demo,
    make_staff,
    open_case,
    staff_client,
    unit,
    wohnsitz,
)

pytestmark = pytest.mark.django_db


def _private(response: object) -> bool:
    header = response.get("Cache-Control") or ""  # type: ignore[attr-defined]
    return "no-store" in header and "private" in header


def test_a_citizens_pages_with_personal_data_and_secrets_are_not_stored(
    client: Client,
    citizen: User,  # noqa: F811
) -> None:
    log_in(client, citizen)
    TOTP.activate(citizen, generate_totp_secret())
    codes = RecoveryCodes.activate(citizen).get_unused_codes()
    pages = {url: client.get(url) for url in ("/konto/", "/konto/profil/", "/konto/email/")}
    pages["recovery codes"] = recovery = client.get("/konto/2fa/recovery-codes/")
    assert recovery.status_code == 200 and any(code in recovery.content.decode() for code in codes)
    assert {url: _private(page) for url, page in pages.items()} == dict.fromkeys(pages, True)


def test_public_pages_for_anonymous_visitors_stay_cacheable(client: Client, demo: None) -> None:  # noqa: F811
    response = client.get("/leistungen/")
    assert response.status_code == 200
    assert not _private(response)


def test_a_clerks_notice_pdf_and_file_versions_are_not_stored(
    staff_client: Any,  # noqa: F811
    clerk: User,  # noqa: F811
    open_case: Any,  # noqa: F811
    unit: Any,  # noqa: F811
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Geheimrath")
    granted = next(k for k, t in templates_for(case.service.slug).items() if t.outcome == "granted")
    notice = casework.issue_notice(
        notice=casework.draft_notice(case=case, template_key=granted, actor=clerk), actor=clerk
    )
    client = staff_client(clerk)
    pdf = client.get(f"/backoffice/vorgaenge/{case.pk}/bescheide/{notice.pk}/bescheid.pdf")
    assert pdf.status_code == 200 and _private(pdf)
    version = DocumentVersion.objects.filter(document__file=case.file).first()
    assert version is not None
    download = client.get(f"/backoffice/vorgaenge/{case.pk}/akte/versionen/{version.pk}/")
    assert download.status_code == 200 and _private(download)
