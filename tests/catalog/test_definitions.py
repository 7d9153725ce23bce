"""Service definition files: every shipped file is valid; broken files name file and field."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from rathaus.catalog import checks, definitions
from rathaus.catalog.models import Responsibility, Service
from rathaus.catalog.sync import sync_catalog
from rathaus.core.models import Authority

SITUATIONS = {s.slug for s in definitions.read_life_situations()}
REQUIRED_SERVICES = {
    "wohnsitz-anmelden",
    "wohnsitz-ummelden",
    "wohnsitz-abmelden",
    "meldebescheinigung",
    "geburtsurkunde",
    "eheschliessung-anmelden",
    "einbuergerung",
    "elterngeld",
    "kindergeld",
    "wohngeld",
    "bafoeg",
    "fuehrerschein",
    "fahrzeug-zulassen",
    "fahrzeugregisterauskunft",
    "bewohnerparkausweis",
    "personalausweis",
    "gewerbe-anmelden",
    "briefwahl",
    "abfallentsorgung",
    "ehrenamtskarte",
}
# REFERENCE.md: keys found in public code; every other service keeps an empty key.
KNOWN_LEIKA_KEYS = {
    "wohnsitz-anmelden": "99115005104000",
    "meldebescheinigung": "99115003012000",
    "gewerbe-anmelden": "99050012104000",
    "geburtsurkunde": "99027002012000",
    "personalausweis": "99008001012000",
    "wohngeld": "99107023037000",
    "bewohnerparkausweis": "99108001001000",
    "bafoeg": "99022001017003",
}

VALID = """
leika_key = ""
trust_level = "low"
online = true
authority_kind = "buergeramt"
life_situations = ["umzug"]
keywords = ["Test"]
plain_language = "Ein Test."

[name]
de = "Testleistung"
en = "Test service"

[summary]
de = "Kurz."
en = "Short."

[description]
de = "Lang."
en = "Long."

[processing_time]
de = "Sofort"
en = "Immediately"

[[legal_basis]]
title = "§ 1 Testgesetz"
url = "https://www.gesetze-im-internet.de/"

[fee]
kind = "fixed"

