"""English pages write dates as a German authority does (27.03.1985), not in the US order
(03/27/1985) beside German dates on the same page; date fields still read ISO (type=date)."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.test import Client
from django.utils import translation
from django.utils.formats import date_format, get_format

from tests.accounts.factories import PASSWORD, ProfileFactory

BIRTHDAY = datetime.date(1985, 3, 27)
MOMENT = datetime.datetime(2026, 11, 28, 14, 5)


@pytest.mark.parametrize("language", ["de", "en"])
def test_short_dates_are_day_month_year_in_both_languages(language: str) -> None:
    with translation.override(language):
        assert date_format(BIRTHDAY, "SHORT_DATE_FORMAT") == "27.03.1985"
        assert date_format(MOMENT, "SHORT_DATETIME_FORMAT") == "28.11.2026 14:05"


def test_english_times_use_the_24_hour_clock() -> None:
    with translation.override("en"):
        assert date_format(MOMENT, "TIME_FORMAT") == "14:05"
        assert "14:05" in date_format(MOMENT, "DATETIME_FORMAT")
        assert get_format("FIRST_DAY_OF_WEEK") == 1  # Monday


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("typed", ["1985-03-27", "27.03.1985"])
def test_a_date_field_reads_iso_and_the_german_order(language: str, typed: str) -> None:
    with translation.override(language):
        field = forms.DateField()
        assert field.clean(typed) == BIRTHDAY


def test_an_english_date_field_does_not_read_the_ambiguous_us_order() -> None:
    with translation.override("en"), pytest.raises(forms.ValidationError):
        forms.DateField().clean("03/27/1985")


def test_an_english_date_input_is_filled_in_iso_as_type_date_needs() -> None:
    with translation.override("en"):
        rendered = forms.DateInput(attrs={"type": "date"}).render("day", BIRTHDAY)
    assert 'value="1985-03-27"' in rendered


@pytest.mark.django_db
def test_the_english_account_page_shows_the_birth_date_day_first(client: Client) -> None:
    user = ProfileFactory(birth_date=BIRTHDAY).user
    client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/konto/").content.decode()
    assert 'lang="en"' in page
    assert "27.03.1985" in page
    assert "03/27/1985" not in page
