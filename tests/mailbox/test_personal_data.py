"""The mailbox's part of the data export (Art. 15, 20 GDPR) holds everything the retrieval log
keeps about the person: with each opening and download the IP address and the browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from rathaus.accounts.models import User
from rathaus.accounts.services import export_personal_data
from rathaus.mailbox.services import record_retrieval


@pytest.mark.django_db
def test_export_lists_each_retrieval_with_ip_address_and_browser(
    citizen: User, deliver_notice: Any
) -> None:
    message = deliver_notice()
    [attachment] = message.attachments.all()
    browser = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT="Mozilla/5.0 (Erikas-iPhone)"
    )
    record_retrieval(message=message, user=citizen, request=browser)
    record_retrieval(message=message, user=citizen, request=browser, attachment=attachment)

    [exported] = export_personal_data(user=citizen)["mailbox"]

    assert [
        (r["action"], r["ip_address"], r["user_agent"], r["sha256"]) for r in exported["retrievals"]
    ] == [
        ("opened", "203.0.113.77", "Mozilla/5.0 (Erikas-iPhone)", ""),
        ("downloaded", "203.0.113.77", "Mozilla/5.0 (Erikas-iPhone)", attachment.sha256),
    ]
