"""§ 9a OZG: what is sent is what the review page showed, the fee included. A fee quoted
differently at "Send" (the authority changed it, a fee collected with the notice became one paid
online, an age-dependent fee changed at midnight) is not charged unseen: the review page is
shown again with the new fee named, and the application stays a draft."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import (
    FeeChanged,
    fee_quote,
    review_fingerprint,
    start_application,
    submit_application,
)
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import Municipality
from tests.applications.meldebescheinigung import answer_all

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


def _reviewed(body: str) -> str:
    found = re.search(r'name="reviewed" value="([0-9a-f]+)"', body)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    ("before", "after", "named"),
    [
        (Decimal("10.00"), Decimal("99.00"), "Sie beträgt jetzt 99,00 € und wird online bezahlt"),
        (None, Decimal("10.00"), "Sie beträgt jetzt 10,00 € und wird online bezahlt"),
        (Decimal("10.00"), None, "Sie wird jetzt im Bescheid festgesetzt."),
    ],
    ids=["raised", "with-the-notice-became-online", "online-became-with-the-notice"],
)
def test_a_fee_changed_after_the_review_is_shown_again_before_anything_is_sent(
    logged_in: Client,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    before: Decimal | None,
    after: Decimal | None,
    named: str,
) -> None:
    fees = Responsibility.objects.filter(service=meldebescheinigung)
    fees.update(local_fee=before)
    response = logged_in.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    assert response.status_code == 302
    application = Application.objects.get()
    answer_all(application)
    url = f"/antraege/{application.public_id}/pruefen/"
    reviewed = _reviewed(logged_in.get(url).content.decode())

    fees.update(local_fee=after)  # the municipality changes its fee while the citizen reads
    refused = logged_in.post(url, {"submission_key": "k1", "confirm": "yes", "reviewed": reviewed})
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "Die Gebühr für Ihren Antrag hat sich nach Ihrer Prüfung geändert." in body
    assert named in body
    application.refresh_from_db()
    assert application.is_draft and application.fee_quote is None and application.reference is None

    # the page shows the new fee and confirms it now: sent with that fee
    fresh = _reviewed(body)
    assert fresh != reviewed
    sent = logged_in.post(url, {"submission_key": "k2", "confirm": "yes", "reviewed": fresh})
    assert sent.status_code == 302
    application.refresh_from_db()
    assert not application.is_draft
    assert application.fee_quote == fee_quote(application).to_data()
    expected = int(after * 100) if after is not None else 0
    assert fee_quote(application).total_cents == expected


def test_the_same_fee_in_another_language_is_not_a_change(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """The fingerprint covers amounts and how they are paid, not the items' labels."""
    Responsibility.objects.filter(service=meldebescheinigung).update(local_fee=Decimal("10.00"))
    logged_in.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    application = Application.objects.get()
    answer_all(application)
    url = f"/antraege/{application.public_id}/pruefen/"
    logged_in.cookies["django_language"] = "en"
    reviewed = _reviewed(logged_in.get(url).content.decode())
    logged_in.cookies["django_language"] = "de"
    sent = logged_in.post(url, {"submission_key": "k", "confirm": "yes", "reviewed": reviewed})
    assert sent.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.AWAITING_PAYMENT


def test_an_age_dependent_fee_that_changes_at_midnight_is_not_charged_unseen(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """The applicant (born 27 March 1985) reviews at 23:59 on the day before their 41st
    birthday and sends at 00:01: the fee for 41 and over is not charged without being shown."""
    Service.objects.filter(pk=meldebescheinigung.pk).update(
        fee_kind="criteria",
        fees=[
            {"label_de": "bis 40 Jahre", "label_en": "up to 40", "amount": "5.00", "max_age": 40},
            {
                "label_de": "ab 41 Jahren",
                "label_en": "41 and over",
                "amount": "12.00",
                "min_age": 41,
            },
        ],
    )
    meldebescheinigung.refresh_from_db()
    with freeze_time(datetime.datetime(2026, 3, 26, 23, 59, tzinfo=BERLIN)):
        application = start_application(
            applicant=citizen,
            service=meldebescheinigung,
            municipality=wuppertal,
            trust_level="high",
        )
        answer_all(application)
        shown = fee_quote(application)
        assert shown.total_cents == 500
        reviewed = review_fingerprint(application.answers, shown)
    with freeze_time(datetime.datetime(2026, 3, 27, 0, 1, tzinfo=BERLIN)):
        with pytest.raises(FeeChanged) as refused:
            submit_application(
                application=application,
                idempotency_key="k",
                confirmed=True,
                actor=citizen,
                reviewed=reviewed,
            )
        assert refused.value.quote.total_cents == 1200
        assert "12,00 €" in str(refused.value)
        application.refresh_from_db()
        assert application.is_draft
