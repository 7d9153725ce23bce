"""Citizens, a real notice PDF, the SMTP server and clamd for the mailbox tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rathaus.accounts.models import User
from rathaus.documents.letter import Recipient, Sender
from rathaus.documents.rendering import render_pdf
from tests.accounts.factories import ProfileFactory

TEMPLATES = Path(__file__).resolve().parent / "templates"


@pytest.fixture
def citizen(db: None) -> User:
    return ProfileFactory(given_names="Erika", family_name="Mustermann").user  # type: ignore[no-any-return]


@pytest.fixture
def other_citizen(db: None) -> User:
    return ProfileFactory(given_names="Max", family_name="Muster").user  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def notice_pdf() -> bytes:
    """A real PDF/A letter, rendered by rathaus.documents as notices are."""
    from django.conf import settings as django_settings
    from django.test import override_settings

    with override_settings(
        DOCUMENTS_TEMPLATE_DIRS=[*django_settings.DOCUMENTS_TEMPLATE_DIRS, str(TEMPLATES)]
    ):
        return render_pdf(
            template="mailbox_test/notice.html",
            context={
                "sender": Sender(
                    municipality="Stadt Wuppertal",
                    authority="Bürgeramt",
                    unit="33.1 Meldeangelegenheiten",
                    address_lines=("Johannes-Rau-Platz 1", "42275 Wuppertal"),
                    phone="0202 563-0",
                    email="buergeramt@stadt.wuppertal.de",
                ),
                "recipient": Recipient(
                    name_lines=("Frau Erika Mustermann",),
                    address_lines=("Neumarkt 10", "42103 Wuppertal"),
                ),
                "reference": "33.1-2026-000123",
                "date": date(2026, 11, 20),
                "subject": "Bescheid über Ihre Meldebescheinigung",
                "text": "Ihrem Antrag wird stattgegeben.",
                "verification": None,
            },
            language="de",
            title="Bescheid",
            author="Stadt Wuppertal, Bürgeramt",
        )


@pytest.fixture
def deliver_notice(citizen: User, notice_pdf: bytes) -> Any:
    """deliver() a notice with the PDF to ``owner`` (default: citizen); extra kwargs pass on."""
    from rathaus.mailbox.services import deliver

    def make(owner: User | None = None, **kwargs: Any) -> Any:
        values: dict[str, Any] = {
            "owner": owner or citizen,
            "kind": "notice",
            "subject": "Bescheid über Ihre Meldebescheinigung",
            "body": "Sehr geehrte Frau Mustermann, anbei Ihr Bescheid.",
            "attachments": [("Bescheid.pdf", "application/pdf", notice_pdf)],
            "case_number": "2026-000123",
            "legal_basis": "",
        }
        values.update(kwargs)
        return deliver(**values)

    return make


from tests.applications.conftest import demo, meldebescheinigung, wuppertal  # noqa: E402, F401
from tests.fixtures.clamd import clamd_address  # noqa: E402, F401
from tests.fixtures.smtp import smtp_server  # noqa: E402, F401
