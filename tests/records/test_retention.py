"""Retention: the period from the plan entry, its start on closing, the disposal due date."""

from __future__ import annotations

import datetime
import importlib
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from freezegun import freeze_time

from rathaus.core.models import AuditEvent, Authority
from rathaus.records.errors import RecordsError
from rathaus.records.models import File, FilePlan
from rathaus.records.selectors import files_due_for_disposal
from rathaus.records.services import (
    close_file,
    import_file_plan,
    open_file,
    reopen_file,
    retention_dates,
)
from tests.records.conftest import PLAN_CSV

D = datetime.date


def test_the_period_runs_from_the_end_of_the_year_the_file_was_closed() -> None:
    assert retention_dates(closed_on=D(2026, 5, 3), trigger="closed_year_end", years=10) == (
        D(2027, 1, 1),
        D(2037, 1, 1),
    )
    assert retention_dates(closed_on=D(2026, 12, 31), trigger="closed_year_end", years=0) == (
        D(2027, 1, 1),
        D(2027, 1, 1),
    )


def test_the_period_runs_from_the_day_of_closing_where_the_plan_says_so() -> None:
    # § 187 Abs. 1, § 188 Abs. 2 BGB: the day of closing is not counted; a year from 3 May
    # ends with 3 May of the next year, so the file is due on 4 May (not on the last day).
    assert retention_dates(closed_on=D(2026, 5, 3), trigger="closed", years=1) == (
        D(2026, 5, 4),
        D(2027, 5, 4),
    )
    # Closed on 29 February: the year ends with 28 February (§ 188 Abs. 3 BGB), due on 1 March.
    assert retention_dates(closed_on=D(2028, 2, 29), trigger="closed", years=1) == (
        D(2028, 3, 1),
        D(2029, 3, 1),
    )
    assert retention_dates(closed_on=D(2028, 2, 28), trigger="closed", years=1) == (
        D(2028, 2, 29),
        D(2029, 3, 1),
    )


def test_a_year_from_28_february_ends_on_28_february_of_a_leap_year() -> None:
    # § 188 Abs. 2 BGB counts from the day of closing, not from the day after: a year from
    # 28 February 2027 ends with 28 February 2028 (not 29 February), so it is due on 29 February.
    assert retention_dates(closed_on=D(2027, 2, 28), trigger="closed", years=1) == (
        D(2027, 3, 1),
        D(2028, 2, 29),
    )
    assert retention_dates(closed_on=D(2023, 2, 28), trigger="closed", years=5)[1] == D(2028, 2, 29)
    assert retention_dates(closed_on=D(2028, 2, 29), trigger="closed", years=4)[1] == D(2032, 3, 1)
    assert retention_dates(closed_on=D(2027, 2, 28), trigger="closed_year_end", years=1) == (
        D(2028, 1, 1),
        D(2029, 1, 1),
    )


@freeze_time("2027-02-28 10:00")
def test_a_file_closed_on_28_february_is_due_on_29_february_and_migration_0010_corrects_it(
    authority: Authority, plan: FilePlan
) -> None:
    migration = importlib.import_module(
        "rathaus.records.migrations.0010_retention_due_after_28_february"
    )
    closed, disposed = (
        close_file(
            file=open_file(authority=authority, plan_key="11.20.01", title=title, actor=None),
            actor=None,
        )
        for title in ("Briefwahl 2027", "Briefwahl 2026")
    )
    assert closed.disposal_due_on == D(2028, 2, 29)  # Briefwahl: one year from closing
    # as the old arithmetic left them: one not yet disposed of, one disposed of (its record stays)
    File.objects.update(disposal_due_on=D(2028, 3, 1))
    File.objects.filter(pk=disposed.pk).update(disposed_on=D(2028, 3, 1))
    migration.due_on_29_february(django_apps, None)
    assert File.objects.get(pk=closed.pk).disposal_due_on == D(2028, 2, 29)
    assert File.objects.get(pk=disposed.pk).disposal_due_on == D(2028, 3, 1)


def test_a_period_whose_due_date_would_be_after_the_year_9999_is_refused() -> None:
    with pytest.raises(RecordsError, match="9999"):
        retention_dates(closed_on=D(2026, 12, 31), trigger="closed", years=9999 - 2026)


def test_a_permanent_file_is_never_due() -> None:
    assert retention_dates(closed_on=D(2026, 5, 3), trigger="closed_year_end", years=None) == (
        D(2027, 1, 1),
        None,
    )


@freeze_time("2026-05-03 10:00")
def test_closing_sets_the_start_and_the_due_date_and_is_audited(
    authority: Authority, plan: FilePlan
) -> None:
    file = open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)
    closed = close_file(file=file, actor=None, closed_on=D(2026, 5, 3))
    for f in (file, closed):
        assert f.closed_on == D(2026, 5, 3)
        assert f.retention_starts_on == D(2027, 1, 1)
        assert f.disposal_due_on == D(2032, 1, 1)  # 5 years
    file.refresh_from_db()
    assert file.is_closed
    event = AuditEvent.objects.get(action="records.file_closed")
    assert event.before["disposal_due_on"] is None
    assert event.after["disposal_due_on"] == "2032-01-01"


