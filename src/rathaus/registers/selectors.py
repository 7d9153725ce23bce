"""Reading the registers: landlord confirmations by code, and whether one fits a registration."""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from rathaus.core.models import Authority
from rathaus.ledger.leaves import normalize_code
from rathaus.ledger.selectors import Status, verify_document
from rathaus.registers.models import LandlordConfirmation


def landlord_confirmation_for_code(code: str) -> LandlordConfirmation | None:
    """The landlord confirmation with this code as a person typed it (case, spaces, dashes
    forgiven), or None. The back office shows it to the clerk as verified."""
    normalized = normalize_code(code or "")
    if normalized is None:
        return None
    return (
        LandlordConfirmation.objects.select_related("authority__municipality")
        .filter(code=normalized)
        .first()
    )


def landlord_confirmations_of(user: Any) -> QuerySet[LandlordConfirmation]:
    return LandlordConfirmation.objects.filter(landlord=user).select_related("authority")


def _canon(value: str) -> str:
    """``value`` as compared: the same text however it was stored — composed or decomposed
    umlauts, compatibility forms (NFKC), invisible format characters (zero-width space, soft
    hyphen, direction marks) — without case, "ß" as "ss"."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFKC", text.casefold())


def _street_key(street: str) -> str:
    text = _canon(street)
    text = re.sub(r"str(asse|\.)?(?=\s|$|-)", "str", text)
    return re.sub(r"[\s.\-]", "", text)


def _plain(value: str) -> str:
    return re.sub(r"\s", "", _canon(value))


@dataclass
class ConfirmationCheck:
    """Whether a landlord confirmation supports a registration; ``problems`` are for the
    citizen (and the clerk), in the active language."""

    confirmation: LandlordConfirmation | None
    status: Status | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.confirmation is not None and not self.problems


def _names(persons: Any) -> dict[tuple[str, str], str]:
    """The persons' names by their key — family name and first given name, compared as
    :func:`_canon` does and without spacing — to the name as written; for persons of the form
    (``{"name": {...}}``) or of a confirmation (``{"given_names", "family_name"}``). Anything
    without a family name is left out."""

    def plain(value: Any) -> str:
        return " ".join(_canon(str(value or "")).split())

    names: dict[tuple[str, str], str] = {}
    for person in persons if isinstance(persons, list) else []:
        name = person.get("name", person) if isinstance(person, dict) else None
        if not isinstance(name, dict) or not plain(name.get("family_name")):
            continue
        given = plain(name.get("given_names"))
        key = (plain(name.get("family_name")), given.split(" ")[0] if given else "")
        names[key] = f"{name.get('given_names', '')} {name.get('family_name', '')}".strip()
    return names


#: A SHA-256 no document has: the log is asked about it when the code is unknown.
_NO_DOCUMENT = "0" * 64


def _does_not_fit() -> str:
    """The citizen's one refusal for an unknown code and for every detail that differs."""
    return _(
        "Either no landlord confirmation has this code, or it does not confirm the address, "
        "the move-in date or every person you register. Please compare them with the "
        "confirmation your landlord gave you."
    )


