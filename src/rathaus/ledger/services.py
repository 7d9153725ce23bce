"""Writing to the GovChain log: append an issued document's hash, revoke it.

Entries are pending until the sequencer (``manage.py run_sequencer``) puts them into the tree,
at least once a second. Only hashes and public facts about the issuing authority are logged.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.core import audit
from rathaus.core.models import Authority, Municipality
from rathaus.ledger.leaves import LogEntry, new_code, normalize_code
from rathaus.ledger.models import DocumentType, Entry, RevocationReason

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class LedgerError(ValueError):
    """A request the log cannot fulfil; the message is fit to show to a person."""


class CodeTakenError(LedgerError):
    """The code reserved for a document was taken by another entry in the meantime."""


def document_hash(*, document: bytes | None = None, document_sha256: str | None = None) -> str:
    """The lower-case hex SHA-256 of a document, from its bytes or a given hash."""
    if (document is None) == (document_sha256 is None):
        raise LedgerError(_("Give either the document or its SHA-256 hash."))
    if document is not None:
        return hashlib.sha256(document).hexdigest()
    assert document_sha256 is not None
    value = document_sha256.strip()
    if not _SHA256.match(value):
        raise LedgerError(_("A SHA-256 hash has 64 hexadecimal digits."))
    return value.lower()


@dataclass(frozen=True)
class _Issuer:
    """What an entry says about the issuing authority, as the authority is now."""

    pk: int
    authority: str  # <AGS>/<kind>
    name: str

    @classmethod
    def of(cls, authority: Authority) -> _Issuer:
        return cls(
            pk=authority.pk,
            authority=f"{authority.municipality.ags}/{authority.kind}",
            name=authority.name,
        )


@functools.cache
def _issuer_query() -> str:
    a, m = Authority._meta, Municipality._meta
    q = connection.ops.quote_name
    ags, kind, name = m.get_field("ags"), a.get_field("kind"), a.get_field("name")
    municipality = a.get_field("municipality")
    return (
        f"SELECT m.{q(ags.column)}, a.{q(kind.column)}, a.{q(name.column)} "  # noqa: S608 - names
        f"FROM {q(a.db_table)} a JOIN {q(m.db_table)} m "
        f"ON m.{q(m.pk.column)} = a.{q(municipality.column)} WHERE a.{q(a.pk.column)} = %s"
    )


def _pk(authority: Authority | int) -> int:
    return authority if isinstance(authority, int) else authority.pk


def _issuer(authority: Authority | int) -> _Issuer:
    """The authority as it is now, read for every entry: the log keeps what it is given for
    ever, so it must not be a copy kept from before an administrator changed the authority
    (its name, kind or municipality). One plain query, a fraction of the ORM's cost."""
    authority_id = _pk(authority)
    with connection.cursor() as cursor:
        cursor.execute(_issuer_query(), [authority_id])
        row = cursor.fetchone()
    if row is None:
        raise LedgerError(_("Unknown authority."))
    ags, kind, name = row
    return _Issuer(pk=authority_id, authority=f"{ags}/{kind}", name=name)


def _save(entry: Entry) -> None:
    """Insert in one round trip; a savepoint only when the caller holds a transaction."""
    if connection.in_atomic_block:
        with transaction.atomic():
            entry.save(force_insert=True)
    else:
        entry.save(force_insert=True)


def _create(
    *,
    kind: str,
    sha256: str,
    document_type: str,
    issuer: _Issuer,
    reason: str,
    code: str | None = None,
) -> Entry:
    logged_at = timezone.now().replace(microsecond=0)
    reserved = code
    for _attempt in range(5):
        code = reserved or new_code()
        leaf = LogEntry(
            kind=kind,
            code=code,
            document_sha256=sha256,
            document_type=document_type,
            authority=issuer.authority,
            authority_name=" ".join(issuer.name.split()),
            logged_at=logged_at,
            reason=reason,
        ).encode()
        entry = Entry(
            kind=kind,
            code=code,
            document_sha256=sha256,
            document_type=document_type,
            authority_id=issuer.pk,
            reason=reason,
            logged_at=logged_at,
            leaf=leaf,
        )
        try:
            _save(entry)
            return entry
        except IntegrityError:
            existing = Entry.objects.filter(kind=kind, document_sha256=sha256).first()
            if existing is not None:
                return existing
            if reserved:
                raise CodeTakenError(_("The verification code is already taken.")) from None
            # otherwise the random code collided; draw another
    raise LedgerError(_("The document could not be logged; please try again."))


