"""Browser: anyone checks a landlord confirmation on /pruefen/ by uploading the PDF — genuine,
changed by one byte, and revoked — or by following its QR code; every page passes axe."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.urls import get_resolver
from django.utils import timezone

from rathaus.core.models import Authority, Municipality
from rathaus.ledger.issuing import verification_url
from rathaus.ledger.sequencer import sequence
from rathaus.registers.landlord_confirmations import (
    MoveIn,
    Person,
    confirm_move_in,
    revoke_confirmation,
)
from rathaus.registers.models import LandlordConfirmation
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def confirmation(transactional_db: None) -> LandlordConfirmation:
    get_resolver().url_patterns  # noqa: B018 - import every view now, not in the first page load
    town = Municipality.objects.create(
        name="Wuppertal", slug="wuppertal", ags="05124000", state=Municipality.State.NW
    )
    office = Authority.objects.create(
        municipality=town,
        kind=Authority.Kind.CITIZENS_OFFICE,
        name="Bürgerbüro Wuppertal",
        address="Johannes-Rau-Platz 1, 42275 Wuppertal",
    )
    issued = confirm_move_in(
        landlord=UserFactory(),
        authority=office,
        move_in=MoveIn(
            street="Friedrich-Engels-Allee",
            house_number="12",
            address_supplement="",
            postal_code="42283",
            place="Wuppertal",
            move_in_date=timezone.localdate() - datetime.timedelta(days=1),
            persons=(Person("Erika", "Mustermann"),),
            landlord_name="Hans Vermieter",
            landlord_address="Hofaue 5, 42103 Wuppertal",
        ),
    )
    sequence()
    return issued


def _check(page: Any, path: Path) -> str:
    page.goto("/pruefen/")
    page.set_input_files('input[name="document"]', str(path))
    page.get_by_role("button", name="Dokument prüfen").click()
    page.wait_for_load_state()
    return str(page.locator("main").inner_text())


def test_genuine_changed_and_revoked_document(
    page: Any, axe_check: Any, tmp_path: Path, confirmation: LandlordConfirmation
) -> None:
    pdf = confirmation.pdf.read()
    genuine = tmp_path / "wohnungsgeberbestaetigung.pdf"
    genuine.write_bytes(pdf)

    page.goto("/pruefen/")
    assert page.title().startswith("Dokument prüfen")
    axe_check(page)

    text = _check(page, genuine)
    assert "Echt: Dieses Dokument wurde von der Stadt ausgestellt und nicht verändert" in text
    assert "Bürgerbüro Wuppertal, Wuppertal" in text
    assert "Wohnungsgeberbestätigung" in text
    assert "Gilt: Eintrag 0 ist im Log mit 1 Einträgen enthalten" in text
    assert "Keines: Dokumente dieser Art tragen kein elektronisches Siegel" in text  # landlord's
    axe_check(page)

    changed = bytearray(pdf)
    changed[len(pdf) // 2] ^= 0x01  # a single bit, somewhere in the middle
    tampered = tmp_path / "geaendert.pdf"
    tampered.write_bytes(bytes(changed))
    text = _check(page, tampered)
    assert "Nicht bestätigt: Diese Datei wurde so nicht ausgestellt" in text
    assert "Bürgerbüro Wuppertal" not in text.split("So funktioniert")[0]
    axe_check(page)

    revoke_confirmation(confirmation=confirmation, actor=confirmation.landlord)
    sequence()
    text = _check(page, genuine)
    assert "Widerrufen: Dieses Dokument ist nicht mehr gültig" in text
    assert "Grund: Irrtümlich ausgestellt" in text
    axe_check(page)


def test_qr_code_address_and_typed_code_lead_to_the_entry(
    page: Any, axe_check: Any, confirmation: LandlordConfirmation
) -> None:
    address = verification_url(confirmation.code)
    page.goto("/pruefen/" + address.rsplit("/pruefen/", 1)[1])
    text = page.locator("main").inner_text()
    assert "Ein Dokument mit diesem Code wurde von der Stadt ausgestellt" in text
    axe_check(page)

    page.goto("/pruefen/")
    page.fill('input[name="code"]', confirmation.code.lower())
    page.get_by_role("button", name="Code nachschlagen").click()
    page.wait_for_url(f"**/pruefen/{confirmation.code[:5]}-{confirmation.code[5:]}")
    assert "Bürgerbüro Wuppertal" in page.locator("main").inner_text()

    page.goto("/pruefen/")
    page.fill('input[name="code"]', "12345")
    page.get_by_role("button", name="Code nachschlagen").click()
    assert page.title().startswith("Fehler")
    assert "zehn Buchstaben und Ziffern" in page.locator("#error-summary").inner_text()
    assert page.input_value('input[name="code"]') == "12345"
    axe_check(page)