def check_landlord_confirmation(
    *,
    code: str,
    address: dict[str, Any],
    move_in_date: datetime.date | str,
    persons: Any = None,
    authority: Authority | None = None,
    disclose: bool = False,
) -> ConfirmationCheck:
    """The code exists, is not revoked (in the register and in the GovChain log), and the
    confirmed address and move-in date are those of the registration, and every person of the
    registration (``persons``, as the form stores them) is named on the confirmation.

    The codes are printed on the confirmation and logged publicly in GovChain, so a code alone
    proves nothing, and the answer must not become an oracle for what the landlord confirmed:
    a citizen is told neither the confirmed details nor *which* of them differs, nor whether
    the code exists at all (one refusal, :func:`_does_not_fit`, for each of these; every
    comparison runs whatever fails first, also for an unknown code), and a failing check
    carries no confirmation. What the public log tells anyone about a code is said as such:
    that the landlord withdrew it, or gave it to another registration office (then nothing
    about the details). ``disclose`` (the clerk's case page) names every difference and the
    confirmed details.

    ``authority``: the registration office responsible for the registration. The landlord's
    declaration is made to the competent Meldebehörde (§ 19 Abs. 4 BMG), so a confirmation
    given to another office does not count (the office it went to is in the public log)."""
    confirmation = landlord_confirmation_for_code(code)
    # An unknown code is compared as a confirmation of nothing: the same work, no early return.
    compared = confirmation or LandlordConfirmation(move_in_date=datetime.date.min, persons=[])
    status = verify_document(document_sha256=compared.sha256 or _NO_DOCUMENT).status
    public = [] if confirmation is None else _public_problems(confirmation, status, authority)
    details = _differences(compared, address, move_in_date, persons)
    if disclose:
        if confirmation is None:
            details = [
                _(
                    "No landlord confirmation has the code %(code)s. Please check the code your "
                    "landlord gave you."
                )
                % {"code": code}
            ]
        return ConfirmationCheck(confirmation, status if confirmation else None, public + details)
    if public:
        return ConfirmationCheck(None, None, public)
    if confirmation is None or details:
        return ConfirmationCheck(None, None, [_does_not_fit()])
    return ConfirmationCheck(confirmation, status)


def _public_problems(
    confirmation: LandlordConfirmation, status: Status, authority: Authority | None
) -> list[str]:
    """What is wrong with the confirmation itself, as the public log tells anyone its code."""
    problems = []
    if confirmation.revoked_at is not None or status == Status.REVOKED:
        problems.append(
            _("Your landlord has withdrawn this confirmation. Please ask them for a new one.")
        )
    elif status in (Status.UNKNOWN, Status.FAILED):
        problems.append(_("This landlord confirmation could not be verified."))
    if authority is not None and confirmation.authority_id != authority.pk:
        problems.append(
            _(
                "This landlord confirmation was given to the registration office of "
                "%(municipality)s (%(office)s), which is not responsible for your registration "
                "(%(responsible)s). Please ask your landlord to confirm your move-in again "
                "online for the municipality of your new home; then enter the new code."
            )
            % {
                "municipality": confirmation.authority.municipality.name,
                "office": confirmation.authority.name,
                "responsible": authority.name,
            }
        )
    return problems


def _differences(
    confirmation: LandlordConfirmation,
    address: dict[str, Any],
    move_in_date: datetime.date | str,
    persons: Any,
) -> list[str]:
    """Every detail of the registration that the confirmation does not confirm, as the clerk
    reads it (with what the landlord confirmed); all three are compared whichever differs. A
    citizen is told :func:`_does_not_fit` instead."""
    problems = []
    if isinstance(move_in_date, str):
        try:
            move_in_date = datetime.date.fromisoformat(move_in_date)
        except ValueError:
            move_in_date = datetime.date.min
    same_day = confirmation.move_in_date == move_in_date
    same_address = (
        _plain(str(address.get("postal_code", ""))) == _plain(confirmation.postal_code)
        and _street_key(str(address.get("street", ""))) == _street_key(confirmation.street)
        and _plain(str(address.get("house_number", ""))) == _plain(confirmation.house_number)
        and _plain(str(address.get("place", ""))) == _plain(confirmation.place)
    )
    missing: list[str] = []
    everyone_named = True
    if persons is not None:
        registered, confirmed = _names(persons), _names(confirmation.persons)
        missing = [name for key, name in registered.items() if key not in confirmed]
        everyone_named = bool(registered) and not missing
    if not same_day:
        problems.append(
            _("The landlord confirmed the move-in on %(date)s, not on the date you gave.")
            % {"date": confirmation.move_in_date.strftime("%d.%m.%Y")}
        )
    if not same_address:
        problems.append(
            _("The landlord confirmed the move-in to %(address)s, not to the address you gave.")
            % {"address": confirmation.address_line}
        )
    if not everyone_named:
        problems.append(
            _("The landlord confirmation does not name: %(names)s.")
            % {"names": ", ".join(missing) or "—"}
        )
    return problems
