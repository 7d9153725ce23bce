"""Importing incidents is idempotent, and a NUL character in a CSV is refused with its line."""

from __future__ import annotations

import pytest

from rathaus.core.models import AuditEvent
from rathaus.rescue.__main__ import main
from rathaus.rescue.demand import DemandFileError, parse_demand_text
from rathaus.rescue.incidents import read_incidents
from rathaus.rescue.models import Incident, Region
from rathaus.rescue.services import import_incidents

HEADER = "time,region,location,area,response_minutes\n"
INCIDENTS = [
    HEADER,
    "2024-01-01T10:00:00,Aachen,Markt 1,urban,7\n",
    "2024-01-01T11:00:00,Aachen,Markt 2,urban,9\n",
]


@pytest.mark.django_db
def test_importing_the_same_incident_file_twice_stores_each_incident_once():
    first = import_incidents(records=read_incidents(INCIDENTS), actor=None)
    again = import_incidents(records=read_incidents(INCIDENTS), actor=None)
    assert Incident.objects.count() == 2
    assert (first.rows, first.skipped) == (2, 0)
    assert (again.rows, again.skipped) == (0, 2)
    region = Region.objects.get(name="Aachen")
    events = AuditEvent.objects.filter(
        action="rescue.incidents_imported", object_id=str(region.pk)
    ).order_by("id")
    assert [e.after for e in events] == [
        {"incidents": 2, "skipped": 0},
        {"incidents": 0, "skipped": 2},
    ]


@pytest.mark.django_db
def test_an_overlapping_export_adds_only_the_new_incidents():
    import_incidents(records=read_incidents(INCIDENTS), actor=None)
    overlapping = [*INCIDENTS[:1], INCIDENTS[2], "2024-01-01T12:00:00,Aachen,Markt 3,rural,11\n"]
    result = import_incidents(records=read_incidents(overlapping), actor=None)
    assert (result.rows, result.skipped) == (1, 1)
    assert sorted(Incident.objects.values_list("location", flat=True)) == [
        "Markt 1",
        "Markt 2",
        "Markt 3",
    ]


@pytest.mark.django_db
def test_the_command_line_names_the_incidents_skipped_on_a_second_import(tmp_path, capsys):
    path = tmp_path / "incidents.csv"
    path.write_text("".join(INCIDENTS), encoding="utf-8")
    assert main(["import", "--incidents", str(path)]) == 0
    assert main(["import", "--incidents", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "incidents: 2 in 1 region(s), 0 skipped (stored already)",
        "incidents: 0 in 1 region(s), 2 skipped (stored already)",
    ]
    assert Incident.objects.count() == 2


def test_a_nul_character_in_an_incident_row_is_refused_with_its_line():
    lines = [*INCIDENTS, "2024-01-01T12:00:00,Aachen,Mar\x00kt 3,urban,7\n"]
    with pytest.raises(DemandFileError) as caught:
        read_incidents(lines)
    assert [str(e) for e in caught.value.errors] == ["line 4: contains a NUL character (\\x00)"]


def test_a_nul_character_in_a_demand_row_is_refused_with_its_line():
    text = "date,region,responses\n2024-01-01,Aachen,5\n2024-01-02,Aa\x00chen,6\n"
    with pytest.raises(DemandFileError) as caught:
        parse_demand_text(text)
    assert [str(e) for e in caught.value.errors] == ["line 3: contains a NUL character (\\x00)"]


@pytest.mark.django_db
def test_importing_a_file_with_a_nul_character_ends_with_an_error_and_stores_nothing(
    tmp_path, capsys
):
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(HEADER + "2024-01-01T10:00:00,Aachen,Markt\x001,urban,7\n")
    assert main(["import", "--incidents", str(incidents)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {incidents}: 1 malformed row(s): line 2: contains a NUL")
    demand = tmp_path / "demand.csv"
    demand.write_text("date,region,responses\n2024-01-01,Aa\x00chen,5\n")
    assert main(["import", "--demand", str(demand)]) == 2
    assert "line 2: contains a NUL character" in capsys.readouterr().err
    assert not Incident.objects.exists() and not Region.objects.exists()
