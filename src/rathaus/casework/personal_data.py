"""Casework's part of the data export (Art. 15, 20 GDPR): the cases opened on the account's
applications, as the citizen sees them.

Each case with its status and decision, the steps of its history shown to the citizen
(``selectors.citizen_timeline``), the requests for documents with the citizen's answer and the
names and SHA-256 of the files sent with it, and the notices issued. What stays internal to the
authority (clerks' notes, assignments, who worked on the case) is not the citizen's to read
here either.
"""

from __future__ import annotations

from typing import Any

from rathaus.casework.models import Case, CaseEvent, Notice
from rathaus.casework.selectors import citizen_timeline


def personal_data_export(user: Any) -> list[dict[str, Any]]:
    cases = (
        Case.objects.filter(applicant_id=user.pk)
        .select_related("authority", "service")
        .prefetch_related("document_requests", "notices")
        .order_by("opened_at", "pk")
    )
    return [_case(case) for case in cases]


def _case(case: Case) -> dict[str, Any]:
    # the files of each answer, as the answer's history entry recorded them
    files_sent: dict[str, list[dict[str, str]]] = {}
    for data in case.events.filter(kind=CaseEvent.Kind.DOCUMENTS_RECEIVED).values_list(
        "data", flat=True
    ):
        if isinstance(data, dict) and isinstance(data.get("request"), str):
            files_sent[data["request"]] = [
                {"name": str(f.get("name", "")), "sha256": str(f.get("sha256", ""))}
                for f in data.get("files") or []
                if isinstance(f, dict)
            ]
    return {
        "number": case.number,
        "authority": case.authority.name,
        "service": case.service.slug,
        "title": case.title,
        "applicant_name": case.applicant_name,
        "particulars": case.particulars,
        "status": case.status,
        "status_label": case.citizen_status_label,
        "outcome": case.outcome,
        "opened_at": case.opened_at,
        "decided_at": case.decided_at,
        "closed_at": case.closed_at,
        "notices_by_retrieval": case.electronic_delivery,
        "timeline": [
            {
                "at": entry.at,
                "kind": entry.kind,
                "label": entry.label,
                "status": entry.status,
                "note": entry.note,
            }
            for entry in citizen_timeline(case)
        ],
        "document_requests": [
            {
                "description": request.description,
                "due_on": request.due_on,
                "status": request.status,
                "requested_at": request.requested_at,
                "answered_at": request.answered_at,
                "answer_note": request.answer_note,
                "files_sent": files_sent.get(str(request.public_id), []),
            }
            for request in sorted(case.document_requests.all(), key=lambda r: r.requested_at)
        ],
        "notices": [
            {
                "title": notice.title,
                "outcome": notice.outcome,
                "issued_at": notice.issued_at,
                "sha256": notice.sha256,
                "verification_code": notice.ledger_code,
                "delivered_by_post": notice.delivered_by_post,
                "revoked_at": notice.revoked_at,
                "revocation_sha256": notice.revocation_sha256,
            }
            for notice in sorted(
                (
                    n
                    for n in case.notices.all()
                    if n.status in (Notice.Status.ISSUED, Notice.Status.REVOKED)
                ),
                key=lambda n: (n.issued_at is None, n.issued_at, n.pk),
            )
        ],
    }
