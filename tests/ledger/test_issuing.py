"""Issuing a document with a reserved code: the code is printed before the hash exists."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from rathaus.core.models import Authority
from rathaus.documents.verification import Verification
from rathaus.ledger import issuing, services
from rathaus.ledger.leaves import format_code
from rathaus.ledger.models import Entry
from rathaus.ledger.selectors import Status, entry_by_code, verify_document
from rathaus.ledger.sequencer import sequence


def _render_with(seen: list[Verification]) -> Any:
    def render(verification: Verification) -> bytes:
        seen.append(verification)
        return f"%PDF-1.7\nQR {verification.url} code {verification.short_code}\n%%EOF\n".encode()

    return render


def test_issued_document_carries_the_code_it_is_logged_under(
    authority: Authority, settings: Any
) -> None:
    settings.SITE_URL = "https://portal.wuppertal.example/"
    seen: list[Verification] = []
    issued = issuing.issue_document(
        render=_render_with(seen), document_type="notice", authority=authority
    )
    assert len(seen) == 1
    assert seen[0].short_code == format_code(issued.code) == issued.display_code
    assert seen[0].url == f"https://portal.wuppertal.example/pruefen/{format_code(issued.code)}"
    assert seen[0].short_code.encode() in issued.pdf
    assert issued.entry.code == issued.code
    assert issued.sha256 == hashlib.sha256(issued.pdf).hexdigest()
    assert entry_by_code(issued.display_code) == issued.entry
    assert verify_document(document=issued.pdf).status == Status.PENDING
    sequence()
    assert verify_document(document=issued.pdf).status == Status.VALID


def test_a_taken_code_makes_the_document_render_again_with_a_new_one(
    authority: Authority, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = services.append(document=b"older document", document_type="notice", authority=authority)
    codes = iter([taken.code, "7KQ4M2XH9P"])
    # the first code drawn is taken (by a concurrent issuer or by chance)
    monkeypatch.setattr(issuing, "draw_code", lambda: next(codes))
    seen: list[Verification] = []
    issued = issuing.issue_document(
        render=_render_with(seen), document_type="permit", authority=authority
    )
    assert [v.short_code for v in seen] == [format_code(taken.code), "7KQ4M-2XH9P"]
    assert issued.code == "7KQ4M2XH9P"
    assert Entry.objects.count() == 2


def test_reissuing_identical_bytes_returns_the_existing_entry(authority: Authority) -> None:
    first = issuing.issue_document(
        render=lambda v: b"%PDF same", document_type="receipt", authority=authority
    )
    again = issuing.issue_document(
        render=lambda v: b"%PDF same", document_type="receipt", authority=authority
    )
    assert again.entry == first.entry
    assert again.verification.short_code == format_code(first.code)


def test_unknown_document_type_is_refused_before_rendering(authority: Authority) -> None:
    with pytest.raises(services.LedgerError):
        issuing.issue_document(
            render=lambda v: pytest.fail("must not render"),  # type: ignore[arg-type,return-value]
            document_type="love-letter",
            authority=authority,
        )


def test_verification_url_needs_an_absolute_site_url(settings: Any) -> None:
    settings.SITE_URL = ""
    with pytest.raises(ImproperlyConfigured):
        issuing.verification_url("7KQ4M2XH9P")
    settings.SITE_URL = "https://portal.example.de"
    assert (
        issuing.verification_url("7kq4m 2xh9p") == "https://portal.example.de/pruefen/7KQ4M-2XH9P"
    )
    with pytest.raises(ValueError):
        issuing.verification_url("nonsense")