[[fee.items]]
label_de = "Gebühr"
label_en = "Fee"
amount = "12.50"
"""


def _write(tmp_path: Path, text: str, slug: str = "test-leistung") -> Path:
    folder = tmp_path / slug
    folder.mkdir(parents=True)
    path = folder / "service.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_service_definition_is_valid_and_the_required_services_exist() -> None:
    services = definitions.read_services(life_situations=SITUATIONS)
    slugs = {s.slug for s in services}
    assert slugs >= REQUIRED_SERVICES
    for service in services:
        assert service.name_de and service.name_en and service.plain_language_de
        assert service.legal_basis, service.slug


def test_leika_keys_are_only_those_documented_in_the_reference() -> None:
    services = definitions.read_services(life_situations=SITUATIONS)
    for service in services:
        assert service.leika_key == KNOWN_LEIKA_KEYS.get(service.slug, ""), service.slug


def test_life_situation_slugs_are_the_stable_ones_the_start_page_links_to() -> None:
    assert [s.slug for s in definitions.read_life_situations()] == [
        "umzug",
        "geburt",
        "heirat-familie",
        "auto-verkehr",
        "arbeit-gewerbe",
        "wahlen",
        "wohnen-soziales",
        "aufenthalt-einbuergerung",
        "ehrenamt",
        "abfall",
    ]


def test_a_valid_file_is_read_with_fees_as_exact_amounts(tmp_path: Path) -> None:
    service = definitions.read_service(_write(tmp_path, VALID), life_situations=SITUATIONS)
    assert service.slug == "test-leistung"
    assert service.fees == [{"label_de": "Gebühr", "label_en": "Fee", "amount": "12.50"}]


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('en = "Test service"', "", "name.en"),
        ('trust_level = "low"', 'trust_level = "medium"', "trust_level"),
        ('leika_key = ""', 'leika_key = "991150051"', "leika_key"),
        ("online = true", 'online = "yes"', "online"),
        ('life_situations = ["umzug"]', 'life_situations = ["mond"]', "life_situations"),
        ('authority_kind = "buergeramt"', 'authority_kind = "rathauskeller"', "authority_kind"),
        ('amount = "12.50"', 'amount = "12,50"', "fee.items[0].amount"),
        ('amount = "12.50"', "amount = 12.5", "fee.items[0].amount"),
        ('kind = "fixed"', 'kind = "cheap"', "fee.kind"),
        ('keywords = ["Test"]', 'keywords = ["Test"]\ncolour = "blue"', "colour"),
        ('url = "https://www.gesetze-im-internet.de/"', 'url = "http://x"', "legal_basis[0].url"),
        ('authority_kind = "buergeramt"', 'authority_kind = ""', "external.url"),
    ],
)
def test_an_invalid_field_is_reported_with_file_and_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(definitions.DefinitionError) as error:
        definitions.read_service(path, life_situations=SITUATIONS)
    assert error.value.field_name == field
    assert str(path) in str(error.value)
    assert f"field '{field}'" in str(error.value)


@pytest.mark.parametrize("amount", ["1000000.00", "99999999999999999999", "1E+999999999"])
def test_a_fee_larger_than_can_be_collected_names_service_and_fee(
    tmp_path: Path, amount: str
) -> None:
    path = _write(tmp_path, VALID.replace('amount = "12.50"', f'amount = "{amount}"', 1))
    with pytest.raises(definitions.DefinitionError, match=r"999999\.99") as error:
        definitions.read_service(path, life_situations=SITUATIONS)
    assert error.value.field_name == "fee.items[0].amount"
    assert "test-leistung" in str(error.value)


def test_fee_items_that_together_exceed_what_can_be_collected_are_refused(
    tmp_path: Path,
) -> None:
    second = '\n[[fee.items]]\nlabel_de = "Zuschlag"\nlabel_en = "Extra"\namount = "999999.00"\n'
    path = _write(tmp_path, VALID + second)
    with pytest.raises(definitions.DefinitionError, match=r"999\.999,99") as error:
        definitions.read_service(path, life_situations=SITUATIONS)
    assert error.value.field_name == "fee.items"

    # Age bands exclude each other: only the largest counts.
    bands = VALID.replace('amount = "12.50"', 'amount = "999999.00"\nmax_age = 17', 1) + (
        second.replace('"999999.00"', '"999999.99"\nmin_age = 18')
    )
    service = definitions.read_service(
        _write(tmp_path, bands, slug="altersstufen"), life_situations=SITUATIONS
    )
    assert [fee["amount"] for fee in service.fees] == ["999999.00", "999999.99"]


def test_the_system_check_reports_a_fee_too_large_naming_service_and_fee(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, VALID.replace('amount = "12.50"', 'amount = "5000000.00"', 1))
    monkeypatch.setattr(definitions, "SERVICES_DIR", tmp_path)
    errors = checks.check_service_definitions()
    assert [e.id for e in errors] == ["catalog.E001"]
    assert "test-leistung" in errors[0].msg and "fee.items[0].amount" in errors[0].msg


def _arabic_indic(digits: str) -> str:
    return "".join(chr(0x0660 + int(d)) if d.isdigit() else d for d in digits)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('leika_key = ""', f'leika_key = "{_arabic_indic("99115005104000")}"', "leika_key"),
        ('leika_key = ""', f'file_plan_key = "{_arabic_indic("11.30.01")}"', "file_plan_key"),
    ],
)
def test_keys_must_be_ascii_digits(tmp_path: Path, old: str, new: str, field: str) -> None:
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(definitions.DefinitionError) as error:
        definitions.read_service(path, life_situations=SITUATIONS)
    assert error.value.field_name == field


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("url", "https://example.org/" + "x" * 190),
        ("provider_de", "A" * 201),
        ("provider_en", "B" * 201),
    ],
)
def test_external_texts_longer_than_their_columns_name_the_field(
    tmp_path: Path, key: str, value: str
) -> None:
    external = {"provider_de": "Land NRW", "provider_en": "State of NRW", "url": "https://x.de/"}
    external[key] = value
    lines = "".join(f'{name} = "{text}"\n' for name, text in external.items())
    text = VALID.replace('authority_kind = "buergeramt"', 'authority_kind = ""', 1)
    path = _write(tmp_path, f"{text}\n[external]\n{lines}")
    with pytest.raises(definitions.DefinitionError, match="longer than 200") as error:
        definitions.read_service(path, life_situations=SITUATIONS)
    assert error.value.field_name == f"external.{key}"


def test_a_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID + "\n[name\n")
    with pytest.raises(definitions.DefinitionError, match="is not valid TOML") as error:
        definitions.read_service(path, life_situations=SITUATIONS)
    assert error.value.path == path


def test_a_service_folder_without_definition_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "leer").mkdir()
    with pytest.raises(definitions.DefinitionError, match="is missing"):
        definitions.read_services(tmp_path, life_situations=SITUATIONS)


def test_the_system_check_reports_a_broken_definition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, VALID.replace('trust_level = "low"', 'trust_level = "x"'))
    monkeypatch.setattr(definitions, "SERVICES_DIR", tmp_path)
    errors = checks.check_service_definitions()
    assert [e.id for e in errors] == ["catalog.E001"]
    assert "trust_level" in errors[0].msg


def test_the_system_check_reports_a_broken_form_schema_naming_service_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, VALID)
    (path.parent / "form.toml").write_text(
        """