def append(
    *,
    document_type: str,
    authority: Authority | int,
    document: bytes | None = None,
    document_sha256: str | None = None,
    code: str | None = None,
) -> Entry:
    """Log an issued document (its bytes or SHA-256). Idempotent per document hash.

    The returned entry's ``code`` (shown as ``format_code(entry.code)``) goes on the document
    next to the QR code; its ``index`` is set once the sequencer has run. ``code`` is a code
    reserved beforehand (see ``rathaus.ledger.issuing``); ``CodeTakenError`` if another entry
    has it. Call it in the
    transaction that issues the document (and records that in the audit trail): the entry is
    then logged if and only if the document is issued. The entry itself is public, append-only
    and tamper-evident, so it is not copied into the audit trail as well.
    """
    sha256 = document_hash(document=document, document_sha256=document_sha256)
    if document_type not in DocumentType.values:
        raise LedgerError(_("Unknown document type."))
    if code is not None and normalize_code(code) != code:
        raise LedgerError(_("Invalid verification code."))
    issuer = _issuer(authority)
    entry = _create(
        kind=Entry.Kind.ISSUE,
        sha256=sha256,
        document_type=document_type,
        issuer=issuer,
        reason="",
        code=code,
    )
    if entry.authority_id != issuer.pk or entry.document_type != document_type:
        raise LedgerError(
            _("This document was already logged by another authority or as another type.")
        )
    return entry


def append_many(
    *,
    document_sha256s: Sequence[str],
    document_type: str,
    authority: Authority | int,
) -> list[Entry]:
    """Log many documents of one type and authority at once (mass issuance, e.g. receipts).

    One INSERT for the batch; same rules and idempotency as :func:`append`. Returns the entries
    in the order of the hashes.
    """
    hashes = [document_hash(document_sha256=h) for h in document_sha256s]
    if document_type not in DocumentType.values:
        raise LedgerError(_("Unknown document type."))
    issuer = _issuer(authority)
    existing = {
        e.document_sha256: e
        for e in Entry.objects.filter(kind=Entry.Kind.ISSUE, document_sha256__in=set(hashes))
    }
    if any(
        e.authority_id != issuer.pk or e.document_type != document_type for e in existing.values()
    ):
        raise LedgerError(
            _("This document was already logged by another authority or as another type.")
        )
    logged_at = timezone.now().replace(microsecond=0)
    fresh: dict[str, Entry] = {}
    for sha256 in hashes:
        if sha256 in existing or sha256 in fresh:
            continue
        code = new_code()
        fresh[sha256] = Entry(
            kind=Entry.Kind.ISSUE,
            code=code,
            document_sha256=sha256,
            document_type=document_type,
            authority_id=issuer.pk,
            logged_at=logged_at,
            leaf=LogEntry(
                kind=Entry.Kind.ISSUE,
                code=code,
                document_sha256=sha256,
                document_type=document_type,
                authority=issuer.authority,
                authority_name=" ".join(issuer.name.split()),
                logged_at=logged_at,
            ).encode(),
        )
    try:
        with transaction.atomic():
            Entry.objects.bulk_create(fresh.values())
    except IntegrityError:  # a concurrent append of the same document, or a code collision
        entries = [
            append(document_sha256=h, document_type=document_type, authority=issuer.pk)
            for h in hashes
        ]
    else:
        entries = [existing.get(h) or fresh[h] for h in hashes]
    return entries


def revoke(
    *,
    reason: str,
    document: bytes | None = None,
    document_sha256: str | None = None,
    authority: Authority | int | None = None,
    actor: Any = None,
) -> Entry:
    """Log that an issued document is revoked (e.g. a parking permit withdrawn).

    When ``authority`` is given it must be the issuing authority. Idempotent: asked again with
    the same reason it returns the revocation the log holds, and audits nothing new; with
    another reason it refuses, since the log keeps one revocation per document.
    """
    sha256 = document_hash(document=document, document_sha256=document_sha256)
    if reason not in RevocationReason.values:
        raise LedgerError(_("Unknown revocation reason."))
    issue = (
        Entry.objects.select_related("authority__municipality")
        .filter(kind=Entry.Kind.ISSUE, document_sha256=sha256)
        .first()
    )
    if issue is None:
        raise LedgerError(_("This document is not in the log."))
    if authority is not None and _pk(authority) != issue.authority_id:
        raise LedgerError(_("Only the issuing authority can revoke a document."))
    with transaction.atomic():
        # One revocation of a document at a time: the second sees the first one's entry.
        Entry.objects.select_for_update().get(pk=issue.pk)
        logged = Entry.objects.filter(kind=Entry.Kind.REVOKE, document_sha256=sha256).first()
        if logged is not None:
            if logged.reason != reason:
                raise LedgerError(
                    _("This document has already been revoked (reason: “%(reason)s”).")
                    % {"reason": dict(RevocationReason.choices).get(logged.reason, logged.reason)}
                )
            return logged
        revocation = _create(
            kind=Entry.Kind.REVOKE,
            sha256=sha256,
            document_type=issue.document_type,
            issuer=_Issuer.of(issue.authority),
            reason=reason,
        )
        audit.record(
            actor=actor,
            action="ledger.revoke",
            obj=issue,
            after={"revocation": revocation.code, "reason": reason},
            municipality=issue.authority.municipality,
        )
    return revocation
