"""Wohnungsgeberbestätigung (§ 19 BMG) given online: issue it as a verifiable PDF, revoke it.

The landlord confirms a move-in with their own account; the system issues the confirmation on
their behalf (§ 19 Abs. 4 BMG allows the electronic way), logs its SHA-256 in GovChain as a
``landlord-confirmation`` of the responsible registration office (Meldebehörde) and gives the
landlord the PDF with its QR code and short code. The tenant enters the code when registering.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.core import audit, stored_files
from rathaus.core.models import Authority
from rathaus.documents.letter import Recipient, Sender
from rathaus.documents.verification import Verification
from rathaus.ledger import services as ledger
from rathaus.ledger.issuing import issue_document
from rathaus.ledger.leaves import format_code
from rathaus.ledger.models import DocumentType, RevocationReason
from rathaus.registers.models import LandlordConfirmation

logger = logging.getLogger(__name__)

# How far the move-in date may lie from the day of the confirmation. § 19 Abs. 1 BMG: the
# landlord confirms within two weeks after the move-in; a confirmation ahead of it is allowed.
MAX_DAYS_AHEAD = 90
MAX_DAYS_AGO = 365
# As many persons as one Wohnsitzanmeldung registers (the "persons" list of the form of
# catalog/services/wohnsitz-anmelden; a test ties the two): every person registered must be
# named on the one confirmation whose code the registration gives.
MAX_PERSONS = 10


class LandlordConfirmationError(ValueError):
    """The confirmation cannot be issued or revoked; the message is for the landlord."""


@dataclass(frozen=True)
class Person:
    given_names: str
    family_name: str


@dataclass(frozen=True)
class MoveIn:
    """What § 19 Abs. 3 BMG asks the landlord to confirm."""

    street: str
    house_number: str
    address_supplement: str
    postal_code: str
    place: str
    move_in_date: datetime.date
    persons: tuple[Person, ...]
    landlord_name: str
    landlord_address: str
    owner_name: str = ""


def _check(move_in: MoveIn, today: datetime.date) -> None:
    if not move_in.persons:
        raise LandlordConfirmationError(_("Name at least one person who moves in."))
    if len(move_in.persons) > MAX_PERSONS:
        raise LandlordConfirmationError(
            _("One confirmation names at most %(count)s persons.") % {"count": MAX_PERSONS}
        )
    if move_in.move_in_date > today + datetime.timedelta(days=MAX_DAYS_AHEAD):
        raise LandlordConfirmationError(
            _("The move-in date may be at most %(days)s days ahead.") % {"days": MAX_DAYS_AHEAD}
        )
    if move_in.move_in_date < today - datetime.timedelta(days=MAX_DAYS_AGO):
        raise LandlordConfirmationError(_("The move-in date may be at most one year ago."))


def render_confirmation(
    confirmation: LandlordConfirmation, *, verification: Verification | None
) -> bytes:
    """The confirmation as PDF/A, with the verification mark when given."""
    # WeasyPrint takes seconds to import: load it when a document is rendered, not with the
    # web pages that import this module.
    from rathaus.documents.rendering import render_pdf

    sender = Sender.from_authority(confirmation.authority)
    landlord_lines = tuple(
        part.strip() for part in confirmation.landlord_address.split(",") if part.strip()
    )
    return render_pdf(
        template="registers/landlord_confirmation.html",
        context={
            "sender": sender,
            "recipient": Recipient(
                name_lines=(confirmation.landlord_name,), address_lines=landlord_lines[:8]
            ),
            "reference": format_code(confirmation.code) if confirmation.code else "",
            "date": timezone.localdate(confirmation.created_at),
            "subject": "Wohnungsgeberbestätigung nach § 19 Bundesmeldegesetz (BMG)",
            "confirmation": confirmation,
            "issued_at": timezone.localtime(confirmation.created_at),
            "verification": verification,
        },
        language="de",
        title="Wohnungsgeberbestätigung",
        author=sender.display_name,
        subject="Wohnungsgeberbestätigung nach § 19 BMG",
        created=confirmation.created_at,
    )


def confirm_move_in(
    *, landlord: User, authority: Authority, move_in: MoveIn
) -> LandlordConfirmation:
    """Issue the confirmation: PDF with QR code, logged in GovChain, stored, audited.

    The stored PDF (the tenants' names) is deleted again if the transaction fails, so a failed
    attempt leaves no file behind that no row names.
    """
    now = timezone.now()
    _check(move_in, timezone.localdate(now))
    confirmation = LandlordConfirmation(
        authority=authority,
        landlord=landlord,
        landlord_name=" ".join(move_in.landlord_name.split()),
        landlord_address=" ".join(move_in.landlord_address.split()),
        owner_name=" ".join(move_in.owner_name.split()),
        street=move_in.street.strip(),
        house_number=move_in.house_number.strip(),
        address_supplement=move_in.address_supplement.strip(),
        postal_code=move_in.postal_code.strip(),
        place=move_in.place.strip(),
        move_in_date=move_in.move_in_date,
        persons=[
            {"given_names": p.given_names.strip(), "family_name": p.family_name.strip()}
            for p in move_in.persons
        ],
        created_at=now.replace(microsecond=0),
    )

    def render(verification: Verification) -> bytes:
        confirmation.code = verification.short_code.replace("-", "")
        return render_confirmation(confirmation, verification=verification)

    written: list[str] = []
    committed: list[bool] = []
    try:
        with transaction.atomic():
            stored_files.note_commit(committed)  # first, before any hook that may fail
            issued = issue_document(
                render=render,
                document_type=DocumentType.LANDLORD_CONFIRMATION,
                authority=authority,
            )
            confirmation.code = issued.code
            confirmation.sha256 = hashlib.sha256(issued.pdf).hexdigest()
            confirmation.pdf.save(
                f"wohnungsgeberbestaetigung-{format_code(issued.code)}.pdf",
                ContentFile(issued.pdf),
                save=False,
            )
            written.append(confirmation.pdf.name)
            confirmation.save(force_insert=True)
            audit.record(
                actor=landlord,
                action="registers.landlord_confirmation.issue",
                obj=confirmation,
                after={
                    "code": issued.code,
                    "authority": authority.pk,
                    "sha256": confirmation.sha256,
                },
                municipality=authority.municipality,
            )
    except BaseException:
        if not committed:
            for name in written:
                _delete_file(name)
        raise
    return confirmation


def _delete_file(name: str) -> None:
    """Delete a confirmation PDF whose transaction rolled back (no row names it)."""
    try:
        LandlordConfirmation._meta.get_field("pdf").storage.delete(name)
    except OSError:
        logger.exception(
            "landlord confirmation file of a failed attempt not deleted", extra={"file": name}
        )


def revoke_confirmation(
    *,
    confirmation: LandlordConfirmation,
    actor: User,
    reason: str = RevocationReason.ISSUED_IN_ERROR,
) -> LandlordConfirmation:
    """Withdraw a confirmation (e.g. given in error): the log then reports it as revoked and a
    Wohnsitzanmeldung no longer accepts its code. Idempotent."""
    with transaction.atomic():
        locked = LandlordConfirmation.objects.select_for_update().get(pk=confirmation.pk)
        if locked.revoked_at is not None:
            return locked
        try:
            ledger.revoke(
                document_sha256=locked.sha256,
                reason=reason,
                authority=locked.authority_id,
                actor=actor,
            )
        except ledger.LedgerError as exc:
            raise LandlordConfirmationError(str(exc)) from exc
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            action="registers.landlord_confirmation.revoke",
            obj=locked,
            after={"reason": reason},
            municipality=locked.authority.municipality,
        )
    return locked
