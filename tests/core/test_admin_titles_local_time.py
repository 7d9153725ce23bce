"""Admin titles (``__str__``) name the time on the Berlin clock, as every field on the page does:
an event at 00:30 on 1 March in Germany is not "2026-02-28 23:30"."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Model

from rathaus.accounts.models import IdentityProvider, LoginAttempt
from rathaus.core.models import AuditEvent
from rathaus.mailbox.models import RetrievalLog
from rathaus.portal.models import AccessibilityFeedback
from rathaus.rescue.models import Incident, Region

AT = datetime.datetime(2026, 2, 28, 23, 30, tzinfo=datetime.UTC)  # 01.03.2026 00:30 in Berlin


@pytest.mark.parametrize(
    "row",
    [
        AuditEvent(at=AT, action="demo.changed", object_type="core.Municipality", object_id="1"),
        RetrievalLog(at=AT, action="opened", message_id=7),
        LoginAttempt(created_at=AT, provider=IdentityProvider(name="BundID"), status="failed"),
        AccessibilityFeedback(created_at=AT, message="Kontrast zu gering"),
        Incident(region=Region(name="Wuppertal"), occurred_at=AT),
    ],
    ids=lambda row: type(row).__name__,
)
def test_the_title_shows_berlin_time(row: Model) -> None:
    assert "2026-03-01 00:30" in str(row) and "2026-02-28" not in str(row), str(row)
