"""Wohnungsgeberbestätigung (§ 19 BMG): issued as a verifiable PDF, checked by code, revoked."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import unicodedata
from unittest import mock

import pytest
from pypdf import PdfReader

from rathaus.accounts.models import User
from rathaus.core.models import AuditEvent, Authority
from rathaus.ledger.leaves import format_code
from rathaus.ledger.models import Entry
from rathaus.ledger.selectors import Status, verify_document
from rathaus.ledger.sequencer import sequence
from rathaus.registers.landlord_confirmations import (
    MAX_PERSONS,
    LandlordConfirmationError,
    MoveIn,
    Person,
    confirm_move_in,
    revoke_confirmation,
)
from rathaus.registers.models import LandlordConfirmation
from rathaus.registers.selectors import (
    check_landlord_confirmation,
    landlord_confirmation_for_code,
)

ADDRESS = {
    "street": "Friedrich-Engels-Allee",
    "house_number": "12",
    "postal_code": "42283",
    "place": "Wuppertal",
}


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_confirmation_is_issued_as_pdf_with_code_and_logged_for_the_registration_office(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    confirmation = confirm_move_in(
        landlord=landlord, authority=registration_office, move_in=move_in
    )
    pdf = confirmation.pdf.read()
    assert confirmation.sha256 == hashlib.sha256(pdf).hexdigest()
    entry = Entry.objects.get(code=confirmation.code)
    assert entry.document_type == "landlord-confirmation"
    assert entry.authority_id == registration_office.pk
    assert entry.document_sha256 == confirmation.sha256

    text = _text(pdf)
    for expected in [
        "Wohnungsgeberbestätigung",
        "Hans Vermieter",
        "Friedrich-Engels-Allee 12",
        "Erika Mustermann",
        "Max Mustermann",
        move_in.move_in_date.strftime("%d.%m.%Y"),
        format_code(confirmation.code),
        f"/pruefen/{format_code(confirmation.code)}",
        "§ 19",
    ]:
        assert expected in text, expected
    assert AuditEvent.objects.filter(action="registers.landlord_confirmation.issue").exists()
    sequence()
    assert verify_document(document=pdf).status == Status.VALID


def test_code_lookup_forgives_case_spaces_and_dashes(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    confirmation = confirm_move_in(
        landlord=landlord, authority=registration_office, move_in=move_in
    )
    typed = format_code(confirmation.code).lower().replace("-", " ")
    assert landlord_confirmation_for_code(typed) == confirmation
    assert landlord_confirmation_for_code("nonsense") is None
    assert landlord_confirmation_for_code("") is None


def test_check_accepts_matching_address_and_date_with_spelling_variants(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    confirmation = confirm_move_in(
        landlord=landlord, authority=registration_office, move_in=move_in
    )
    check = check_landlord_confirmation(
        code=confirmation.code,
        address={**ADDRESS, "street": "friedrich-engels-allee", "house_number": " 12"},
        move_in_date=move_in.move_in_date.isoformat(),
    )
    assert check.ok, check.problems
    assert check.status == Status.PENDING


@pytest.mark.parametrize(
    ("address", "days_off", "message"),
    [
        ({**ADDRESS, "house_number": "14"}, 0, "nicht die von Ihnen angegebene Anschrift"),
        ({**ADDRESS, "postal_code": "42103"}, 0, "nicht die von Ihnen angegebene Anschrift"),
        (ADDRESS, 1, "nicht an dem von Ihnen angegebenen Tag"),
    ],
)
def test_check_refuses_another_address_or_date(
    landlord: User,
    registration_office: Authority,
    move_in: MoveIn,
    address: dict[str, str],
    days_off: int,
    message: str,
) -> None:
    confirmation = confirm_move_in(
        landlord=landlord, authority=registration_office, move_in=move_in
    )
    wrong = {
        "code": confirmation.code,
        "address": address,
        "move_in_date": move_in.move_in_date + datetime.timedelta(days=days_off),
    }
    citizen = check_landlord_confirmation(**wrong)
    assert not citizen.ok
    assert "Entweder hat keine Wohnungsgeberbestätigung diesen Code" in citizen.problems[0]
    clerk = check_landlord_confirmation(**wrong, disclose=True)  # which detail differs
    assert not clerk.ok
    assert message in " ".join(clerk.problems)


def test_a_citizen_is_never_told_what_the_landlord_confirmed(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    # The code is public in the GovChain log: a stranger who types it must not learn the
    # confirmed address or day, nor which of them differs; the clerk (disclose) sees them.
    confirmation = confirm_move_in(
        landlord=landlord, authority=registration_office, move_in=move_in
    )
    wrong = {
        "code": confirmation.code,
        "address": {**ADDRESS, "street": "Irgendwo", "house_number": "1"},
        "move_in_date": move_in.move_in_date - datetime.timedelta(days=30),
    }
    citizen = " ".join(check_landlord_confirmation(**wrong).problems)
    clerk = " ".join(check_landlord_confirmation(**wrong, disclose=True).problems)
    day = move_in.move_in_date.strftime("%d.%m.%Y")
    for secret in ("Friedrich-Engels-Allee", "42283", day):
        assert secret not in citizen
        assert secret in clerk
    assert "nicht die von Ihnen angegebene Anschrift" not in citizen
    assert "nicht an dem von Ihnen angegebenen Tag" not in citizen
    assert "nicht die von Ihnen angegebene Anschrift" in clerk
    assert "nicht an dem von Ihnen angegebenen Tag" in clerk


def test_every_person_registered_must_be_named_on_the_confirmation(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    confirmation = confirm_move_in(
        landlord=landlord, authority=registration_office, move_in=move_in
    )

    def check(*names: tuple[str, str]) -> list[str]:
        persons = [{"name": {"given_names": g, "family_name": f}} for g, f in names]
        return check_landlord_confirmation(
            code=confirmation.code,
            address=ADDRESS,
            move_in_date=move_in.move_in_date,
            persons=persons,
            disclose=True,  # the clerk: the citizen is not told who is missing
        ).problems

    assert check(("erika maria", "MUSTERMANN")) == []  # spelling and further given names
    assert check(("Erika", "Mustermann"), ("Max", "Mustermann")) == []
    [problem] = check(("Erika", "Mustermann"), ("Mallory", "Angreifer"))
    assert "nennt nicht: Mallory Angreifer" in problem and "Max" not in problem
    assert check() != []  # nobody registered: nothing the confirmation could support
    assert check_landlord_confirmation(
        code=confirmation.code, address=ADDRESS, move_in_date=move_in.move_in_date, persons="x"
    ).problems


@pytest.mark.parametrize(
    ("stored_street", "typed_street", "stored_family", "typed_family"),
    [
        (
            "Müllerstraße",
            unicodedata.normalize("NFD", "Müllerstraße"),
            "Müller",
            unicodedata.normalize("NFD", "Müller"),
        ),
        (
            "Friedrich-Engels-Allee\u200b",
            "Friedrich-Engels-Allee",
            "Mustermann\u00ad",
            "Mustermann",
        ),
        (
            "Friedrich-Engels-Allee",
            "\uff26riedrich-Engels-Allee\u200e",
            "Mustermann",
            "\uff2dustermann",
        ),
        # a Persian name with and without its zero width non-joiner (Nik-nam), both ways
        (
            "Friedrich-Engels-Allee",
            "Friedrich-Engels-Allee",
            "\u0646\u06cc\u06a9\u200c\u0646\u0627\u0645",
            "\u0646\u06cc\u06a9\u0646\u0627\u0645",
        ),
        (
            "Friedrich-Engels-Allee",
            "Friedrich-Engels-Allee",
            "\u0646\u06cc\u06a9\u0646\u0627\u0645",
            "\u0646\u06cc\u06a9\u200c\u0646\u0627\u0645",
        ),
    ],
)
def test_the_same_text_in_another_unicode_form_fits(
    landlord: User,
    registration_office: Authority,
    move_in: MoveIn,
    stored_street: str,
    typed_street: str,
    stored_family: str,
    typed_family: str,
) -> None:
    confirmation = confirm_move_in(
        landlord=landlord,
        authority=registration_office,
        move_in=dataclasses.replace(
            move_in, street=stored_street, persons=(Person("Jürgen", stored_family),)
        ),
    )
    check = check_landlord_confirmation(
        code=confirmation.code,
        address={**ADDRESS, "street": typed_street},
        move_in_date=move_in.move_in_date,
        persons=[
            {
                "name": {
                    "given_names": unicodedata.normalize("NFD", "Jürgen"),
                    "family_name": typed_family,
                }
            }
        ],
    )
    assert check.ok, check.problems


def test_invisible_characters_do_not_make_another_name_fit(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    confirmation = confirm_move_in(
        landlord=landlord, authority=registration_office, move_in=move_in
    )
    check = check_landlord_confirmation(
        code=confirmation.code,
        address=ADDRESS,
        move_in_date=move_in.move_in_date,
        persons=[{"name": {"given_names": "Erika", "family_name": "Muster\u200bfrau"}}],
    )
    assert not check.ok


def _stored_confirmations() -> set[str]:
    storage = LandlordConfirmation._meta.get_field("pdf").storage
    if not storage.exists("landlord-confirmations"):
        return set()
    return {
        f"{year}/{name}"
        for year in storage.listdir("landlord-confirmations")[0]
        for name in storage.listdir(f"landlord-confirmations/{year}")[1]
    }


def test_no_pdf_is_left_when_issuing_rolls_back(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    before = _stored_confirmations()
    with (
        mock.patch(
            "rathaus.registers.landlord_confirmations.audit.record",
            side_effect=RuntimeError("audit trail unavailable"),
        ),
        pytest.raises(RuntimeError),
    ):
        confirm_move_in(landlord=landlord, authority=registration_office, move_in=move_in)
    assert not LandlordConfirmation.objects.exists()
    assert _stored_confirmations() == before


def test_the_pdf_of_an_issued_confirmation_stays(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    before = _stored_confirmations()
    confirmation = confirm_move_in(
        landlord=landlord, authority=registration_office, move_in=move_in
    )
    assert _stored_confirmations() - before == {confirmation.pdf.name.split("/", 1)[1]}


def test_more_persons_than_one_registration_takes_are_refused(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    crowd = tuple(Person(f"Kind{i}", "Mustermann") for i in range(MAX_PERSONS + 1))
    with pytest.raises(LandlordConfirmationError):
        confirm_move_in(
            landlord=landlord,
            authority=registration_office,
            move_in=dataclasses.replace(move_in, persons=crowd),
        )


def test_a_confirmation_names_as_many_persons_as_one_registration_takes(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    from rathaus.catalog.form_schemas import form_schema
    from rathaus.catalog.models import Service

    schema, _ = form_schema(Service.objects.get(slug="wohnsitz-anmelden"))
    household = next(f.max_items for s in schema.steps for f in s.fields if f.id == "persons")
    assert household == MAX_PERSONS
    family = tuple(Person(f"Kind{chr(65 + i)}", "Mustermann") for i in range(household))
    confirmation = confirm_move_in(
        landlord=landlord,
        authority=registration_office,
        move_in=dataclasses.replace(move_in, persons=family),
    )
    text = _text(confirmation.pdf.read())
    assert all(f"{p.given_names} Mustermann" in text for p in family)


def test_unknown_code_is_refused(db: None) -> None:
    check = check_landlord_confirmation(
        code="7KQ4M-2XH9P", address=ADDRESS, move_in_date="2026-01-01"
    )
    assert not check.ok
    assert "Entweder hat keine Wohnungsgeberbestätigung diesen Code" in check.problems[0]
    clerk = check_landlord_confirmation(
        code="7KQ4M-2XH9P", address=ADDRESS, move_in_date="2026-01-01", disclose=True
    )
    assert "Keine Wohnungsgeberbestätigung hat den Code 7KQ4M-2XH9P" in clerk.problems[0]


def test_withdrawn_confirmation_is_revoked_in_the_log_and_refused(
    landlord: User, registration_office: Authority, move_in: MoveIn
) -> None:
    confirmation = confirm_move_in(
        landlord=landlord, authority=registration_office, move_in=move_in
    )
    revoked = revoke_confirmation(confirmation=confirmation, actor=landlord)
    assert revoked.revoked_at is not None
    assert revoke_confirmation(confirmation=confirmation, actor=landlord).revoked_at == (
        revoked.revoked_at
    )
    assert Entry.objects.filter(kind="revoke", document_sha256=confirmation.sha256).count() == 1
    sequence()
    assert verify_document(document_sha256=confirmation.sha256).status == Status.REVOKED
    check = check_landlord_confirmation(
        code=confirmation.code, address=ADDRESS, move_in_date=move_in.move_in_date
    )
    assert not check.ok
    assert "zurückgezogen" in " ".join(check.problems)


@pytest.mark.parametrize("days", [-400, 120])
def test_implausible_move_in_date_is_refused(
    landlord: User, registration_office: Authority, move_in: MoveIn, days: int
) -> None:
    shifted = dataclasses.replace(
        move_in, move_in_date=datetime.date.today() + datetime.timedelta(days=days)
    )
    with pytest.raises(LandlordConfirmationError):
        confirm_move_in(landlord=landlord, authority=registration_office, move_in=shifted)
    assert not Entry.objects.exists()
