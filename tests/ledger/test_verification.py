"""What the server shows when it verifies a document: the facts as logged, checked field by
field against the database row; and how verification requests are counted per client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache

from rathaus.core.models import Authority
from rathaus.ledger import services, verification_limits
from rathaus.ledger.leaves import LogEntry
from rathaus.ledger.models import Entry
from rathaus.ledger.selectors import Status, verify_code
from rathaus.ledger.sequencer import sequence
from tests.ledger.tampering import change_entries


def pdf(n: int) -> bytes:
    return b"%PDF-1.7\n% Bescheid " + str(n).encode() + b"\n%%EOF\n"


@pytest.fixture
def issued(authority: Authority) -> Entry:
    entry = services.append(document=pdf(1), document_type="notice", authority=authority)
    services.append(document=pdf(2), document_type="permit", authority=authority)
    sequence()
    return entry


def test_a_changed_document_type_in_the_row_makes_the_check_fail(issued: Entry) -> None:
    before = verify_code(issued.code)
    assert before is not None and before.status == Status.VALID

    change_entries({"code": issued.code}, document_type="residence-certificate")

    result = verify_code(issued.code)
    assert result is not None and result.status == Status.FAILED
    assert "document-type" in result.error
    assert not result.proven
    assert result.document_type == "notice"  # what was logged, not what the row now says


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("authority", lambda entry, other: {"authority": other}),
        ("logged-at", lambda entry, other: {"logged_at": entry.logged_at - timedelta(days=30)}),
    ],
)
def test_any_changed_fact_in_the_row_makes_the_check_fail(
    issued: Entry, other_authority: Authority, field: str, change: Any
) -> None:
    change_entries({"code": issued.code}, **change(issued, other_authority))

    result = verify_code(issued.code)

    assert result is not None and result.status == Status.FAILED
    assert field in result.error


def test_a_changed_revocation_reason_in_the_row_makes_the_check_fail(
    issued: Entry, authority: Authority
) -> None:
    revocation = services.revoke(document=pdf(1), reason="superseded", authority=authority)
    sequence()
    before = verify_code(issued.code)
    assert before is not None and before.status == Status.REVOKED

    change_entries({"pk": revocation.pk}, reason="issued-in-error")

    result = verify_code(issued.code)
    assert result is not None and result.status == Status.FAILED
    assert "reason" in result.error
    assert result.revocation_reason == "superseded"


def test_a_pending_entry_whose_row_was_changed_is_not_shown_as_pending(
    authority: Authority,
) -> None:
    entry = services.append(document=pdf(3), document_type="receipt", authority=authority)
    change_entries({"pk": entry.pk}, document_type="certificate")

    result = verify_code(entry.code)

    assert result is not None and result.status == Status.FAILED


def test_the_authority_name_shown_is_the_logged_one_after_a_rename(
    issued: Entry, authority: Authority
) -> None:
    Authority.objects.filter(pk=authority.pk).update(name="Amt für Fälschungen")

    result = verify_code(issued.code)

    assert result is not None and result.status == Status.VALID
    answer = result.as_json()
    assert answer["authority"]["name"] == "Bürgeramt Wuppertal"
    assert answer["document_type"] == "notice" and answer["document_type_label"]
    assert answer["issued_at"] == issued.logged_at.isoformat()
    assert result.authority_name == "Bürgeramt Wuppertal"


def test_a_document_issued_after_a_rename_is_logged_with_the_new_name(
    issued: Entry, authority: Authority
) -> None:
    """The log keeps what it is given for ever: an entry must not carry a name the authority
    no longer has (read from a copy kept in the web worker, as it was for five minutes)."""
    authority.name = "Bürgerbüro Wuppertal"
    authority.save()

    by_instance = services.append(document=pdf(3), document_type="notice", authority=authority)
    by_id = services.append(document=pdf(4), document_type="permit", authority=authority.pk)
    sequence()

    for entry in (by_instance, by_id):
        assert LogEntry.decode(bytes(entry.leaf)).authority_name == "Bürgerbüro Wuppertal"
        result = verify_code(entry.code)
        assert result is not None and result.status == Status.VALID
        assert result.authority_name == "Bürgerbüro Wuppertal"


def test_a_document_issued_after_the_authority_was_reassigned_is_logged_as_it_is_now(
    issued: Entry, authority: Authority
) -> None:
    """An administrator corrects the authority's kind and its municipality's AGS: a document
    issued afterwards is logged with them, and verifies (it failed while an old copy of the
    authority was used, since the entry then disagreed with the authority's row)."""
    authority.kind = Authority.Kind.PUBLIC_ORDER
    authority.save()
    authority.municipality.ags = "05124001"
    authority.municipality.save()

    entry = services.append(document=pdf(3), document_type="notice", authority=authority.pk)
    sequence()

    assert LogEntry.decode(bytes(entry.leaf)).authority == "05124001/ordnungsamt"
    result = verify_code(entry.code)
    assert result is not None and result.status == Status.VALID, result.error


# --- rate limits per client -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("unknown", "unknown"),
        ("", ""),
    ],
)
def test_clients_are_counted_per_ipv4_address_and_ipv6_64_network(address: str, key: str) -> None:
    assert verification_limits.client_key(address) == key


def test_a_client_cycling_through_its_ipv6_64_shares_one_budget(settings: Any) -> None:
    cache.clear()
    settings.LEDGER_VERIFY_RATE_LIMITS = {"code": (3, 600)}
    allowed = [
        verification_limits.consume(kind="code", client=f"2001:db8:1:2::{n:x}")
        for n in range(1, 11)
    ]
    assert allowed == [True] * 3 + [False] * 7
    assert verification_limits.consume(kind="code", client="2001:db8:1:3::1")  # the next /64
    cache.clear()
