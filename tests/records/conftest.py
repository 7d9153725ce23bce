"""A small authority with a file plan, built directly (faster than the whole demo)."""

from __future__ import annotations

import pytest

from rathaus.core.models import Authority, Municipality, OrgUnit
from rathaus.records.models import FilePlan
from rathaus.records.services import import_file_plan

PLAN_CSV = """key;title;retention_years;retention_trigger;disposal;description
1;Öffentliche Sicherheit und Ordnung;;;;
11;Öffentliche Ordnung;10;;;
11.30;Meldewesen;;;;
11.30.01;An-, Um- und Abmeldungen;5;;evaluate;Bundesmeldegesetz
11.30.02;Meldebescheinigungen;;;;
11.50;Staatsangehörigkeit;;;;
11.50.01;Einbürgerungen;dauernd;;archive;
11.20;Wahlen;;;;
11.20.01;Briefwahl;1;closed;destroy;
"""


@pytest.fixture
def municipality(db: None) -> Municipality:
    return Municipality.objects.create(
        name="Wuppertal", slug="wuppertal", ags="05124000", state="NW"
    )


@pytest.fixture
def authority(municipality: Municipality) -> Authority:
    return Authority.objects.create(
        municipality=municipality, kind="buergeramt", name="Bürgerbüro Wuppertal"
    )


@pytest.fixture
def other_authority(db: None) -> Authority:
    solingen = Municipality.objects.create(
        name="Solingen", slug="solingen", ags="05122000", state="NW"
    )
    return Authority.objects.create(
        municipality=solingen, kind="buergeramt", name="Bürgerbüro Solingen"
    )


@pytest.fixture
def unit(authority: Authority) -> OrgUnit:
    return OrgUnit.objects.create(authority=authority, code="33.1", name="Meldewesen")


@pytest.fixture
def plan(authority: Authority) -> FilePlan:
    return import_file_plan(authority=authority, csv_text=PLAN_CSV, name="Aktenplan Bürgerbüro")