[[steps]]
id = "person"
title = { de = "Person", en = "Person" }

[[steps.fields]]
id = "birth_date"
type = "date"
label = { de = "Geburtsdatum", en = "Date of birth" }
checks = [{ rule = "soon" }]
""",
        encoding="utf-8",
    )
    monkeypatch.setattr(definitions, "SERVICES_DIR", tmp_path)
    errors = checks.check_service_definitions()
    assert [e.id for e in errors] == ["catalog.E002"]
    assert "test-leistung" in errors[0].msg and "field 'birth_date'" in errors[0].msg


def test_the_system_check_passes_for_the_shipped_definitions() -> None:
    assert checks.check_service_definitions() == []


def test_migrate_has_loaded_the_catalog(db: None) -> None:
    assert set(Service.objects.values_list("slug", flat=True)) >= REQUIRED_SERVICES


def test_loading_again_changes_nothing(db: None) -> None:
    result = sync_catalog()
    assert (result.created, result.updated, result.deactivated) == (0, 0, 0)


def test_a_changed_file_updates_and_a_removed_folder_deactivates(tmp_path: Path, db: None) -> None:
    services = tmp_path / "services"
    shutil.copytree(definitions.SERVICES_DIR, services)
    text = (services / "meldebescheinigung" / "service.toml").read_text(encoding="utf-8")
    (services / "meldebescheinigung" / "service.toml").write_text(
        text.replace('de = "Meldebescheinigung beantragen"', 'de = "Meldebescheinigung"'),
        encoding="utf-8",
    )
    shutil.rmtree(services / "ehrenamtskarte")

    result = sync_catalog(services_dir=services)

    assert (result.updated, result.deactivated) == (1, 1)
    assert Service.objects.get(slug="meldebescheinigung").name_de == "Meldebescheinigung"
    assert not Service.objects.get(slug="ehrenamtskarte").is_active


def test_a_broken_file_stops_the_load_and_leaves_the_catalog_unchanged(
    tmp_path: Path, db: None
) -> None:
    services = tmp_path / "services"
    shutil.copytree(definitions.SERVICES_DIR, services)
    path = services / "wohngeld" / "service.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("online = true", "online = 1"))
    with pytest.raises(definitions.DefinitionError, match="online"):
        sync_catalog(services_dir=services)
    assert Service.objects.get(slug="wohngeld").online is True


def test_reloading_keeps_a_responsibility_an_administrator_changed(demo: None) -> None:
    registration = Responsibility.objects.get(
        service__slug="meldebescheinigung", municipality__slug="wuppertal"
    )
    wuppertal_office = Authority.objects.get(municipality__slug="wuppertal", kind="buergeramt")
    registration.authority = wuppertal_office
    registration.save()

    sync_catalog()
    call_command("load_demo", stdout=io.StringIO())

    registration.refresh_from_db()
    assert registration.authority == wuppertal_office


def test_a_service_switched_off_in_the_admin_stays_off_after_migrate(db: None) -> None:
    service = Service.objects.get(slug="strassenmusik")
    service.is_active = False
    service.save()
    sync_catalog()
    service.refresh_from_db()
    assert service.is_active is False


def test_a_service_switched_off_in_the_admin_stays_off_when_its_file_changes(
    tmp_path: Path, db: None
) -> None:
    Service.objects.filter(slug="meldebescheinigung").update(is_active=False)
    services = tmp_path / "services"
    shutil.copytree(definitions.SERVICES_DIR, services)
    path = services / "meldebescheinigung" / "service.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            'de = "Meldebescheinigung beantragen"', 'de = "Meldebescheinigung"'
        ),
        encoding="utf-8",
    )
    assert sync_catalog(services_dir=services).updated == 1
    service = Service.objects.get(slug="meldebescheinigung")
    assert service.name_de == "Meldebescheinigung"  # the file's text
    assert service.is_active is False  # the administrator's decision


def test_a_service_whose_folder_comes_back_is_active_again(tmp_path: Path, db: None) -> None:
    services = tmp_path / "services"
    shutil.copytree(definitions.SERVICES_DIR, services)
    shutil.move(services / "ehrenamtskarte", tmp_path / "ehrenamtskarte")
    sync_catalog(services_dir=services)
    assert not Service.objects.get(slug="ehrenamtskarte").is_active

    shutil.move(tmp_path / "ehrenamtskarte", services / "ehrenamtskarte")
    sync_catalog(services_dir=services)
    service = Service.objects.get(slug="ehrenamtskarte")
    assert service.is_active and not service.deactivated_by_sync
