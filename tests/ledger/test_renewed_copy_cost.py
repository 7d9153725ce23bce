"""``verify_renewed_copy`` on files the log does not know: what an upload to the public check
may cost. Only a signed file can be a renewed copy, and its earlier revisions are looked up in
the log with one query."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from rathaus.core.models import Authority
from rathaus.ledger import selectors, services
from rathaus.ledger.selectors import verify_renewed_copy

pytestmark = pytest.mark.django_db

ISSUED = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"


def test_a_file_without_a_signature_is_no_renewed_copy_and_is_not_cut_into_revisions(
    authority: Authority,
) -> None:
    services.append(document=ISSUED, document_type="receipt", authority=authority)
    appended = ISSUED + b"2 0 obj\n<< /Title (Neu) >>\nendobj\n%%EOF\n"
    with mock.patch.object(
        selectors, "earlier_revisions", wraps=selectors.earlier_revisions
    ) as revisions:
        assert verify_renewed_copy(appended) is None
    revisions.assert_not_called()


def test_the_earlier_revisions_of_an_upload_are_looked_up_with_one_query(
    authority: Authority, django_assert_num_queries: Any
) -> None:
    # a "signed" file of end-of-file markers: the newest 18 of them are earlier revisions
    bomb = b"%PDF-1.7\n/ByteRange [0 0 0 0]\n" + b"%%EOF" * 200_000
    with django_assert_num_queries(1):
        assert verify_renewed_copy(bomb) is None
