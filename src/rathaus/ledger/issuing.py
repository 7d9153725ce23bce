"""Issuing a verifiable document: reserve its code, render it with the QR code, log its hash.

A document cannot carry the hash of its own bytes, so the short code comes first: a fresh code
is drawn, the caller renders (and seals) the PDF with the verification mark for that code
(``/pruefen/<code>`` as QR code and text), and the SHA-256 of the finished PDF is then appended
to the log under exactly that code. Use it inside the transaction that issues the document, so
the log entry exists if and only if the document does::

    issued = issue_document(
        render=lambda verification: seal_pdf(render_pdf(..., context={..., "verification":
                                                                        verification})),
        document_type="notice",
        authority=case.authority,
    )
    notice.pdf.save(..., ContentFile(issued.pdf)); notice.ledger_code = issued.code
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import Authority
from rathaus.documents.verification import Verification
from rathaus.ledger import services
from rathaus.ledger.leaves import format_code, new_code, normalize_code
from rathaus.ledger.models import DocumentType, Entry

# The public verification page (DESIGN.md: stable German paths; printed QR codes point here).
VERIFY_PATH = "/pruefen/"
_ATTEMPTS = 3


@dataclass(frozen=True)
class Issued:
    """An issued document: the final PDF bytes and its log entry (pending until sequenced)."""

    pdf: bytes
    code: str  # canonical, e.g. "7KQ4M2XH9P"; printed as format_code(code) = "7KQ4M-2XH9P"
    entry: Entry
    verification: Verification

    @property
    def sha256(self) -> str:
        return self.entry.document_sha256

    @property
    def display_code(self) -> str:
        return format_code(self.code)


def verification_url(code: str) -> str:
    """The absolute address printed in the QR code, e.g. https://portal.example.de/pruefen/…"""
    normalized = normalize_code(code)
    if normalized is None:
        raise ValueError(f"{code!r} is not a verification code.")
    base = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            "SITE_URL must be the portal's absolute address (e.g. https://portal.example.de): "
            "issued documents print it in their QR code."
        )
    return f"{base}{VERIFY_PATH}{format_code(normalized)}"


def verification_for(code: str) -> Verification:
    return Verification(url=verification_url(code), short_code=format_code(code))


def draw_code() -> str:
    """A fresh random code (50 bits). It is not looked up first: a collision is about as likely
    as one in 10^15 per document, and the unique constraint on insert catches it anyway, after
    which :func:`issue_document` renders the document again with a new code."""
    return new_code()


def issue_document(
    *,
    render: Callable[[Verification], bytes],
    document_type: str,
    authority: Authority | int,
) -> Issued:
    """Render a document with its verification mark and log it; returns the final bytes.

    ``render`` gets the :class:`~rathaus.documents.verification.Verification` to put in the
    template context as ``verification`` and returns the finished (sealed) PDF; it is called
    again with a new code in the unlikely case the reserved code was taken meanwhile. Raises
    ``services.LedgerError`` for an unknown document type or authority.
    """
    if document_type not in DocumentType.values:
        raise services.LedgerError(_("Unknown document type."))
    for _attempt in range(_ATTEMPTS):
        code = draw_code()
        verification = verification_for(code)
        pdf = render(verification)
        if not isinstance(pdf, bytes) or not pdf:
            raise TypeError("render() must return the document's bytes.")
        try:
            entry = services.append(
                document=pdf, document_type=document_type, authority=authority, code=code
            )
        except services.CodeTakenError:
            continue
        if entry.code != code:
            # The very same bytes were issued before (render ignored the code): same entry.
            verification = verification_for(entry.code)
        return Issued(pdf=pdf, code=entry.code, entry=entry, verification=verification)
    raise services.LedgerError(_("The document could not be logged; please try again."))