@freeze_time("2026-05-03 10:00")
def test_the_period_is_the_one_of_the_plan_when_the_file_was_opened(
    authority: Authority, plan: FilePlan
) -> None:
    file = open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)
    import_file_plan(
        authority=authority,
        csv_text=PLAN_CSV.replace("11.30.01;An-, Um- und Abmeldungen;5", "11.30.01;Meldungen;8"),
    )
    assert close_file(file=file, actor=None).disposal_due_on == D(2032, 1, 1)


def test_a_period_ending_after_the_year_9999_is_refused_not_a_crash() -> None:
    with pytest.raises(RecordsError, match="9999"):
        retention_dates(closed_on=D(2026, 5, 3), trigger="closed_year_end", years=9000)


@freeze_time("2026-05-03 10:00")
def test_closing_a_file_whose_entry_has_a_huge_period_is_refused_with_a_message(
    authority: Authority, plan: FilePlan
) -> None:
    plan.entries.filter(key="11.30.01").update(retention_years=9000)  # past the admin's check
    file = open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)
    with pytest.raises(RecordsError, match="9999"):
        close_file(file=file, actor=None)
    assert not File.objects.get(pk=file.pk).is_closed
    assert not AuditEvent.objects.filter(action="records.file_closed").exists()


@freeze_time("2026-05-03 10:00")
def test_closing_twice_or_before_opening_is_refused(authority: Authority, plan: FilePlan) -> None:
    file = open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)
    with pytest.raises(RecordsError, match="nicht vor dem Tag"):
        close_file(file=file, actor=None, closed_on=D(2026, 5, 2))
    close_file(file=file, actor=None)
    with pytest.raises(RecordsError, match="ist bereits geschlossen"):
        close_file(file=file, actor=None)


@freeze_time("2026-05-03 10:00")
def test_reopening_stops_the_retention_clock(authority: Authority, plan: FilePlan) -> None:
    file = open_file(authority=authority, plan_key="11.20.01", title="Briefwahl", actor=None)
    close_file(file=file, actor=None)
    reopen_file(file=file, actor=None)
    file.refresh_from_db()
    assert (file.closed_at, file.retention_starts_on, file.disposal_due_on) == (None, None, None)
    assert AuditEvent.objects.filter(action="records.file_reopened").count() == 1
    with pytest.raises(RecordsError, match="ist nicht geschlossen"):
        reopen_file(file=file, actor=None)


def test_the_files_due_for_disposal_are_the_closed_ones_past_their_due_date(
    authority: Authority, other_authority: Authority, plan: FilePlan
) -> None:
    import_file_plan(authority=other_authority, csv_text=PLAN_CSV)
    with freeze_time("2020-02-01 10:00"):
        ballot = open_file(authority=authority, plan_key="11.20.01", title="Wahl", actor=None)
        close_file(file=ballot, actor=None)  # 1 year from closing, ends with 2021-02-01
        moved = open_file(authority=authority, plan_key="11.30.01", title="Umzug", actor=None)
        close_file(file=moved, actor=None)  # 5 years from 2021-01-01: due 2026-01-01
        kept = open_file(authority=authority, plan_key="11.50.01", title="Einb.", actor=None)
        close_file(file=kept, actor=None)  # permanent
        open_file(authority=authority, plan_key="11.20.01", title="Offen", actor=None)
        elsewhere = open_file(
            authority=other_authority, plan_key="11.20.01", title="Wahl", actor=None
        )
        close_file(file=elsewhere, actor=None)

    assert list(files_due_for_disposal(authority=authority, on=D(2021, 2, 1))) == []
    assert list(files_due_for_disposal(authority=authority, on=D(2021, 2, 2))) == [ballot]
    assert list(files_due_for_disposal(authority=authority, on=D(2100, 1, 1))) == [ballot, moved]
    assert set(files_due_for_disposal(on=D(2100, 1, 1))) == {ballot, moved, elsewhere}


def test_the_command_lists_the_files_due_as_csv(authority: Authority, plan: FilePlan) -> None:
    with freeze_time("2020-02-01 10:00"):
        ballot = open_file(authority=authority, plan_key="11.20.01", title="Wahl", actor=None)
        close_file(file=ballot, actor=None)
        open_file(authority=authority, plan_key="11.20.01", title="Offen", actor=None)
    out = StringIO()
    call_command("files_due_for_disposal", "wuppertal/buergeramt", "--on", "2021-02-02", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("authority;reference;title")
    assert lines[1:] == [
        f"{authority};11.20.01-0001/2020;Wahl;11.20.01;2020-02-01;1;2021-02-02;destroy;"
    ]
    with pytest.raises(CommandError, match="is not a date"):
        call_command("files_due_for_disposal", "--on", "morgen")
