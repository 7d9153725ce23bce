"""The file plan: decimal hierarchy, CSV import with row-exact errors, re-import, command."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rathaus.core.models import AuditEvent, Authority
from rathaus.records import file_plan
from rathaus.records.errors import PlanImportError, RecordsError
from rathaus.records.models import FilePlan, PlanEntry
from rathaus.records.services import import_file_plan, open_file
from tests.records.conftest import PLAN_CSV


@pytest.mark.parametrize(
    ("key", "parent"),
    [("3", None), ("32", "3"), ("321", "32"), ("32.10", "32"), ("32.10.05", "32.10")],
)
def test_the_group_above_a_key_follows_the_decimal_hierarchy(key: str, parent: str | None) -> None:
    assert file_plan.parent_key(key) == parent


def test_keys_sort_as_the_plan_reads() -> None:
    keys = ["32.10", "4", "3", "32.2", "32", "32.10.05", "31"]
    assert sorted(keys, key=file_plan.sort_key) == [
        "3",
        "31",
        "32",
        "32.2",
        "32.10",
        "32.10.05",
        "4",
    ]


def test_import_builds_the_hierarchy_with_parents_from_the_keys(plan: FilePlan) -> None:
    entries = {e.key: e for e in plan.entries.select_related("parent")}
    assert len(entries) == 9
    assert entries["11.30.01"].parent == entries["11.30"]
    assert entries["11.30"].parent == entries["11"]
    assert entries["11"].parent == entries["1"]
    assert entries["1"].parent is None
    assert entries["11.30.01"].title == "An-, Um- und Abmeldungen"
    assert entries["11.30.01"].description == "Bundesmeldegesetz"
    assert [e.key for e in plan.entries.all()] == [
        "1", "11", "11.20", "11.20.01", "11.30", "11.30.01", "11.30.02", "11.50", "11.50.01"
    ]  # fmt: skip


def test_retention_comes_from_the_entry_or_the_nearest_group_above(plan: FilePlan) -> None:
    entries = {e.key: e for e in plan.entries.all()}
    assert entries["11.30.01"].retention() == (5, False)
    assert entries["11.30.02"].retention() == (10, False)  # from group 11
    assert entries["11.50.01"].retention() == (None, True)  # dauernd
    assert entries["1"].retention() == (None, False)
    assert entries["11.20.01"].retention_trigger == "closed"
    assert entries["11.20.01"].disposal_action == "destroy"


def test_a_comma_separated_file_with_byte_order_mark_is_read(authority: Authority) -> None:
    text = "\ufeffkey,title,retention_years\n0,Allgemeine Verwaltung,10\n02,Hauptverwaltung,\n"
    plan = import_file_plan(authority=authority, csv_text=text)
    assert plan.name == "Aktenplan Bürgerbüro Wuppertal"
    assert sorted(plan.entries.values_list("key", flat=True)) == ["0", "02"]


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("11.x;Falsch;5;;;", "ist kein Aktenplankennzeichen"),
        ("11.40;;5;;;", "Der Titel ist leer"),
        ("11.40;Personenstand;zehn;;;", "Aufbewahrungsfrist „zehn“"),
        # ASCII digits only: str.isdigit() accepts "²", int() refuses it and 5000 digits
        ("11.40;Personenstand;²;;;", "Aufbewahrungsfrist „²“"),
        ("11.40;Personenstand;\u0663;;;", "Aufbewahrungsfrist „\u0663“"),  # Arabic-Indic 3
        ("11.40;Personenstand;" + "9" * 5000 + ";;;", "Aufbewahrungsfrist „99999999999999999999…“"),
        ("\u0661\u0661.\u0664\u0660;Personenstand;5;;;", "ist kein Aktenplankennzeichen"),
        ("11.40;Personenstand;5;bald;;", "Fristbeginn „bald“"),
        ("11.40;Personenstand;5;;verbrennen;", "Aussonderungsart „verbrennen“"),
        ("11.30;Meldewesen doppelt;5;;;", "steht schon in Zeile 4"),
        ("11.40.01;Geburten;110;;;", "Die Gruppe 11.40 über 11.40.01 fehlt"),
        ("11.40;Personenstand;5", "3 Werte, die Kopfzeile hat aber 6 Spalten"),
    ],
)
def test_a_malformed_row_is_reported_with_its_number_and_reason_and_nothing_is_imported(
    authority: Authority, bad_line: str, reason: str
) -> None:
    text = PLAN_CSV + bad_line + "\n"
    bad_row = text.strip().count("\n") + 1
    with pytest.raises(PlanImportError) as error:
        import_file_plan(authority=authority, csv_text=text)
    rows = [row for row, _ in error.value.problems]
    assert rows == [bad_row], error.value.problems
    assert reason in error.value.problems[0][1]
    assert f"Zeile {bad_row}: " in str(error.value)
    assert not FilePlan.objects.exists()
    assert not PlanEntry.objects.exists()


def test_every_malformed_row_is_reported_at_once(authority: Authority) -> None:
    text = "key;title\n1;Ordnung\n1.x;Falsch\n12;\n"
    with pytest.raises(PlanImportError) as error:
        import_file_plan(authority=authority, csv_text=text)
    assert [row for row, _ in error.value.problems] == [3, 4]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Die Datei ist leer"),
        ("titel;schluessel\n1;A\n", "Die Spalte(n) key, title fehlen"),
        ("key;title;farbe\n1;A;blau\n", "Unbekannte Spalte(n) farbe"),
        ("key;title\n", "Die Datei enthält keine Einträge"),
    ],
)
def test_a_malformed_header_is_reported_as_row_one(
    authority: Authority, text: str, reason: str
) -> None:
    with pytest.raises(PlanImportError) as error:
        import_file_plan(authority=authority, csv_text=text)
    assert error.value.problems[0][0] == 1
    assert reason in error.value.problems[0][1]


def test_reimport_updates_entries_and_adds_new_ones(authority: Authority, plan: FilePlan) -> None:
    text = PLAN_CSV.replace("11.30.01;An-, Um- und Abmeldungen;5", "11.30.01;Meldungen;6")
    text += "11.40;Personenstandswesen;;;;\n11.40.01;Geburten;110;;archive;\n"
    import_file_plan(authority=authority, csv_text=text)
    entry = plan.entries.get(key="11.30.01")
    assert (entry.title, entry.retention_years) == ("Meldungen", 6)
    assert plan.entries.get(key="11.40.01").parent == plan.entries.get(key="11.40")
    assert plan.entries.count() == 11
    assert FilePlan.objects.count() == 1


def test_reimport_deletes_unused_entries_but_keeps_used_ones_inactive_with_their_groups(
    authority: Authority, plan: FilePlan
) -> None:
    file = open_file(authority=authority, plan_key="11.50.01", title="Einbürgerung", actor=None)
    text = "key;title;retention_years\n1;Öffentliche Sicherheit und Ordnung;\n11;Ordnung;10\n"
    import_file_plan(authority=authority, csv_text=text)
    keys = dict(plan.entries.values_list("key", "is_active"))
    assert keys == {"1": True, "11": True, "11.50": False, "11.50.01": False}
    file.refresh_from_db()
    assert file.plan_entry.key == "11.50.01"
    with pytest.raises(RecordsError, match="wird nicht mehr verwendet"):
        open_file(authority=authority, plan_key="11.50.01", title="Noch eine", actor=None)
    # Listed again, the entry is active again and takes new files.
    import_file_plan(authority=authority, csv_text=PLAN_CSV)
    assert plan.entries.get(key="11.50.01").is_active
    open_file(authority=authority, plan_key="11.50.01", title="Noch eine", actor=None)


def test_import_is_audited(authority: Authority, plan: FilePlan) -> None:
    event = AuditEvent.objects.get(action="records.file_plan_imported")
    assert event.object_id == str(plan.pk)
    assert event.after["created"] == 9
    assert event.municipality == authority.municipality


def test_the_command_imports_a_plan_file(authority: Authority, tmp_path: Path) -> None:
    path = tmp_path / "aktenplan.csv"
    path.write_text(PLAN_CSV, encoding="utf-8")
    out = StringIO()
    call_command("import_file_plan", "wuppertal/buergeramt", str(path), stdout=out)
    assert "9 entries" in out.getvalue()
    assert authority.file_plan.entries.count() == 9
    event = AuditEvent.objects.get(action="records.file_plan_imported")
    assert event.actor_label == "manage.py import_file_plan"


def test_the_command_names_the_malformed_row(authority: Authority, tmp_path: Path) -> None:
    path = tmp_path / "aktenplan.csv"
    path.write_text(PLAN_CSV + "11.x;Falsch;5;;;\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"Zeile 11: „11\.x“ ist kein Aktenplankennzeichen"):
        call_command("import_file_plan", str(authority.pk), str(path))
    assert not FilePlan.objects.exists()


@pytest.mark.parametrize("label", ["atlantis/buergeramt", "\u00b2", "9" * 5000])
def test_the_command_refuses_an_unknown_authority(db: None, tmp_path: Path, label: str) -> None:
    with pytest.raises(CommandError, match="No authority"):
        call_command("import_file_plan", label, str(tmp_path / "x.csv"))
