"""The notice as a letter: rendered to PDF/A (``documents``) and sealed for the authority.

Also the revocation (Aufhebungsbescheid) that tells the citizen that a notice has been revoked."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from rathaus.casework.models import Case, Notice
from rathaus.documents.letter import Recipient, Sender
from rathaus.documents.rendering import render_pdf
from rathaus.documents.seal import seal_pdf, seal_signer
from rathaus.documents.verification import Verification

TEMPLATE = "casework/documents/notice.html"
REVOCATION_TEMPLATE = "casework/documents/revocation.html"


def recipient_for(case: Case) -> Recipient:
    """The applicant's postal address: from the submitted answers, else the profile."""
    name = case.applicant_name or (case.applicant.email if case.applicant else "")
    address: dict[str, Any] | None = None
    for value in (case.particulars or {}).values():
        if isinstance(value, dict) and value.get("postal_code") and value.get("street"):
            address = value
            break
    profile = getattr(case.applicant, "profile", None) if case.applicant else None
    if address is None and profile is not None and profile.street:
        address = {
            "street": profile.street,
            "house_number": profile.house_number,
            "postal_code": profile.postal_code,
            "place": profile.place,
        }
    lines: tuple[str, ...] = ()
    if address is not None:
        lines = (
            f"{address.get('street', '')} {address.get('house_number', '')}".strip(),
            f"{address.get('postal_code', '')} {address.get('place', '')}".strip(),
        )
    return Recipient(name_lines=(name or "—",), address_lines=lines)


def letter_context(case: Case, *, sender: Sender, on: datetime.date) -> dict[str, Any]:
    """What every letter of the case names: sender, recipient, Aktenzeichen, date, case number."""
    return {
        "sender": sender,
        "recipient": recipient_for(case),
        "reference": case.file.reference if case.file is not None else case.number,
        "date": on,
        "case_number": case.number,
    }


def _sealed_letter(
    case: Case,
    *,
    template: str,
    subject: str,
    at: datetime.datetime,
    verification: Verification | None,
    **fields: Any,
) -> bytes:
    """A letter of the case's authority about ``subject``, dated ``at``: rendered to PDF/A in
    German with the GovChain mark of ``verification`` and sealed for the municipality."""
    sender = Sender.from_authority(case.authority, unit=case.org_unit)
    context: dict[str, Any] = {
        **letter_context(case, sender=sender, on=timezone.localdate(at)),
        "subject": subject,
        **fields,
    }
    if verification is not None:
        context["verification"] = verification
    pdf = render_pdf(
        template=template,
        context=context,
        language="de",
        title=f"{subject} ({case.number})",
        author=sender.display_name,
        subject=case.service.name_de,
        created=at,
    )
    return seal_pdf(pdf, signer=seal_signer(), location=case.authority.municipality.name)


def render_notice_pdf(
    *,
    notice: Notice,
    case: Case,
    issued_at: datetime.datetime,
    verification: Verification | None,
) -> bytes:
    """The sealed PDF/A of ``notice``; ``verification`` prints the QR code (GovChain)."""
    return _sealed_letter(
        case,
        template=TEMPLATE,
        subject=notice.title,
        at=issued_at,
        verification=verification,
        body=notice.body,
        legal_basis=notice.legal_basis,
        remedy=notice.remedy,
    )


def render_revocation_pdf(
    *,
    notice: Notice,
    case: Case,
    subject: str,
    revoked_at: datetime.datetime,
    remedy: str,
    verification: Verification | None = None,
) -> bytes:
    """The sealed PDF/A Aufhebungsbescheid: ``notice`` is revoked, why and on which legal basis,
    with its instructions on legal remedies (``remedy``) (a revocation is itself an
    administrative act, § 35 VwVfG) and its GovChain verification mark. Always in German."""
    return _sealed_letter(
        case,
        template=REVOCATION_TEMPLATE,
        subject=subject,
        at=revoked_at,
        verification=verification,
        notice_title=notice.title,
        notice_date=timezone.localdate(notice.issued_at) if notice.issued_at else None,
        reason=notice.revocation_reason,
        legal_basis=notice.revocation_legal_basis,
        remedy=remedy,
    )
