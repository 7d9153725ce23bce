"""Every admin list with a date hierarchy refuses an impossible date as a wrong filter (no 500)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

pytestmark = pytest.mark.django_db

LISTS = sorted(
    (model._meta.app_label, model._meta.model_name, model_admin.date_hierarchy)
    for model, model_admin in admin.site._registry.items()
    if model_admin.date_hierarchy
)


def test_the_check_covers_the_admins_with_a_date_hierarchy() -> None:
    assert {label for label, _model, _field in LISTS} >= {"core", "mailbox", "records"}


@pytest.mark.parametrize(("app", "model", "field"), LISTS)
@pytest.mark.parametrize("dates", ["year=9999", "year=9999&{f}__month=12", "year=0"])
def test_an_impossible_date_in_the_address_is_a_wrong_filter(
    admin_client: Client, app: str, model: str, field: str, dates: str
) -> None:
    answer = admin_client.get(f"/admin/{app}/{model}/?{field}__{dates.format(f=field)}")
    assert answer.status_code == 302
    assert answer["Location"].endswith("?e=1")


def test_every_admin_with_autocomplete_fields_checks_the_sent_values() -> None:
    """Django's autocomplete widgets look a sent value up again without checking it (a 500 on
    ``authority=abc``); ``SafeAutocomplete`` keeps them to values the key can hold."""
    from rathaus.core.admin_lists import SafeAutocomplete

    admins = [
        (model._meta.label, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model.__module__.startswith("rathaus.")
    ]
    admins += [
        (f"{label} inline {inline.model._meta.label}", inline(model_admin.model, admin.site))
        for label, model_admin in list(admins)
        for inline in model_admin.inlines
    ]
    with_autocomplete = [(label, a) for label, a in admins if a.autocomplete_fields]
    assert len(with_autocomplete) >= 6
    unchecked = [label for label, a in with_autocomplete if not isinstance(a, SafeAutocomplete)]
    assert not unchecked, unchecked


@pytest.mark.parametrize("value", ["abc", "\x01", "99999999999999999999999", "2026-02-30"])
def test_a_value_no_key_can_hold_is_refused_beside_the_field(
    admin_client: Client, value: str
) -> None:
    answer = admin_client.post(
        "/admin/casework/servicerouting/add/", {"authority": value, "org_unit": value}
    )
    assert answer.status_code == 200
    assert answer.content.decode().count('class="errorlist') >= 2
