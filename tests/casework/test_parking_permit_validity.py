"""The residents' parking permit names its period of validity: from the chosen day, never from
before the notice is issued, for one year (§ 188 Abs. 2 and 3 BGB)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.casework import notice_templates, services
from rathaus.casework.errors import NoticeTemplateError
from rathaus.casework.models import Case, Notice
from rathaus.catalog.models import Service
from rathaus.core.models import Authority, OrgUnit

PERMIT_ANSWERS = {
    "name": {"given_names": "Erika", "family_name": "Mustermann"},
    "address": {
        "street": "Neumarkt",
        "house_number": "10",
        "postal_code": "42103",
        "place": "Wuppertal",
    },
    "zone": "Elberfeld-Mitte 3",
    "plate": "W-AB 1234",
    "holder": "self",
}


@pytest.fixture(autouse=True)
def _fresh_templates() -> None:
    notice_templates.clear_caches()


@pytest.fixture
def make_permit_case(
    demo: None, buergeramt: Authority, meldewesen: OrgUnit, citizen: User
) -> Callable[..., Case]:
    """A Bewohnerparkausweis case applied for on ``opened_on`` with the start ``start_date``."""
    service = Service.objects.get(slug="bewohnerparkausweis")

    def make(*, start_date: str, opened_on: str) -> Case:
        with freeze_time(f"{opened_on} 09:00:00"):
            return services.open_case(
                service=service,
                authority=buergeramt,
                org_unit=meldewesen,
                applicant=citizen,
                title=service.name_de,
                actor=citizen,
                particulars={**PERMIT_ANSWERS, "start_date": start_date},
            )

    return make


def _issue(case: Case, clerk: User, *, drafted_on: str, issued_on: str) -> Notice:
    with freeze_time(f"{drafted_on} 10:00:00"):
        draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
    with freeze_time(f"{issued_on} 11:00:00"):
        issued = services.issue_notice(notice=draft, actor=clerk)
    assert timezone.localdate(issued.issued_at) == datetime.date.fromisoformat(issued_on)
    return issued


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def test_a_start_already_past_at_issue_is_moved_to_the_day_of_issue(
    make_permit_case: Callable[..., Case], clerk: User
) -> None:
    """Applied for on 01.06. with the start 01.06., issued on 15.06.: the sealed permit is not
    backdated, and it ends a year after the day it starts."""
    case = make_permit_case(start_date="2026-06-01", opened_on="2026-06-01")
    issued = _issue(case, clerk, drafted_on="2026-06-15", issued_on="2026-06-15")
    assert "Gültig ab: 15.06.2026\nGültig bis: 14.06.2027\n" in issued.body
    assert "01.06.2026" not in issued.body.replace("Antrag vom 01.06.2026", "")
    text = _pdf_text(issued.pdf.read())
    assert "Gültig ab: 15.06.2026" in text and "Gültig bis: 14.06.2027" in text


def test_a_start_after_the_issue_is_kept_and_the_permit_ends_the_day_before_a_year_on(
    make_permit_case: Callable[..., Case], clerk: User
) -> None:
    case = make_permit_case(start_date="2026-06-01", opened_on="2026-05-20")
    issued = _issue(case, clerk, drafted_on="2026-05-22", issued_on="2026-05-25")
    assert "Gültig ab: 01.06.2026\nGültig bis: 31.05.2027\n" in issued.body


def test_a_start_on_the_day_of_issue_is_kept(
    make_permit_case: Callable[..., Case], clerk: User
) -> None:
    case = make_permit_case(start_date="2026-06-15", opened_on="2026-06-01")
    issued = _issue(case, clerk, drafted_on="2026-06-15", issued_on="2026-06-15")
    assert "Gültig ab: 15.06.2026\nGültig bis: 14.06.2027\n" in issued.body


def test_a_permit_from_29_february_ends_on_28_february(
    make_permit_case: Callable[..., Case], clerk: User
) -> None:
    """§ 188 Abs. 3 BGB: the following year has no 29 February; the period ends with the last
    day of that month."""
    case = make_permit_case(start_date="2028-02-29", opened_on="2028-02-10")
    issued = _issue(case, clerk, drafted_on="2028-02-20", issued_on="2028-02-21")
    assert "Gültig ab: 29.02.2028\nGültig bis: 28.02.2029\n" in issued.body


def test_a_permit_issued_on_29_february_after_its_start_ends_on_28_february(
    make_permit_case: Callable[..., Case], clerk: User
) -> None:
    case = make_permit_case(start_date="2028-02-20", opened_on="2028-02-10")
    issued = _issue(case, clerk, drafted_on="2028-02-28", issued_on="2028-02-29")
    assert "Gültig ab: 29.02.2028\nGültig bis: 28.02.2029\n" in issued.body


def test_the_validity_is_counted_from_the_issue_not_from_the_draft(
    make_permit_case: Callable[..., Case], clerk: User
) -> None:
    """The draft keeps the period as placeholders (the text a second clerk approves is the text
    issued); it is filled in from the day the notice is actually issued."""
    case = make_permit_case(start_date="2026-06-01", opened_on="2026-06-01")
    with freeze_time("2026-06-10 10:00:00"):
        draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
    assert "Gültig ab: {{ valid_from }}\nGültig bis: {{ valid_until }}\n" in draft.body
    with freeze_time("2026-06-15 11:00:00"):
        issued = services.issue_notice(notice=draft, actor=clerk)
    assert "Gültig ab: 15.06.2026\nGültig bis: 14.06.2027\n" in issued.body


@pytest.mark.parametrize(
    ("chosen", "issued_on", "expected"),
    [
        ("2026-06-01", "2026-06-15", ("2026-06-15", "2027-06-14")),
        ("2026-06-01", "2026-05-25", ("2026-06-01", "2027-05-31")),
        ("2028-02-29", "2028-02-21", ("2028-02-29", "2029-02-28")),
        ("2027-03-01", "2027-02-01", ("2027-03-01", "2028-02-29")),  # into a leap year
        (None, "2026-12-31", ("2026-12-31", "2027-12-30")),
    ],
)
def test_validity_period(chosen: str | None, issued_on: str, expected: tuple[str, str]) -> None:
    period = notice_templates.validity_period(
        chosen_start=datetime.date.fromisoformat(chosen) if chosen else None,
        issued_on=datetime.date.fromisoformat(issued_on),
        years=1,
    )
    assert period == tuple(datetime.date.fromisoformat(day) for day in expected)


def _service_folder(tmp_path: Path, *, casework_toml: str, body: str) -> str:
    folder = tmp_path / "beispiel"
    (folder / "notices").mkdir(parents=True)
    (folder / "notices" / "granted.toml").write_text(
        'title_de = "T"\ntitle_en = "T"\noutcome = "granted"\nlegal_basis = "§ 1"\n'
        f'remedy = "R"\nbody = "{body}"\n'
    )
    (folder / "casework.toml").write_text(casework_toml)
    return str(tmp_path)


def test_a_template_naming_a_validity_the_service_does_not_define_is_reported(
    tmp_path: Path,
) -> None:
    folder = _service_folder(tmp_path, casework_toml="", body="Gültig bis: {{ valid_until }}")
    with override_settings(CASEWORK_SERVICES_DIR=folder):
        errors = [str(e) for e in notice_templates.check_all()]
    notice_templates.clear_caches()
    assert len(errors) == 1
    assert "beispiel" in errors[0] and "valid_until" in errors[0] and "[validity]" in errors[0]


@pytest.mark.parametrize(
    ("validity", "named"),
    [
        ('start_field = "start_date"\nyears = 0\n', "validity.years"),
        ('start_field = "start_date"\nyears = true\n', "validity.years"),
        ('start_field = "Start Date"\nyears = 1\n', "validity.start_field"),
        ('start_field = "start_date"\n', "'validity'"),
        ('start_field = "start_date"\nyears = 1\nmonths = 6\n', "'validity'"),
    ],
)
def test_a_broken_validity_rule_is_reported(tmp_path: Path, validity: str, named: str) -> None:
    folder = _service_folder(
        tmp_path, casework_toml=f"[validity]\n{validity}", body="Gültig ab: {{ valid_from }}"
    )
    with override_settings(CASEWORK_SERVICES_DIR=folder):
        errors = [str(e) for e in notice_templates.check_all()]
    notice_templates.clear_caches()
    assert len(errors) == 1
    assert "beispiel" in errors[0] and "casework.toml" in errors[0] and named in errors[0]


def test_a_validity_typed_into_a_notice_of_a_service_without_one_is_refused_at_issue(
    case: Case, clerk: User
) -> None:
    draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
    services.update_notice(
        notice=draft, actor=clerk, body=draft.body + "\nGültig bis: {{ valid_until }}"
    )
    with pytest.raises(NoticeTemplateError, match="valid_until"):
        services.issue_notice(notice=draft, actor=clerk)
    draft.refresh_from_db()
    assert draft.status == Notice.Status.DRAFT


def test_the_shipped_permit_template_names_both_dates() -> None:
    granted = notice_templates.template("bewohnerparkausweis", "granted")
    values: dict[str, Any] = notice_templates.keeping_issue_placeholders(
        {
            "opened_on": "01.06.2026",
            "case_number": "2026-000001",
            "applicant_name": "Erika Mustermann",
            "authority_name": "Straßenverkehrsamt",
            "court": "Verwaltungsgericht Düsseldorf",
            "particulars": notice_templates.template_values(
                {**PERMIT_ANSWERS, "start_date": "2026-06-01"}
            ),
        }
    )
    body = notice_templates.fill_issue_placeholders(
        granted.fill(values)["body"],
        decided_on=datetime.date(2026, 6, 15),
        service_slug="bewohnerparkausweis",
        particulars={"start_date": "2026-06-01"},
    )
    assert "Gültig ab: 15.06.2026\nGültig bis: 14.06.2027\n" in body
