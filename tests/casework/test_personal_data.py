"""The data export (Art. 15, 20 GDPR) holds the citizen's cases as the citizen sees them: number,
service, status and decision, the steps shown to the citizen, the requests for documents with the
citizen's answer and the names and SHA-256 of the files sent, the notices issued. Not the
clerks' internal notes, nor who worked on the case, nor other people's cases."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.services import export_personal_data
from rathaus.casework import services
from rathaus.casework.models import Case
from tests.accounts.factories import ProfileFactory

pytestmark = pytest.mark.django_db

EVIDENCE = b"%PDF-1.7 Geburtsurkunde"


def test_export_holds_the_citizens_case_with_requests_answers_and_notice(
    case: Case, clerk: User, citizen: User, make_case: Callable[..., Case]
) -> None:
    services.assign(cases=[case], user=clerk, actor=clerk)
    services.add_note(case=case, text="Intern: Anruf beim Standesamt", actor=clerk)
    request = services.request_documents(
        case=case,
        description="Bitte reichen Sie Ihre Geburtsurkunde ein.",
        due_on=timezone.localdate() + datetime.timedelta(days=14),
        actor=clerk,
    )
    services.receive_documents(
        request=request,
        files=[("geburtsurkunde.pdf", "application/pdf", EVIDENCE)],
        actor=citizen,
        note="Standesamt Elberfeld Nr. 1234/1985",
    )
    notice = services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )
    others = make_case(applicant=ProfileFactory(family_name="Andere").user)

    document = export_personal_data(user=citizen)

    [exported] = document["cases"]
    case.refresh_from_db()
    assert (exported["number"], exported["service"]) == (case.number, "meldebescheinigung")
    assert (exported["status"], exported["outcome"]) == ("decided", "granted")
    [answered] = exported["document_requests"]
    assert answered["description"] == "Bitte reichen Sie Ihre Geburtsurkunde ein."
    assert answered["status"] == "answered"
    assert answered["answer_note"] == "Standesamt Elberfeld Nr. 1234/1985"
    assert answered["files_sent"] == [
        {"name": "geburtsurkunde.pdf", "sha256": hashlib.sha256(EVIDENCE).hexdigest()}
    ]
    kinds = [step["kind"] for step in exported["timeline"]]
    assert {"opened", "documents_requested", "documents_received", "notice_issued"} <= set(kinds)
    assert "assigned" not in kinds and "note_added" not in kinds
    [issued] = exported["notices"]
    assert (issued["title"], issued["sha256"]) == (notice.title, notice.sha256)
    text = json.dumps(document, cls=DjangoJSONEncoder)
    assert "Anruf beim Standesamt" not in text  # the clerk's internal note
    assert clerk.email not in text  # who worked on the case
    assert others.number not in text
