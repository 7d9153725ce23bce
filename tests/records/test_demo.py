"""The demo: every authority gets the municipal plan along the budget outline 0 to 9, and every
service's plan key names an entry there under which files can be opened."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from rathaus.catalog import definitions
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import Authority
from rathaus.records import plan_import
from rathaus.records.demo import DEMO_FILE_PLAN
from rathaus.records.models import FilePlan, PlanEntry
from rathaus.records.services import open_file


@pytest.fixture
def demo(db: None) -> None:
    call_command("load_demo", verbosity=0)


def test_every_demo_authority_has_the_municipal_plan_with_main_groups_0_to_9(demo: None) -> None:
    assert FilePlan.objects.count() == Authority.objects.count() > 30
    plan = FilePlan.objects.select_related("authority").first()
    assert plan is not None
    main_groups = plan.entries.filter(parent=None).values_list("key", flat=True)
    assert list(main_groups) == [str(d) for d in range(10)]


def test_loading_the_demo_again_keeps_what_the_administrator_changed(demo: None) -> None:
    entry = PlanEntry.objects.filter(key="11.30.01").first()
    assert entry is not None
    entry.title = "Meldeangelegenheiten"
    entry.save()
    call_command("load_demo", verbosity=0)
    entry.refresh_from_db()
    assert entry.title == "Meldeangelegenheiten"
    assert FilePlan.objects.count() == Authority.objects.count()


def test_every_service_names_a_subject_of_the_demo_plan() -> None:
    rows = {row.key: row for row in plan_import.parse(DEMO_FILE_PLAN.read_text(encoding="utf-8"))}
    situations = {s.slug for s in definitions.read_life_situations()}
    for service in definitions.read_services(life_situations=situations):
        assert service.file_plan_key in rows, service.slug
        row = rows[service.file_plan_key]
        assert row.retention_years is not None or row.retention_permanent, service.slug


def test_a_file_can_be_opened_for_every_service_where_it_is_handled(demo: None) -> None:
    responsibilities = Responsibility.objects.select_related("service", "authority")
    assert responsibilities.exists()
    for row in responsibilities:
        file = open_file(
            authority=row.authority,
            plan_key=row.service.file_plan_key,
            title=row.service.name_de,
            actor=None,
        )
        assert file.reference.startswith(f"{row.service.file_plan_key}-")
        assert file.retention_years is not None or file.disposal_action == "archive"
    assert Service.objects.get(slug="wohnsitz-anmelden").file_plan_key == "11.30.01"
