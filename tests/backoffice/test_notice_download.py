"""The notice PDF on the case page: handed out only as sealed; otherwise a message, not a 500."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from rathaus.accounts.models import User
from rathaus.casework import services as casework
from rathaus.casework.models import Case, Notice
from rathaus.casework.notice_templates import templates_for
from rathaus.core.models import OrgUnit
from tests.backoffice.page_forms import html

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
StaffClient = Callable[[User], Client]


def _issued(case: Case, clerk: User) -> Notice:
    granted = next(k for k, t in templates_for(case.service.slug).items() if t.outcome == "granted")
    notice = casework.draft_notice(case=case, template_key=granted, actor=clerk)
    return casework.issue_notice(notice=notice, actor=clerk)


def _url(notice: Notice) -> str:
    return f"/backoffice/vorgaenge/{notice.case_id}/bescheide/{notice.pk}/bescheid.pdf"


def test_a_notice_pdf_missing_from_storage_is_a_message_not_a_server_error(
    staff_client: StaffClient,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Verloren")
    notice = _issued(case, clerk)
    notice.pdf.storage.delete(notice.pdf.name)
    client = staff_client(clerk)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="rathaus.core.stored_files"):
        response = client.get(_url(notice))
    assert response.status_code == 302
    assert response["Location"] == f"/backoffice/vorgaenge/{case.pk}/"
    assert any(
        r.levelno == logging.ERROR and getattr(r, "notice", None) == notice.pk
        for r in caplog.records
    )
    page = html(client.get(response["Location"]))
    assert "kann nicht aus dem Speicher gelesen werden" in page


def test_a_changed_notice_pdf_is_not_handed_out_as_the_issued_one(
    staff_client: StaffClient,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Verfaelscht")
    notice = _issued(case, clerk)
    client = staff_client(clerk)
    sealed = client.get(_url(notice))  # as sealed, it is handed out
    assert sealed.status_code == 200 and sealed["Content-Disposition"].startswith("attachment")
    content = b"".join(sealed.streaming_content)  # type: ignore[attr-defined]
    assert hashlib.sha256(content).hexdigest() == notice.sha256
    storage, name = notice.pdf.storage, notice.pdf.name
    storage.delete(name)
    assert storage.save(name, ContentFile(b"%PDF-1.7 tampered")) == name
    with caplog.at_level(logging.ERROR, logger="rathaus.core.stored_files"):
        response = client.get(_url(notice))
    assert response.status_code == 302
    assert any(
        "SHA-256" in r.getMessage() and getattr(r, "notice", None) == notice.pk
        for r in caplog.records
    )
    page = html(client.get(response["Location"]))
    assert "stimmt nicht mit dem gesiegelten überein" in page
